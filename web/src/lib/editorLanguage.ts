// CodeMirror syntax support per language, matched on the server's language name.
// Lezer grammars where CodeMirror has one (@codemirror/lang-*), legacy modes otherwise.

import type { Extension } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { cpp } from "@codemirror/lang-cpp";
import { python } from "@codemirror/lang-python";
import { java } from "@codemirror/lang-java";
import { javascript } from "@codemirror/lang-javascript";
import { go } from "@codemirror/lang-go";
import { rust } from "@codemirror/lang-rust";
import { php } from "@codemirror/lang-php";
import { sql, SQLite } from "@codemirror/lang-sql";
import { c, csharp, kotlin, scala, objectiveC } from "@codemirror/legacy-modes/mode/clike";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { ruby } from "@codemirror/legacy-modes/mode/ruby";
import { haskell } from "@codemirror/legacy-modes/mode/haskell";
import { lua } from "@codemirror/legacy-modes/mode/lua";
import { perl } from "@codemirror/legacy-modes/mode/perl";
import { r } from "@codemirror/legacy-modes/mode/r";
import { pascal } from "@codemirror/legacy-modes/mode/pascal";
import { fortran } from "@codemirror/legacy-modes/mode/fortran";
import { commonLisp } from "@codemirror/legacy-modes/mode/commonlisp";
import { clojure } from "@codemirror/legacy-modes/mode/clojure";
import { erlang } from "@codemirror/legacy-modes/mode/erlang";
import { oCaml } from "@codemirror/legacy-modes/mode/mllike";
import { octave } from "@codemirror/legacy-modes/mode/octave";
import { groovy } from "@codemirror/legacy-modes/mode/groovy";
import { d } from "@codemirror/legacy-modes/mode/d";
import { cobol } from "@codemirror/legacy-modes/mode/cobol";
import { gas } from "@codemirror/legacy-modes/mode/gas";

const table: [RegExp, () => Extension][] = [
  [/^C\+\+/, () => cpp()],
  [/^C#/, () => StreamLanguage.define(csharp)],
  [/^C \(|^C$/, () => StreamLanguage.define(c)],
  [/^Objective-C/, () => StreamLanguage.define(objectiveC)],
  [/^Python/, () => python()],
  [/^Java \(|^Java$/, () => java()],
  [/^JavaScript/, () => javascript()],
  [/^TypeScript/, () => javascript({ typescript: true })],
  [/^Go\b/, () => go()],
  [/^Rust/, () => rust()],
  [/^PHP/, () => php()],
  [/^SQL/, () => sql({ dialect: SQLite })],
  [/^Bash/, () => StreamLanguage.define(shell)],
  [/^Ruby/, () => StreamLanguage.define(ruby)],
  [/^Haskell/, () => StreamLanguage.define(haskell)],
  [/^Lua/, () => StreamLanguage.define(lua)],
  [/^Perl/, () => StreamLanguage.define(perl)],
  [/^R \(|^R$/, () => StreamLanguage.define(r)],
  [/^Pascal/, () => StreamLanguage.define(pascal)],
  [/^Fortran/, () => StreamLanguage.define(fortran)],
  [/^Common Lisp/, () => StreamLanguage.define(commonLisp)],
  [/^Clojure/, () => StreamLanguage.define(clojure)],
  [/^Erlang/, () => StreamLanguage.define(erlang)],
  [/^OCaml/, () => StreamLanguage.define(oCaml)],
  [/^Octave/, () => StreamLanguage.define(octave)],
  [/^Groovy/, () => StreamLanguage.define(groovy)],
  [/^Kotlin/, () => StreamLanguage.define(kotlin)],
  [/^Scala/, () => StreamLanguage.define(scala)],
  [/^D \(/, () => StreamLanguage.define(d)],
  [/^COBOL/, () => StreamLanguage.define(cobol)],
  [/^Assembly/, () => StreamLanguage.define(gas)],
];

/** The syntax extension for a language name; [] (plain text) when CodeMirror has none. */
export function editorLanguage(name: string): Extension {
  for (const [re, make] of table) if (re.test(name)) return make();
  return [];
}
