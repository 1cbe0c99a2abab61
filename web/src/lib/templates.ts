import { isProject, type SourceFile } from "./files";

// Starting programs per language, matched on the Judge0-style name the server gives
// ("C (GCC 12.2.0)", "Python (3.11.2)"...). Each reads a line of stdin if there is one.

interface Template {
  match: RegExp;
  code: string;
}

const TEMPLATES: Template[] = [
  {
    match: /^C\+\+/,
    code: `#include <iostream>
#include <string>

int main() {
    std::string name;
    if (!std::getline(std::cin, name) || name.empty()) name = "world";
    std::cout << "Hello, " << name << "!" << std::endl;
    return 0;
}
`,
  },
  {
    match: /^C \(|^C$/,
    code: `#include <stdio.h>
#include <string.h>

int main(void) {
    char name[256] = "world";
    if (fgets(name, sizeof name, stdin)) name[strcspn(name, "\\n")] = '\\0';
    if (name[0] == '\\0') strcpy(name, "world");
    printf("Hello, %s!\\n", name);
    return 0;
}
`,
  },
  {
    match: /^C#/,
    code: `using System;

public class Program {
    public static void Main() {
        string name = Console.ReadLine();
        if (string.IsNullOrEmpty(name)) name = "world";
        Console.WriteLine($"Hello, {name}!");
    }
}
`,
  },
  {
    match: /^Python/,
    code: `import sys

name = sys.stdin.readline().strip() or "world"
print(f"Hello, {name}!")
`,
  },
  {
    match: /^Java \(|^Java$/,
    code: `import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        String name = in.hasNextLine() ? in.nextLine().trim() : "";
        if (name.isEmpty()) name = "world";
        System.out.println("Hello, " + name + "!");
    }
}
`,
  },
  {
    match: /^JavaScript/,
    code: `const input = require("fs").readFileSync(0, "utf8");
const name = input.split("\\n")[0].trim() || "world";
console.log(\`Hello, \${name}!\`);
`,
  },
  {
    match: /^TypeScript/,
    code: `declare const require: (m: string) => { readFileSync(fd: number, enc: string): string };
const input: string = require("fs").readFileSync(0, "utf8");
const who: string = input.split("\\n")[0].trim() || "world";
console.log(\`Hello, \${who}!\`);
`,
  },
  {
    match: /^Go\b/,
    code: `package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
	name := strings.TrimSpace(line)
	if name == "" {
		name = "world"
	}
	fmt.Printf("Hello, %s!\\n", name)
}
`,
  },
  {
    match: /^Rust/,
    code: `use std::io::{self, BufRead};

fn main() {
    let mut name = String::new();
    io::stdin().lock().read_line(&mut name).unwrap_or(0);
    let name = name.trim();
    let name = if name.is_empty() { "world" } else { name };
    println!("Hello, {}!", name);
}
`,
  },
  { match: /^Bash/, code: `read -r name\necho "Hello, \${name:-world}!"\n` },
  { match: /^Ruby/, code: `name = ($stdin.gets || "").strip\nname = "world" if name.empty?\nputs "Hello, #{name}!"\n` },
  { match: /^PHP/, code: `<?php\n$name = trim((string) fgets(STDIN));\nif ($name === "") $name = "world";\necho "Hello, $name!\\n";\n` },
  { match: /^Perl/, code: `my $name = <STDIN> // "";\nchomp $name;\n$name = "world" if $name eq "";\nprint "Hello, $name!\\n";\n` },
  { match: /^Lua/, code: `local name = io.read("l") or ""\nif name == "" then name = "world" end\nprint("Hello, " .. name .. "!")\n` },
  { match: /^Haskell/, code: `main :: IO ()\nmain = do\n  input <- getContents\n  let name = case lines input of\n        (l:_) | not (null l) -> l\n        _ -> "world"\n  putStrLn ("Hello, " ++ name ++ "!")\n` },
  { match: /^Kotlin/, code: `fun main() {\n    val name = readLine()?.trim().orEmpty().ifEmpty { "world" }\n    println("Hello, $name!")\n}\n` },
  { match: /^Scala/, code: `object Main {\n  def main(args: Array[String]): Unit = {\n    val line = scala.io.StdIn.readLine()\n    val name = if (line == null || line.trim.isEmpty) "world" else line.trim\n    println(s"Hello, $name!")\n  }\n}\n` },
  { match: /^SQL/, code: `SELECT 'Hello, world!';\n` },
  { match: /^R \(|^R$/, code: `cat("Hello, world!\\n")\n` },
  { match: /^Pascal/, code: `program Hello;\nbegin\n  writeln('Hello, world!');\nend.\n` },
  { match: /^Fortran/, code: `program hello\n  print '(A)', 'Hello, world!'\nend program hello\n` },
  { match: /^D \(/, code: `import std.stdio, std.string;\n\nvoid main() {\n    auto name = readln().strip();\n    if (name.length == 0) name = "world";\n    writeln("Hello, ", name, "!");\n}\n` },
  { match: /^Groovy/, code: `def name = System.in.newReader().readLine()?.trim() ?: "world"\nprintln "Hello, \${name}!"\n` },
  { match: /^Elixir/, code: `IO.puts("Hello, world!")\n` },
  { match: /^OCaml/, code: `let () =\n  let name = try String.trim (input_line stdin) with End_of_file -> "" in\n  let name = if name = "" then "world" else name in\n  Printf.printf "Hello, %s!\\n" name\n` },
  { match: /^Octave/, code: `printf("Hello, world!\\n");\n` },
  { match: /^Clojure/, code: `(let [line (read-line)\n      name (if (or (nil? line) (empty? line)) "world" line)]\n  (println (str "Hello, " name "!")))\n` },
  { match: /^Common Lisp/, code: `(let* ((line (read-line *standard-input* nil ""))\n       (name (if (string= line "") "world" line)))\n  (format t "Hello, ~a!~%" name))\n` },
  { match: /^Erlang/, code: `-module(main).\n-export([main/1]).\n\nmain(_Args) ->\n    io:format("Hello, world!~n").\n` },
  { match: /^Prolog/, code: `:- initialization(main).\nmain :- write('Hello, world!'), nl, halt.\n` },
  { match: /^Objective-C/, code: `#import <stdio.h>\n\nint main(void) {\n    printf("Hello, world!\\n");\n    return 0;\n}\n` },
  { match: /^Assembly/, code: `section .data\n    msg db "Hello, world!", 10\n    len equ $ - msg\n\nsection .text\n    global _start\n\n_start:\n    mov rax, 1          ; write(1, msg, len)\n    mov rdi, 1\n    mov rsi, msg\n    mov rdx, len\n    syscall\n    mov rax, 60         ; exit(0)\n    xor rdi, rdi\n    syscall\n` },
  { match: /^COBOL/, code: `       IDENTIFICATION DIVISION.\n       PROGRAM-ID. HELLO.\n       PROCEDURE DIVISION.\n           DISPLAY "Hello, world!".\n           STOP RUN.\n` },
  { match: /^Plain Text/, code: `Hello, world!\n` },
  // Executable runs the program as is: a script with a #! line can be typed here.
  { match: /^Executable/, code: `#!/bin/sh\nread -r name\necho "Hello, \${name:-world}!"\n` },
  // Multi-file program: the first tab is main.c; util.c, util.h and the scripts are the extra files (MULTI_FILE_EXTRA).
  {
    match: /^Multi-file program/,
    code: `#include <stdio.h>
#include <string.h>
#include "util.h"

int main(void) {
    char name[256] = "world";
    if (fgets(name, sizeof name, stdin)) name[strcspn(name, "\\n")] = '\\0';
    greet(name[0] ? name : "world");
    return 0;
}
`,
  },
];

/** The starting multi-file program's files after main.c: a C program in two files, with its scripts. */
const MULTI_FILE_EXTRA: SourceFile[] = [
  {
    name: "util.c",
    content: `#include <stdio.h>
#include "util.h"

void greet(const char *name) {
    printf("Hello, %s!\\n", name);
}
`,
  },
  { name: "util.h", content: `#ifndef UTIL_H\n#define UTIL_H\n\nvoid greet(const char *name);\n\n#endif\n` },
  { name: "compile", content: `# Run by bash in the program's directory before the run; its output is the compile output.\ngcc -std=c17 -O2 -Wall -o main main.c util.c\n` },
  { name: "run", content: `# Run by bash for each run, with the command-line arguments.\n./main "$@"\n` },
];

/** The first tab's name in a new multi-file program. */
export const MULTI_FILE_MAIN = "main.c";

/** The extra files a language starts with (none but for the multi-file program). */
export function templateFilesFor(languageName: string): SourceFile[] {
  return isProject(languageName) ? MULTI_FILE_EXTRA.map((f) => ({ ...f })) : [];
}

/** The starting program for a language name (empty for a language without one). */
export function templateFor(languageName: string): string {
  for (const t of TEMPLATES) if (t.match.test(languageName)) return t.code;
  return "";
}

/** The language to pick first: Python, else C++, else the first one. */
export function defaultLanguageId(languages: { id: number; name: string }[]): number | undefined {
  return (languages.find((l) => /^Python/.test(l.name)) ?? languages.find((l) => /^C\+\+/.test(l.name)) ?? languages[0])?.id;
}
