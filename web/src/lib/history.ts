// Run history: where it comes from (the gateway's, per session or user; or the browser's,
// in localStorage, when there is no gateway) and the state of the panel that lists it.

import { parseFiles } from "./files";
import type { GatewayClient, HistoryItem, HistoryPage } from "./gateway";

/** One page of history at a time, and deletion; both sources look alike to the panel. */
export interface HistorySource {
  kind: "gateway" | "browser";
  page(cursor: string | null, limit: number, signal?: AbortSignal): Promise<HistoryPage>;
  remove(token: string): Promise<void>;
}

/**
 * The gateway's history keeps a run's main file only; the files of runs made in this
 * browser are kept beside it (`storage`, see rememberRunFiles) and put back into its items.
 */
export function gatewayHistory(gw: GatewayClient, storage: () => Store | undefined = () => undefined): HistorySource {
  return {
    kind: "gateway",
    page: async (cursor, limit, signal) => {
      const page = await gw.history(cursor, limit, signal);
      const known = loadRunFiles(storage());
      return { ...page, items: page.items.map((i) => (known[i.token] && !i.files ? { ...i, ...known[i.token] } : i)) };
    },
    remove: async (token) => {
      await gw.deleteHistory(token);
      forgetRunFiles(storage(), token);
    },
  };
}

// ---- the files of runs in the gateway's history, kept in the browser

const FILES_KEY = "coderunner.runfiles.v1";
/** The files of at most this many runs... */
export const RUN_FILES_MAX_ITEMS = 50;
/** ...in at most this many characters (the newest run's first). */
export const RUN_FILES_MAX_CHARS = 500_000;

type RunFiles = Pick<HistoryItem, "files" | "mainName">;

function loadRunFiles(storage: Store | undefined): Record<string, RunFiles> {
  const out: Record<string, RunFiles> = {};
  try {
    const raw = storage?.getItem(FILES_KEY);
    const v: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(v)) return out;
    for (const e of v) {
      if (!e || typeof e !== "object" || typeof e.token !== "string") continue;
      const files = parseFiles(e.files);
      const mainOk = e.mainName === undefined || (typeof e.mainName === "string" && parseFiles([{ name: e.mainName, content: "" }]) !== null);
      if (files && mainOk) out[e.token] = e.mainName === undefined ? { files } : { files, mainName: e.mainName };
    }
  } catch {
    /* a broken entry: no files known */
  }
  return out;
}

function saveRunFiles(storage: Store | undefined, entries: [string, RunFiles][]): void {
  let list = entries.slice(0, RUN_FILES_MAX_ITEMS).map(([token, f]) => ({ token, ...f }));
  while (list.length > 0 && JSON.stringify(list).length > RUN_FILES_MAX_CHARS) list = list.slice(0, -1);
  try {
    storage?.setItem(FILES_KEY, JSON.stringify(list));
  } catch {
    /* full: the files of older runs are not known */
  }
}

/** Keep a gateway run's files (newest first, bounded); a run without files needs nothing kept, one too large is not kept. */
export function rememberRunFiles(storage: Store | undefined, token: string, f: RunFiles): void {
  if (!f.files || f.files.length === 0) return;
  // A run larger than the bound alone would push every other out: it is not kept.
  if (JSON.stringify({ token, ...f }).length > RUN_FILES_MAX_CHARS) return;
  const old = Object.entries(loadRunFiles(storage)).filter(([t]) => t !== token);
  saveRunFiles(storage, [[token, f], ...old]);
}

function forgetRunFiles(storage: Store | undefined, token: string): void {
  const known = loadRunFiles(storage);
  if (known[token]) saveRunFiles(storage, Object.entries(known).filter(([t]) => t !== token));
}

// ---- the browser's history (static export on `coderunner serve`, or no gateway sessions)

const KEY = "coderunner.history.v1";
/** The browser keeps at most this many runs... */
export const LOCAL_HISTORY_MAX_ITEMS = 100;
/** ...and at most this many characters of them (localStorage holds about 5 MB per origin). */
export const LOCAL_HISTORY_MAX_CHARS = 1_000_000;

type Store = Pick<Storage, "getItem" | "setItem">;

function isItem(v: unknown): v is HistoryItem {
  if (!v || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.token === "string" &&
    typeof o.languageId === "number" &&
    typeof o.createdAt === "string" &&
    typeof o.sourceCode === "string" &&
    (o.stdin === null || typeof o.stdin === "string") &&
    (o.status === null || (!!o.status && typeof (o.status as { id?: unknown }).id === "number")) &&
    (o.time === null || typeof o.time === "string") &&
    (o.memory === null || typeof o.memory === "number") &&
    (o.finishedAt === null || typeof o.finishedAt === "string") &&
    (o.files === undefined || parseFiles(o.files) !== null) &&
    (o.mainName === undefined || (typeof o.mainName === "string" && parseFiles([{ name: o.mainName, content: "" }]) !== null))
  );
}

export function loadLocalHistory(storage: Store | undefined): HistoryItem[] {
  try {
    const raw = storage?.getItem(KEY);
    const v: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(v) ? v.filter(isItem).slice(0, LOCAL_HISTORY_MAX_ITEMS) : [];
  } catch {
    return [];
  }
}

function save(storage: Store | undefined, items: HistoryItem[]): boolean {
  try {
    storage?.setItem(KEY, JSON.stringify(items));
    return true;
  } catch {
    return false;
  }
}

/**
 * Record a run (newest first, one entry per token). The oldest runs go first when the count
 * or the size bound is passed. Returns false when the run was not kept: it alone is larger
 * than the bound, or the browser refused to store it.
 */
export function addLocalHistory(storage: Store | undefined, item: HistoryItem): boolean {
  if (JSON.stringify(item).length > LOCAL_HISTORY_MAX_CHARS) return false;
  const items = [item, ...loadLocalHistory(storage).filter((i) => i.token !== item.token)].slice(0, LOCAL_HISTORY_MAX_ITEMS);
  while (JSON.stringify(items).length > LOCAL_HISTORY_MAX_CHARS) items.pop();
  return save(storage, items);
}

export function removeLocalHistory(storage: Store | undefined, token: string): void {
  save(
    storage,
    loadLocalHistory(storage).filter((i) => i.token !== token),
  );
}

/** A page of the browser's history; the cursor is the token of the last item shown. */
export function pageLocalHistory(items: HistoryItem[], cursor: string | null, limit: number): HistoryPage {
  let start = 0;
  if (cursor) {
    const at = items.findIndex((i) => i.token === cursor);
    start = at < 0 ? items.length : at + 1;
  }
  const slice = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return { items: slice, nextCursor: more && slice.length > 0 ? slice[slice.length - 1]!.token : null };
}

export function browserHistory(storage: () => Store | undefined): HistorySource {
  return {
    kind: "browser",
    page: async (cursor, limit) => pageLocalHistory(loadLocalHistory(storage()), cursor, limit),
    remove: async (token) => removeLocalHistory(storage(), token),
  };
}

// ---- the panel's state

export interface HistoryState {
  items: HistoryItem[];
  /**
   * Results this page saw finish. The gateway learns a result a moment after the browser
   * does; until then its history says In Queue or Processing, and the known result is shown.
   */
  known: Record<string, Pick<HistoryItem, "status" | "time" | "memory" | "finishedAt">>;
  /** Where "load more" continues; null when everything is shown. */
  cursor: string | null;
  loading: boolean;
  error: string | null;
  /** The first page has been read. */
  loaded: boolean;
}

export const INITIAL_HISTORY: HistoryState = { items: [], known: {}, cursor: null, loading: false, error: null, loaded: false };

export type HistoryAction =
  | { type: "loading" }
  | { type: "page"; page: HistoryPage; append: boolean }
  | { type: "error"; message: string }
  | { type: "removed"; token: string }
  | { type: "finished"; item: HistoryItem }
  | { type: "reset" };

export function historyReducer(s: HistoryState, a: HistoryAction): HistoryState {
  switch (a.type) {
    case "loading":
      return { ...s, loading: true, error: null };
    case "page": {
      const seen = new Set(a.append ? s.items.map((i) => i.token) : []);
      const fresh = a.page.items.filter((i) => !seen.has(i.token)).map((i) => withKnown(i, s.known));
      return { ...s, items: a.append ? [...s.items, ...fresh] : fresh, cursor: a.page.nextCursor, loading: false, error: null, loaded: true };
    }
    case "finished": {
      const { status, time, memory, finishedAt } = a.item;
      const known = { ...s.known, [a.item.token]: { status, time, memory, finishedAt } };
      return { ...s, known, items: s.items.map((i) => withKnown(i, known)) };
    }
    case "error":
      return { ...s, loading: false, error: a.message };
    case "removed":
      return { ...s, items: s.items.filter((i) => i.token !== a.token) };
    case "reset":
      return { ...INITIAL_HISTORY, known: s.known };
  }
}

function withKnown(i: HistoryItem, known: HistoryState["known"]): HistoryItem {
  const k = known[i.token];
  const pending = !i.status || i.status.id === 1 || i.status.id === 2;
  return k && pending ? { ...i, ...k } : i;
}
