// The gateway's own routes as the IDE uses them (session, accounts, history, client
// configuration; docs/GATEWAY.md), through the same base URL as the Judge0 routes. Every
// answer is checked before use: a field of the wrong type is dropped, not trusted.

import type { SourceFile } from "./files";
import { ApiError, errorFromResponse, type Status } from "./judge0";

export interface User {
  name: string;
}

export interface SessionInfo {
  user: User | null;
  expiresAt: string | null;
  /** Whether the gateway offers accounts (register, sign in). */
  accounts: boolean;
}

/** One past run, from the gateway's history or the browser's (same shape). */
export interface HistoryItem {
  token: string;
  languageId: number;
  status: Status | null;
  time: string | null;
  memory: number | null;
  createdAt: string;
  finishedAt: string | null;
  sourceCode: string;
  stdin: string | null;
  /** The run's extra files (the browser's history keeps them; the gateway's does not). */
  files?: SourceFile[];
  /** A multi-file program's main file name. */
  mainName?: string;
}

export interface HistoryPage {
  items: HistoryItem[];
  nextCursor: string | null;
}

export interface EditorDefaults {
  tabSize: number | null;
  keymap: "default" | "vim" | null;
  theme: "light" | "dark" | null;
}

export interface ClientConfig {
  defaultLanguageId: number | null;
  /** Only these languages are offered (null: all). */
  languages: number[] | null;
  editor: EditorDefaults;
  notice: string | null;
}

export const EMPTY_CLIENT_CONFIG: ClientConfig = {
  defaultLanguageId: null,
  languages: null,
  editor: { tabSize: null, keymap: null, theme: null },
  notice: null,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);

export function decodeSession(raw: unknown): SessionInfo {
  if (!isObj(raw) || !isObj(raw.session)) throw new ApiError("server", "The gateway answered a session without the session.");
  const u = raw.session.user;
  const name = isObj(u) ? str(u.name) : null;
  return { user: name ? { name } : null, expiresAt: str(raw.session.expires_at), accounts: raw.accounts === true };
}

export function decodeUser(raw: unknown): User {
  const u = isObj(raw) && isObj(raw.user) ? str(raw.user.name) : null;
  if (!u) throw new ApiError("server", "The gateway answered without the user.");
  return { name: u };
}

export function decodeHistoryItem(raw: unknown): HistoryItem | null {
  if (!isObj(raw)) return null;
  const token = str(raw.token);
  const languageId = int(raw.language_id);
  const createdAt = str(raw.created_at);
  const sourceCode = str(raw.source_code);
  if (!token || languageId === null || !createdAt || sourceCode === null) return null;
  const s = raw.status;
  const status = isObj(s) && int(s.id) !== null ? { id: s.id as number, description: str(s.description) ?? `Status ${s.id}` } : null;
  const time = typeof raw.time === "number" ? String(raw.time) : str(raw.time);
  return {
    token,
    languageId,
    status,
    time,
    memory: int(raw.memory),
    createdAt,
    finishedAt: str(raw.finished_at),
    sourceCode,
    stdin: str(raw.stdin),
  };
}

export function decodeHistoryPage(raw: unknown): HistoryPage {
  if (!isObj(raw) || !Array.isArray(raw.items)) throw new ApiError("server", "The gateway's history is not a list.");
  return {
    items: raw.items.map(decodeHistoryItem).filter((i): i is HistoryItem => i !== null),
    nextCursor: str(raw.next_cursor) || null,
  };
}

export function decodeClientConfig(raw: unknown): ClientConfig {
  if (!isObj(raw)) return EMPTY_CLIENT_CONFIG;
  const e = isObj(raw.editor) ? raw.editor : {};
  const tab = int(e.tab_size);
  const languages = Array.isArray(raw.languages) ? raw.languages.filter((l): l is number => int(l) !== null) : null;
  const notice = str(raw.notice);
  return {
    defaultLanguageId: int(raw.default_language_id),
    languages: languages && languages.length > 0 ? languages : null,
    editor: {
      tabSize: tab !== null && tab >= 1 && tab <= 16 ? tab : null,
      keymap: e.keymap === "vim" || e.keymap === "default" ? e.keymap : null,
      theme: e.theme === "light" || e.theme === "dark" ? e.theme : null,
    },
    notice: notice && notice.trim() ? notice : null,
  };
}

export class GatewayClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(baseUrl: string, fetchFn?: typeof fetch) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.fetchFn = fetchFn ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The answer, or null for a 204; an ApiError (with .status) for anything else. */
  async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, {
        method,
        headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch (e) {
      if (signal?.aborted) throw new ApiError("aborted", "Cancelled.");
      throw new ApiError("network", `Cannot reach the server: ${e instanceof Error ? e.message : String(e)}.`);
    }
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return null;
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError("server", `The server answered ${method} ${path} with something that is not JSON.`, { status: res.status });
    }
  }

  async getSession(signal?: AbortSignal): Promise<SessionInfo> {
    return decodeSession(await this.request("GET", "/session", undefined, signal));
  }
  async createSession(signal?: AbortSignal): Promise<SessionInfo> {
    return decodeSession(await this.request("POST", "/session", undefined, signal));
  }
  async register(username: string, password: string): Promise<User> {
    return decodeUser(await this.request("POST", "/auth/register", { username, password }));
  }
  async login(username: string, password: string): Promise<User> {
    return decodeUser(await this.request("POST", "/auth/login", { username, password }));
  }
  async logout(): Promise<void> {
    await this.request("POST", "/auth/logout");
  }
  async history(cursor: string | null, limit: number, signal?: AbortSignal): Promise<HistoryPage> {
    const q = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    return decodeHistoryPage(await this.request("GET", "/history" + q, undefined, signal));
  }
  async deleteHistory(token: string): Promise<void> {
    await this.request("DELETE", `/history/${encodeURIComponent(token)}`);
  }
  async clientConfig(signal?: AbortSignal): Promise<ClientConfig> {
    return decodeClientConfig(await this.request("GET", "/client-config", undefined, signal));
  }
  /** Keep a share link's text on the gateway: its short id. */
  async createShare(data: string): Promise<string> {
    const r = (await this.request("POST", "/shares", { data })) as { id?: unknown } | null;
    if (!r || typeof r.id !== "string" || !/^[A-Za-z0-9_-]+$/.test(r.id)) throw new ApiError("server", "The server's answer to a new share link has no id.");
    return r.id;
  }
  /** The text kept under a short share id. */
  async getShare(id: string, signal?: AbortSignal): Promise<string> {
    const r = (await this.request("GET", `/shares/${encodeURIComponent(id)}`, undefined, signal)) as { data?: unknown } | null;
    if (!r || typeof r.data !== "string") throw new ApiError("server", "The server's answer to a share link has no data.");
    return r.data;
  }
}

/**
 * Where this page's sessions come from. "gateway": the gateway has sessions (GET /session
 * answered, or 401 and POST /session made one). "none": no gateway sessions here (the
 * static export on `coderunner serve`, or a code-client sharing one key: 404), so history
 * is kept in the browser.
 */
export type SessionOutcome = { kind: "gateway"; session: SessionInfo } | { kind: "none" };

export async function ensureSession(gw: GatewayClient, signal?: AbortSignal): Promise<SessionOutcome> {
  try {
    return { kind: "gateway", session: await gw.getSession(signal) };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 404 || e.status === 405) return { kind: "none" };
    if (e.status !== 401) throw e;
  }
  return { kind: "gateway", session: await gw.createSession(signal) };
}
