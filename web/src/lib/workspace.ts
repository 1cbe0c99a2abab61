// Pure steps on the workspace (src/hooks/useWorkspace.ts): opening another program without
// losing the one in the editor.

import type { Language, TestCase } from "./judge0";
import type { Program, Workspace } from "./storage";

/** A program to open: from history (language, code, stdin) or a share link (everything). */
export interface OpenProgram extends Program {
  languageName?: string;
  tests?: TestCase[];
  args?: string;
  compilerOptions?: string;
}

/** The language to open a program in: its id if offered, else one of the same name, else null. */
export function pickLanguage(offered: Language[], id: number, name?: string): number | null {
  if (offered.some((l) => l.id === id)) return id;
  const byName = name ? offered.find((l) => l.name === name) : undefined;
  return byName ? byName.id : null;
}

/**
 * The workspace with `p` in the editor. What was in the editor (its language's code, or its
 * starting program when the user never edited it, and the stdin) becomes `previous`, unless
 * it is the very program being opened. Test cases, arguments and compiler options are replaced
 * only when `p` carries them.
 */
export function replaceProgram(w: Workspace, p: OpenProgram, template: (languageId: number) => string): Workspace {
  const key = String(p.languageId);
  const curId = w.languageId;
  const prevCode = curId !== null ? (w.code[String(curId)] ?? template(curId)) : "";
  const same = curId === p.languageId && prevCode === p.code && w.stdin === p.stdin;
  const previous = same || curId === null ? w.previous : { languageId: curId, code: prevCode, stdin: w.stdin };
  const next: Workspace = { ...w, languageId: p.languageId, code: { ...w.code, [key]: p.code }, stdin: p.stdin, previous };
  if (p.tests) next.tests = p.tests;
  if (p.args !== undefined) next.args = p.args;
  if (p.compilerOptions !== undefined) next.compilerOptions = { ...w.compilerOptions, [key]: p.compilerOptions };
  return next;
}

/** Whether opening `p` would replace work of the user's (so the page should ask first). */
export function wouldReplaceWork(w: Workspace, p: OpenProgram, template: (languageId: number) => string): boolean {
  const saved = w.code[String(p.languageId)];
  const codeLost = saved !== undefined && saved !== p.code && saved !== template(p.languageId);
  const stdinLost = w.stdin !== "" && w.stdin !== p.stdin;
  const testsLost = !!p.tests && w.tests.length > 0 && JSON.stringify(w.tests) !== JSON.stringify(p.tests);
  return codeLost || stdinLost || testsLost;
}
