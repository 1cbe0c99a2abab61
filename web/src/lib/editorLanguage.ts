// CodeMirror syntax support per language, matched on the server's language name.
// Lezer grammars where CodeMirror has one (@codemirror/lang-*), legacy modes otherwise.
// Each mode is its own chunk, fetched when a program in that language is first shown: the
// page never downloads the thirty modes it is not using (issue 14: they made a 924 KB chunk).

import type { Extension } from "@codemirror/state";
import { StreamLanguage, type StreamParser } from "@codemirror/language";

const legacy = <T>(load: () => Promise<T>, pick: (m: T) => StreamParser<unknown>) => async () => StreamLanguage.define(pick(await load()));

const table: [RegExp, () => Promise<Extension>][] = [
  [/^C\+\+/, async () => (await import("@codemirror/lang-cpp")).cpp()],
  [/^C#/, legacy(() => import("@codemirror/legacy-modes/mode/clike"), (m) => m.csharp)],
  [/^C \(|^C$/, legacy(() => import("@codemirror/legacy-modes/mode/clike"), (m) => m.c)],
  [/^Objective-C/, legacy(() => import("@codemirror/legacy-modes/mode/clike"), (m) => m.objectiveC)],
  [/^Python/, async () => (await import("@codemirror/lang-python")).python()],
  [/^Java \(|^Java$/, async () => (await import("@codemirror/lang-java")).java()],
  [/^JavaScript/, async () => (await import("@codemirror/lang-javascript")).javascript()],
  [/^TypeScript/, async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true })],
  [/^Go\b/, async () => (await import("@codemirror/lang-go")).go()],
  [/^Rust/, async () => (await import("@codemirror/lang-rust")).rust()],
  [/^PHP/, async () => (await import("@codemirror/lang-php")).php()],
  [
    /^SQL/,
    async () => {
      const m = await import("@codemirror/lang-sql");
      return m.sql({ dialect: m.SQLite });
    },
  ],
  [/^Bash/, legacy(() => import("@codemirror/legacy-modes/mode/shell"), (m) => m.shell)],
  [/^Ruby/, legacy(() => import("@codemirror/legacy-modes/mode/ruby"), (m) => m.ruby)],
  [/^Haskell/, legacy(() => import("@codemirror/legacy-modes/mode/haskell"), (m) => m.haskell)],
  [/^Lua/, legacy(() => import("@codemirror/legacy-modes/mode/lua"), (m) => m.lua)],
  [/^Perl/, legacy(() => import("@codemirror/legacy-modes/mode/perl"), (m) => m.perl)],
  [/^R \(|^R$/, legacy(() => import("@codemirror/legacy-modes/mode/r"), (m) => m.r)],
  [/^Pascal/, legacy(() => import("@codemirror/legacy-modes/mode/pascal"), (m) => m.pascal)],
  [/^Fortran/, legacy(() => import("@codemirror/legacy-modes/mode/fortran"), (m) => m.fortran)],
  [/^Common Lisp/, legacy(() => import("@codemirror/legacy-modes/mode/commonlisp"), (m) => m.commonLisp)],
  [/^Clojure/, legacy(() => import("@codemirror/legacy-modes/mode/clojure"), (m) => m.clojure)],
  [/^Erlang/, legacy(() => import("@codemirror/legacy-modes/mode/erlang"), (m) => m.erlang)],
  [/^OCaml/, legacy(() => import("@codemirror/legacy-modes/mode/mllike"), (m) => m.oCaml)],
  [/^Octave/, legacy(() => import("@codemirror/legacy-modes/mode/octave"), (m) => m.octave)],
  [/^Groovy/, legacy(() => import("@codemirror/legacy-modes/mode/groovy"), (m) => m.groovy)],
  [/^Kotlin/, legacy(() => import("@codemirror/legacy-modes/mode/clike"), (m) => m.kotlin)],
  [/^Scala/, legacy(() => import("@codemirror/legacy-modes/mode/clike"), (m) => m.scala)],
  [/^D \(/, legacy(() => import("@codemirror/legacy-modes/mode/d"), (m) => m.d)],
  [/^COBOL/, legacy(() => import("@codemirror/legacy-modes/mode/cobol"), (m) => m.cobol)],
  [/^Assembly/, legacy(() => import("@codemirror/legacy-modes/mode/gas"), (m) => m.gas)],
];

/** Whether CodeMirror has a mode for this language name (else the editor shows plain text). */
export function hasEditorLanguage(name: string): boolean {
  return table.some(([re]) => re.test(name));
}

/** The syntax extension for a language name, loaded on demand; [] (plain text) when CodeMirror has none. */
export async function loadEditorLanguage(name: string): Promise<Extension> {
  for (const [re, make] of table) if (re.test(name)) return make();
  return [];
}
