// A program's files: the main file (the editor's first tab: `source_code`, saved by the
// server under the language's own name, e.g. script.py) and extra files (more tabs: sent as
// `additional_files`, a zip the server unpacks next to the main file). A "Multi-file
// program" (Judge0's id 89) has no source_code: every file, the first tab's too, goes in
// the zip, with a `run` script and optionally a `compile` one, which the server runs with
// bash. Pure functions; the hook is src/hooks/useFiles.ts.

import { base64ToBytes, bytesToBase64 } from "./base64";
import { writeZip, type ZipEntry } from "./zip";

export interface SourceFile {
  /** A relative path: "util.c", "pkg/helper.py". */
  name: string;
  /** The text; for a binary file (one that is not UTF-8 text), its bytes in base64. */
  content: string;
  binary?: boolean;
}

/** At most this many files besides the main one (the server bounds the zip too). */
export const MAX_EXTRA_FILES = 64;
/**
 * Files opened at once, or a zip's files unpacked, hold at most this many bytes: the
 * workspace lives in localStorage, which holds about 5 MB per origin (history included).
 */
export const MAX_FILES_BYTES = 1024 * 1024;
export const MAX_NAME_LENGTH = 255;

/** Whether the language's program is a zip of files with its own scripts (no source_code). */
export function isProject(languageName: string): boolean {
  return /^Multi-file program/.test(languageName);
}

// The name the server saves the main file under (languages/*/language.conf, `source`):
// the name of the main file in a downloaded zip and a name the extra files cannot take.
const MAIN_FILE: [RegExp, string][] = [
  [/^Assembly/, "main.asm"],
  [/^Bash/, "script.sh"],
  [/^C \(|^C$/, "main.c"],
  [/^C\+\+/, "main.cpp"],
  [/^C#/, "Main.cs"],
  [/^Clojure/, "main.clj"],
  [/^COBOL/, "main.cob"],
  [/^Common Lisp/, "script.lisp"],
  [/^D \(/, "main.d"],
  [/^Elixir/, "script.exs"],
  [/^Erlang/, "main.erl"],
  [/^Executable/, "a.out"],
  [/^Fortran/, "main.f90"],
  [/^Go\b/, "main.go"],
  [/^Groovy/, "script.groovy"],
  [/^Haskell/, "main.hs"],
  [/^Java \(|^Java$/, "Main.java"],
  [/^JavaScript/, "script.js"],
  [/^Kotlin/, "Main.kt"],
  [/^Lua/, "script.lua"],
  [/^Objective-C/, "main.m"],
  [/^OCaml/, "main.ml"],
  [/^Octave/, "script.m"],
  [/^Pascal/, "main.pas"],
  [/^Perl/, "script.pl"],
  [/^PHP/, "script.php"],
  [/^Plain Text/, "text.txt"],
  [/^Prolog/, "main.pro"],
  [/^Python/, "script.py"],
  [/^R \(|^R$/, "script.r"],
  [/^Ruby/, "script.rb"],
  [/^Rust/, "main.rs"],
  [/^Scala/, "Main.scala"],
  [/^SQL/, "script.sql"],
  [/^TypeScript/, "script.ts"],
];

/** The main file's name for a single-file language ("source.txt" for one this page does not know). */
export function mainFileName(languageName: string): string {
  return MAIN_FILE.find(([re]) => re.test(languageName))?.[1] ?? "source.txt";
}

// The editor's highlighting for an extra file, by its name: a language name the editor knows.
const BY_EXTENSION: [RegExp, string][] = [
  [/\.[ch]$/, "C"],
  [/\.(cc|cpp|cxx|hh|hpp|hxx)$/, "C++"],
  [/\.py$/, "Python"],
  [/\.(sh|bash)$|^(.*\/)?(compile|run)$/, "Bash"],
  [/\.java$/, "Java"],
  [/\.(js|mjs|cjs)$/, "JavaScript"],
  [/\.ts$/, "TypeScript"],
  [/\.go$/, "Go"],
  [/\.rs$/, "Rust"],
  [/\.rb$/, "Ruby"],
  [/\.php$/, "PHP"],
  [/\.sql$/, "SQL"],
  [/\.lua$/, "Lua"],
  [/\.pl$/, "Perl"],
  [/\.hs$/, "Haskell"],
  [/\.kt$/, "Kotlin"],
  [/\.scala$/, "Scala"],
  [/\.cs$/, "C#"],
];

/** The language name whose highlighting suits a file: by extension, else the program's language's. */
export function editorLanguageFor(fileName: string, programLanguage: string): string {
  return BY_EXTENSION.find(([re]) => re.test(fileName))?.[1] ?? (isProject(programLanguage) ? "" : programLanguage);
}

/**
 * Why `name` cannot be a file's name (null when it can): a relative path of plain parts,
 * not taken by another file (`taken`, compared exactly) nor the main file's server name.
 */
export function fileNameProblem(name: string, taken: string[], reserved?: string): string | null {
  if (name === "") return "a file needs a name";
  if (name.length > MAX_NAME_LENGTH) return `a name has at most ${MAX_NAME_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return "a name cannot hold control characters or backslashes";
  if (name.startsWith("/")) return "a name is relative (no leading /)";
  if (name.split("/").some((part) => part === "" || part === "." || part === ".."))
    return 'a name is made of folder and file names ("lib/util.c"), with no empty part, "." or ".."';
  if (reserved !== undefined && name === reserved) return `${name} is the main file's name on the server`;
  if (taken.includes(name)) return `there is already a file named ${name}`;
  return null;
}

/** The file's bytes: UTF-8 text, or the binary's. */
export function fileBytes(f: SourceFile): Uint8Array {
  return f.binary ? base64ToBytes(f.content) : new TextEncoder().encode(f.content);
}

/** A file from bytes: text when they are UTF-8 without NUL, else binary. */
export function fileFromBytes(name: string, data: Uint8Array): SourceFile {
  if (!data.includes(0)) {
    try {
      return { name, content: new TextDecoder("utf-8", { fatal: true }).decode(data) };
    } catch {
      /* not UTF-8: binary */
    }
  }
  return { name, content: bytesToBase64(data), binary: true };
}

/**
 * Whether a file is a program to run: a script (a #! line, or the multi-file program's
 * compile and run, which the server runs with bash either way) or an ELF binary. The zip
 * gives it the execute bit, which the server keeps, so `exec ./prog` runs an uploaded binary.
 */
export function isExecutable(f: SourceFile, data: Uint8Array = fileBytes(f)): boolean {
  if (f.binary) return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
  return f.content.startsWith("#!") || /^(.*\/)?(compile|run)(\.sh)?$/.test(f.name);
}

function zipEntry(f: SourceFile): ZipEntry {
  const data = fileBytes(f);
  return { name: f.name, data, mode: isExecutable(f, data) ? 0o755 : 0o644 };
}

/** A zip of files; `when` as in writeZip (the default gives the same bytes for the same files). */
export function zipFiles(files: SourceFile[], when?: Date): Uint8Array {
  return writeZip(files.map(zipEntry), when);
}

/** The tabs of a program: the main file first, then the extra files. */
export interface ProgramFiles {
  /** The main file's text. */
  main: string;
  /** Its name: chosen by the user for a multi-file program, the server's otherwise. */
  mainName: string;
  extra: SourceFile[];
}

/** What a run sends: `source_code` and, when there are files to send, `additional_files` (base64). */
export function submissionFiles(languageName: string, p: ProgramFiles): { source_code: string; additional_files?: string } {
  if (isProject(languageName)) return { source_code: "", additional_files: bytesToBase64(zipFiles([{ name: p.mainName, content: p.main }, ...p.extra])) };
  if (p.extra.length === 0) return { source_code: p.main };
  return { source_code: p.main, additional_files: bytesToBase64(zipFiles(p.extra)) };
}

/** All of a program's files, the main one under its name (for a zip download). */
export function allFiles(p: ProgramFiles): SourceFile[] {
  return [{ name: p.mainName, content: p.main }, ...p.extra];
}

/**
 * A program from a zip's files: the file named `mainName` is the main one (for a multi-file
 * program without such a file: the first that is not a compile or run script); the rest
 * are extra files. Null when a single-file language's main file is not in the zip.
 */
export function programFromFiles(files: SourceFile[], mainName: string, project: boolean): ProgramFiles | null {
  let at = files.findIndex((f) => f.name === mainName && !f.binary);
  if (at < 0 && project) {
    at = files.findIndex((f) => !f.binary && !/^(compile|run)(\.sh)?$/.test(f.name));
    if (at < 0) at = files.findIndex((f) => !f.binary);
  }
  if (at < 0) return null;
  return { main: files[at]!.content, mainName: files[at]!.name, extra: files.filter((_, i) => i !== at) };
}

/**
 * `into` with `add` merged: a file of the same name is replaced, the others added at the
 * end. Returns the merged files and the names that were replaced.
 */
export function mergeFiles(into: SourceFile[], add: SourceFile[]): { files: SourceFile[]; replaced: string[] } {
  const byName = new Map(add.map((f) => [f.name, f]));
  const replaced = into.filter((f) => byName.has(f.name)).map((f) => f.name);
  const files = into.map((f) => byName.get(f.name) ?? f);
  const have = new Set(into.map((f) => f.name));
  for (const f of add) if (!have.has(f.name)) files.push(f);
  return { files, replaced };
}

/** Whether two file lists are the same files (names, contents and kinds, in order). */
export function sameFiles(a: SourceFile[], b: SourceFile[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.content === b[i]!.content && !!f.binary === !!b[i]!.binary);
}

/** The files in untrusted data (storage, a link, history), or null when it is not a list of files. */
export function parseFiles(v: unknown): SourceFile[] | null {
  if (!Array.isArray(v)) return null;
  const out: SourceFile[] = [];
  for (const f of v) {
    if (!f || typeof f !== "object") return null;
    const o = f as Record<string, unknown>;
    if (typeof o.name !== "string" || typeof o.content !== "string") return null;
    if (fileNameProblem(o.name, out.map((x) => x.name)) !== null) return null;
    out.push(o.binary === true ? { name: o.name, content: o.content, binary: true } : { name: o.name, content: o.content });
  }
  return out.length > MAX_EXTRA_FILES + 1 ? null : out;
}
