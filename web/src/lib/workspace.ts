// Pure steps on the workspace (src/hooks/useWorkspace.ts): opening another program without
// losing the one in the editor.

import { sameFiles, type SourceFile } from "./files";
import type { Language, TestCase } from "./judge0";
import type { Program, Workspace } from "./storage";

/**
 * A program to open: from history (language, code, stdin, files) or a share link
 * (everything). Its extra files replace the language's (none when it has none).
 */
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

/** A language's starting extra files (the multi-file program has some). */
export type TemplateFiles = (languageId: number) => SourceFile[];
const NO_FILES: TemplateFiles = () => [];

/** The program of `languageId` in `w` (its code, or the starting one, and its files). */
export function programIn(w: Workspace, languageId: number, template: (languageId: number) => string, templateFiles: TemplateFiles = NO_FILES): Program {
  const key = String(languageId);
  const p: Program = { languageId, code: w.code[key] ?? template(languageId), stdin: w.stdin, files: w.files[key] ?? templateFiles(languageId) };
  if (w.mainName[key] !== undefined) p.mainName = w.mainName[key];
  return p;
}

/**
 * The workspace with `p` in the editor. What was in the editor (its language's code and
 * files, or the starting ones when the user never edited them, and the stdin) becomes
 * `previous`, unless it is the very program being opened. Test cases, arguments and
 * compiler options are replaced only when `p` carries them.
 */
export function replaceProgram(w: Workspace, p: OpenProgram, template: (languageId: number) => string, templateFiles: TemplateFiles = NO_FILES): Workspace {
  const key = String(p.languageId);
  const curId = w.languageId;
  const cur = curId !== null ? programIn(w, curId, template, templateFiles) : null;
  const same =
    !!cur && curId === p.languageId && cur.code === p.code && w.stdin === p.stdin && sameFiles(cur.files ?? [], p.files ?? []) && cur.mainName === p.mainName;
  const previous = same || !cur ? w.previous : cur;
  const mainName = { ...w.mainName };
  if (p.mainName !== undefined) mainName[key] = p.mainName;
  else delete mainName[key];
  const next: Workspace = {
    ...w,
    languageId: p.languageId,
    code: { ...w.code, [key]: p.code },
    files: { ...w.files, [key]: p.files ?? [] },
    mainName,
    stdin: p.stdin,
    previous,
  };
  if (p.tests) next.tests = p.tests;
  if (p.args !== undefined) next.args = p.args;
  if (p.compilerOptions !== undefined) next.compilerOptions = { ...w.compilerOptions, [key]: p.compilerOptions };
  return next;
}

/** Whether opening `p` would replace work of the user's (so the page should ask first). */
export function wouldReplaceWork(w: Workspace, p: OpenProgram, template: (languageId: number) => string, templateFiles: TemplateFiles = NO_FILES): boolean {
  const key = String(p.languageId);
  const saved = w.code[key];
  const codeLost = saved !== undefined && saved !== p.code && saved !== template(p.languageId);
  const files = w.files[key];
  const filesLost = files !== undefined && !sameFiles(files, p.files ?? []) && !sameFiles(files, templateFiles(p.languageId));
  const stdinLost = w.stdin !== "" && w.stdin !== p.stdin;
  const testsLost = !!p.tests && w.tests.length > 0 && JSON.stringify(w.tests) !== JSON.stringify(p.tests);
  return codeLost || filesLost || stdinLost || testsLost;
}
