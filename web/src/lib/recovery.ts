// The run in progress, kept in localStorage from the moment the server gives its token
// until its result is shown: a reload, a closed tab or a dropped connection then gets the
// result back (the server judged it anyway). One run at a time, as the page runs them.

import type { SourceFile } from "./files";
import type { TestCase } from "./judge0";

export interface PendingRun {
  token: string;
  languageId: number;
  sourceCode: string;
  /** null with test cases. */
  stdin: string | null;
  tests: TestCase[] | null;
  /** ISO time the run was submitted. */
  createdAt: string;
  /** Date.now() when it was submitted: the "give up after" deadline counts from it. */
  startedMs: number;
  /** The program's other files, and a multi-file program's main file name (for History). */
  files?: SourceFile[];
  mainName?: string;
}

const KEY = "coderunner.pending-run.v1";
/** A run older than this is not waited for after a reload: the server has long finished it, or forgotten it. */
export const PENDING_MAX_AGE_MS = 24 * 3600 * 1000;

type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function isTests(v: unknown): v is TestCase[] {
  return Array.isArray(v) && v.every((t) => !!t && typeof t === "object" && typeof t.stdin === "string" && typeof t.expected_output === "string");
}

function isFiles(v: unknown): v is SourceFile[] {
  return (
    Array.isArray(v) &&
    v.every((f) => !!f && typeof f === "object" && typeof f.name === "string" && typeof f.content === "string" && (f.binary === undefined || typeof f.binary === "boolean"))
  );
}

function isPending(v: unknown): v is PendingRun {
  if (!v || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.token === "string" &&
    /^[A-Za-z0-9-]{1,64}$/.test(o.token) &&
    typeof o.languageId === "number" &&
    typeof o.sourceCode === "string" &&
    (o.stdin === null || typeof o.stdin === "string") &&
    (o.tests === null || isTests(o.tests)) &&
    typeof o.createdAt === "string" &&
    typeof o.startedMs === "number" &&
    Number.isFinite(o.startedMs) &&
    (o.files === undefined || isFiles(o.files)) &&
    (o.mainName === undefined || typeof o.mainName === "string")
  );
}

/** Keep the run; false when the browser would not (full or disabled storage): the run still goes on. */
export function savePending(storage: Store | undefined, run: PendingRun): boolean {
  try {
    if (!storage) return false;
    storage.setItem(KEY, JSON.stringify(run));
    return true;
  } catch {
    return false;
  }
}

/** The kept run, if any and not stale (a broken or stale entry is removed). */
export function loadPending(storage: Store | undefined, nowMs: number): PendingRun | null {
  try {
    const raw = storage?.getItem(KEY);
    if (!raw) return null;
    const v: unknown = JSON.parse(raw);
    if (isPending(v) && nowMs - v.startedMs < PENDING_MAX_AGE_MS && v.startedMs <= nowMs + 60_000) return v;
  } catch {
    /* removed below */
  }
  clearPending(storage);
  return null;
}

/** Forget the run (its result is shown, it failed for good, or another run replaced it); only `token`'s when given. */
export function clearPending(storage: Store | undefined, token?: string): void {
  try {
    if (!storage) return;
    if (token !== undefined) {
      const raw = storage.getItem(KEY);
      const v: unknown = raw ? JSON.parse(raw) : null;
      if (isPending(v) && v.token !== token) return;
    }
    storage.removeItem(KEY);
  } catch {
    /* nothing kept, nothing to clear */
  }
}
