// What the IDE keeps in localStorage: the code per language, the current language, the
// inputs and the settings. Nothing is stored on a server.

import { parseFiles, type SourceFile } from "./files";
import type { TestCase } from "./judge0";

export type ThemeChoice = "system" | "light" | "dark";

export interface Settings {
  theme: ThemeChoice;
  vim: boolean;
  fontSize: number;
  /** Seconds to wait for a result before giving up. */
  timeoutSeconds: number;
  /** Use a single wait=true request instead of polling. */
  wait: boolean;
  /** Sent as X-Auth-Token when the server requires authentication (empty: none). */
  apiKey: string;
  /** Spaces per indentation level in the editor. */
  tabSize: number;
  /** The settings the user changed; the others follow the operator's defaults (client-config). */
  chosen: ChosenSetting[];
}

export type ChosenSetting = "theme" | "vim" | "tabSize";
export const CHOOSABLE: readonly ChosenSetting[] = ["theme", "vim", "tabSize"];

export const DEFAULT_SETTINGS: Settings = { theme: "system", vim: false, fontSize: 14, timeoutSeconds: 120, wait: false, apiKey: "", tabSize: 4, chosen: [] };

/** What a run is made of, as far as opening another one replaces it. */
export interface Program {
  languageId: number;
  code: string;
  stdin: string;
  /** The extra files (absent: none, or not known, as in a gateway's history). */
  files?: SourceFile[];
  /** The main file's name, for a multi-file program. */
  mainName?: string;
}

export interface Workspace {
  languageId: number | null;
  /** Code per language id, so switching languages does not lose work. */
  code: Record<string, string>;
  stdin: string;
  args: string;
  /** Extra files per language id (absent: the language's starting files). */
  files: Record<string, SourceFile[]>;
  /** The main file's name per language id, for multi-file programs (absent: the starting name). */
  mainName: Record<string, string>;
  /** Compiler options per language id: options for C mean nothing to Python. */
  compilerOptions: Record<string, string>;
  tests: TestCase[];
  settings: Settings;
  /** What was in the editor before a history entry or a share link replaced it ("Back to my code"). */
  previous: Program | null;
}

const KEY = "coderunner.ide.v1";

export function emptyWorkspace(): Workspace {
  return { languageId: null, code: {}, files: {}, mainName: {}, stdin: "", args: "", compilerOptions: {}, tests: [], settings: { ...DEFAULT_SETTINGS, chosen: [] }, previous: null };
}

export function loadWorkspace(storage: Pick<Storage, "getItem"> | undefined): Workspace {
  const w = emptyWorkspace();
  if (!storage) return w;
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return w;
    const o = JSON.parse(raw) as Partial<Workspace>;
    if (typeof o.languageId === "number") w.languageId = o.languageId;
    if (o.code && typeof o.code === "object")
      for (const [k, v] of Object.entries(o.code)) if (typeof v === "string") w.code[k] = v;
    if (o.files && typeof o.files === "object")
      for (const [k, v] of Object.entries(o.files)) {
        const files = parseFiles(v);
        if (/^\d+$/.test(k) && files) w.files[k] = files;
      }
    if (o.mainName && typeof o.mainName === "object")
      for (const [k, v] of Object.entries(o.mainName)) if (/^\d+$/.test(k) && typeof v === "string" && parseFiles([{ name: v, content: "" }])) w.mainName[k] = v;
    if (typeof o.stdin === "string") w.stdin = o.stdin;
    if (typeof o.args === "string") w.args = o.args;
    const copts: unknown = o.compilerOptions;
    if (copts && typeof copts === "object")
      for (const [k, v] of Object.entries(copts)) if (/^\d+$/.test(k) && typeof v === "string") w.compilerOptions[k] = v;
    // Saved when the options were one for all languages: they were meant for the language then in use.
    if (typeof copts === "string" && copts && w.languageId !== null) w.compilerOptions[String(w.languageId)] = copts;
    if (Array.isArray(o.tests))
      w.tests = o.tests
        .filter((t) => t && typeof t.stdin === "string" && typeof t.expected_output === "string")
        .map((t) => ({ stdin: t.stdin, expected_output: t.expected_output }));
    const p = o.previous;
    if (p && typeof p === "object" && typeof p.languageId === "number" && typeof p.code === "string" && typeof p.stdin === "string")
      w.previous = programOf(p);
    if (o.settings && typeof o.settings === "object") {
      const s = o.settings;
      if (s.theme === "light" || s.theme === "dark" || s.theme === "system") w.settings.theme = s.theme;
      if (typeof s.vim === "boolean") w.settings.vim = s.vim;
      if (typeof s.wait === "boolean") w.settings.wait = s.wait;
      if (typeof s.apiKey === "string") w.settings.apiKey = s.apiKey;
      if (typeof s.fontSize === "number" && s.fontSize >= 10 && s.fontSize <= 28) w.settings.fontSize = s.fontSize;
      if (typeof s.tabSize === "number" && Number.isInteger(s.tabSize) && s.tabSize >= 1 && s.tabSize <= 16) w.settings.tabSize = s.tabSize;
      if (typeof s.timeoutSeconds === "number" && s.timeoutSeconds >= 5 && s.timeoutSeconds <= 3600)
        w.settings.timeoutSeconds = s.timeoutSeconds;
      // Saved before "chosen" existed: what differs from our defaults was the user's choice.
      const chosen = Array.isArray(s.chosen) ? s.chosen : CHOOSABLE.filter((k) => w.settings[k] !== DEFAULT_SETTINGS[k]);
      w.settings.chosen = CHOOSABLE.filter((k) => chosen.includes(k));
    }
  } catch {
    /* a broken entry is ignored: the IDE starts fresh */
  }
  return w;
}

/** A program from untrusted data whose language, code and stdin were checked: its files checked too. */
export function programOf(p: Program): Program {
  const out: Program = { languageId: p.languageId, code: p.code, stdin: p.stdin };
  const files = parseFiles(p.files);
  if (files) out.files = files;
  if (typeof p.mainName === "string" && parseFiles([{ name: p.mainName, content: "" }])) out.mainName = p.mainName;
  return out;
}

/** Save the workspace; false when the browser refused (storage full or disabled). */
export function saveWorkspace(storage: Pick<Storage, "setItem"> | undefined, w: Workspace): boolean {
  try {
    storage?.setItem(KEY, JSON.stringify(w));
    return true;
  } catch {
    return false;
  }
}
