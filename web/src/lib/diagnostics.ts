// Errors in the editor: the lines and columns that compilers and runtimes name in their
// output (compile output and stderr), turned into the editor's line diagnostics.
// Formats read (one pass each, over the whole text):
//  - file:line:col: message, file:line: message (gcc, g++, clang, go, javac, ruby, lua...),
//    and a bare line:col: message; javac's caret line under the source line gives the column;
//  - rustc's "error[E0308]: message" then "  --> src/main.rs:2:5";
//  - Python's traceback, `File "...", line N`, the deepest frame in the program, with the
//    exception line that ends it;
//  - Node's and Java's stacks, "at ... (file:line:col)" and "at Main.main(Main.java:4)",
//    the first frame in the program, with the error or exception line before it;
//  - Go's panic, "panic: message" then "\t/box/main.go:7 +0x1d".
// Only the program's own files count: relative names and the sandbox's /box/, never a
// library's (/usr/...), an interpreter's internals (node:internal, <frozen ...>) or <string>.

import type { Text } from "@codemirror/state";

export type Severity = "error" | "warning" | "info";

export interface SourceDiagnostic {
  /** 1-based. */
  line: number;
  /** 1-based; null when the tool names the line only. */
  column: number | null;
  severity: Severity;
  message: string;
  /** The program's file the tool named ("util.c", relative to the program's directory), or null when it named none. */
  file: string | null;
}

/** Whether a path a tool names is the program's own file (not a library's, not an interpreter's). */
export function isProgramFile(path: string): boolean {
  if (path.startsWith("/box/")) return !path.includes("/../");
  return /^(\.\/)?[\w.+-]+(\/[\w.+-]+)*$/.test(path) && !path.split("/").includes("..");
}

/** A program file's path as the tabs name it: without /box/, ./ or file://. */
function programPath(path: string): string {
  return path.replace(/^file:\/\//, "").replace(/^\/box\//, "").replace(/^\.\//, "");
}

function severityOf(word: string | undefined): Severity {
  if (!word) return "error";
  const w = word.toLowerCase();
  if (w.startsWith("warning")) return "warning";
  if (w === "note" || w === "info" || w === "help") return "info";
  return "error";
}

const CARET = /^\s*\^[\s^~-]*$/;

/** file:line:col: message, file:line: message, line:col: message. */
function compilerStyle(lines: string[], out: SourceDiagnostic[]): void {
  const withFile = /^([^\s:"'()<>]+):(\d+):(?:(\d+):)?\s*(.*)$/;
  const bare = /^(\d+):(\d+):\s*(.+)$/;
  lines.forEach((text, i) => {
    let line: number, column: number | null, rest: string, file: string | null = null;
    const b = bare.exec(text);
    const f = b ? null : withFile.exec(text);
    if (f) {
      if (!isProgramFile(f[1] ?? "")) return;
      file = programPath(f[1] ?? "");
      line = Number(f[2]);
      column = f[3] ? Number(f[3]) : null;
      rest = (f[4] ?? "").trim();
      // "file:12" alone (Node's header) or "file:12 +0x1d" (Go's frame) are not messages.
      if (!rest || (column === null && /^\+0x/.test(rest))) return;
    } else if (b) {
      line = Number(b[1]);
      column = Number(b[2]);
      rest = (b[3] ?? "").trim();
    } else return;
    const sev = /^(fatal error|error|warning|note|info|help)(\[[\w-]+\])?\s*:\s*/i.exec(rest);
    // javac names the line only, and points at the column with a caret under the source line.
    const caret = lines[i + 2];
    if (column === null && caret !== undefined && CARET.test(caret)) column = caret.indexOf("^") + 1;
    out.push({ line, column, severity: severityOf(sev?.[1]), message: sev ? rest.slice(sev[0].length) : rest, file });
  });
}

/** rustc: "error[E0425]: cannot find value `x`" then "  --> src/main.rs:2:20". */
function rustStyle(lines: string[], out: SourceDiagnostic[]): void {
  let head: { severity: Severity; message: string } | null = null;
  for (const text of lines) {
    const h = /^(error|warning|note|help)(\[\w+\])?: (.+)$/.exec(text);
    if (h) {
      head = { severity: severityOf(h[1]), message: h[3] ?? "" };
      continue;
    }
    const at = /^\s*--> (.+?):(\d+):(\d+)$/.exec(text);
    if (at && head && isProgramFile(at[1] ?? "")) {
      out.push({ line: Number(at[2]), column: Number(at[3]), ...head, file: programPath(at[1] ?? "") });
      head = null;
    }
  }
}

/** Python: the deepest `File "...", line N` of the program in a traceback, and its exception. */
function pythonStyle(lines: string[], out: SourceDiagnostic[]): void {
  let frame: { line: number; file: string } | null = null;
  let inTrace = false;
  for (const text of lines) {
    const f = /^\s*File "(.+?)", line (\d+)/.exec(text);
    if (f) {
      inTrace = true;
      if (isProgramFile(f[1] ?? "")) frame = { line: Number(f[2]), file: programPath(f[1] ?? "") };
      continue;
    }
    if (!inTrace || /^\s/.test(text) || text === "") continue;
    if (text.startsWith("Traceback (most recent call last)") || text.startsWith("During handling") || text.startsWith("The above exception")) continue;
    // The first line at the left margin after the frames: "NameError: name 'x' is not defined".
    if (frame !== null) out.push({ line: frame.line, column: null, severity: "error", message: text.trim(), file: frame.file });
    frame = null;
    inTrace = false;
  }
}

/**
 * Node: "ReferenceError: x is not defined" then "    at Object.<anonymous> (/box/script.js:1:13)";
 * Java: "Exception in thread "main" java.lang.ArithmeticException: / by zero" then "\tat Main.main(Main.java:4)".
 */
function nodeStyle(lines: string[], out: SourceDiagnostic[]): void {
  let message: string | null = null;
  for (const text of lines) {
    const err = /^(?:Uncaught )?([\w$.]*(?:Error|Exception)\b.*)$/.exec(text);
    if (err) {
      message = (err[1] ?? "").trim();
      continue;
    }
    const at = /^\s+at (?:.*\()?(.+?):(\d+)(?::(\d+))?\)?$/.exec(text);
    if (at && message && isProgramFile((at[1] ?? "").replace(/^file:\/\//, ""))) {
      out.push({ line: Number(at[2]), column: at[3] ? Number(at[3]) : null, severity: "error", message, file: programPath(at[1] ?? "") });
      message = null;
    }
  }
}

/** Go: "panic: runtime error: ..." then the first frame in the program, "\t/box/main.go:7 +0x1d". */
function goPanicStyle(lines: string[], out: SourceDiagnostic[]): void {
  let message: string | null = null;
  for (const text of lines) {
    const p = /^panic: (.+)$/.exec(text);
    if (p) {
      message = `panic: ${p[1]}`;
      continue;
    }
    const at = /^\t(.+?\.go):(\d+)(?: \+0x[0-9a-f]+)?$/.exec(text);
    if (at && message && isProgramFile(at[1] ?? "")) {
      out.push({ line: Number(at[2]), column: null, severity: "error", message, file: programPath(at[1] ?? "") });
      message = null;
    }
  }
}

/**
 * The diagnostics of tab `index` of a program whose files are `tabs` (names, the main file
 * first): those naming that file; the main file also gets those naming no file or a file
 * that is not a tab (a single-file program gets them all, whatever the tool calls its file).
 */
export function diagnosticsIn(list: SourceDiagnostic[], tabs: string[], index: number): SourceDiagnostic[] {
  return list.filter((d) => (d.file !== null && tabs.includes(d.file) ? d.file : tabs[0]) === tabs[index]);
}

/** Every diagnostic the outputs name for the program's lines, in line order, without repeats. */
export function parseDiagnostics(...outputs: (string | null | undefined)[]): SourceDiagnostic[] {
  const found: SourceDiagnostic[] = [];
  for (const output of outputs) {
    if (!output) continue;
    const lines = output.replace(/\r\n?/g, "\n").split("\n");
    for (const pass of [compilerStyle, rustStyle, pythonStyle, nodeStyle, goPanicStyle]) pass(lines, found);
  }
  const seen = new Set<string>();
  return found
    .filter((d) => d.line > 0 && d.message !== "")
    .filter((d) => {
      const key = `${d.file}:${d.line}:${d.column}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
}

export interface EditorDiagnostic {
  from: number;
  to: number;
  severity: Severity;
  message: string;
}

/**
 * Positions in the document: the named column to the end of the word there (one character
 * at least), or the line's first non-blank to its end when no column is named. A line
 * past the end of the document (the program changed) is dropped; a column past the end
 * of its line is the line's end.
 */
export function toEditorDiagnostics(doc: Text, list: SourceDiagnostic[]): EditorDiagnostic[] {
  const out: EditorDiagnostic[] = [];
  for (const d of list) {
    if (d.line > doc.lines) continue;
    const l = doc.line(d.line);
    let from: number, to: number;
    if (d.column === null) {
      from = l.from + (l.text.length - l.text.trimStart().length);
      to = l.to;
    } else {
      from = Math.min(l.from + d.column - 1, l.to);
      const word = /^[\w$]+/.exec(l.text.slice(from - l.from));
      to = Math.min(from + (word ? word[0].length : 1), l.to);
    }
    out.push({ from, to, severity: d.severity, message: d.message });
  }
  return out;
}
