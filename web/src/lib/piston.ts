// Interactive runs over Piston's WebSocket protocol, `GET /api/v2/connect` (docs/API.md,
// "Interactive runs"): the client sends {"type":"init"} with an execute body, the server
// answers runtime, stage, data and exit frames as the program runs, and the client sends
// the user's input ({"type":"data","stream":"stdin"}) and a signal to stop it. The page
// picks its Judge0 language; Piston names runtimes, so `runtimeFor` finds the one the
// server lists for it (`GET /api/v2/runtimes`).

import type { Language } from "./judge0";

export interface PistonRuntime {
  language: string;
  version: string;
  aliases: string[];
  runtime: string | null;
}

export function parseRuntimes(raw: unknown): PistonRuntime[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object")
    .filter((r) => typeof r.language === "string" && typeof r.version === "string")
    .map((r) => ({
      language: r.language as string,
      version: r.version as string,
      aliases: Array.isArray(r.aliases) ? r.aliases.filter((a): a is string => typeof a === "string") : [],
      runtime: typeof r.runtime === "string" ? r.runtime : null,
    }));
}

/** The version in a catalogue name, as the server derives it: the last word in the last parentheses ("C (GCC 12.2.0)" -> "12.2.0"). */
export function versionOf(name: string): string {
  const open = name.lastIndexOf("(");
  const close = open >= 0 ? name.indexOf(")", open) : -1;
  if (open < 0 || close < 0) return "0.0.0";
  const words = name.slice(open + 1, close).trim().split(/\s+/);
  return words[words.length - 1] || "0.0.0";
}

const norm = (s: string) => s.toLowerCase().replace(/[\s_]+/g, "");
const namesOf = (r: PistonRuntime) => [r.language, ...r.aliases, ...(r.runtime ? [r.runtime] : [])].map(norm);

/**
 * The `language` and `version` that select this language's runtime on the server, or null
 * when it has none (a multi-file program). The version is exact; the language is an alias
 * no other runtime answers to when there is one (C (GCC) and C (Clang) are both "c").
 */
export function runtimeFor(lang: Language, runtimes: PistonRuntime[]): { language: string; version: string } | null {
  const version = versionOf(lang.name);
  let cands = runtimes.filter((r) => r.version === version);
  if (cands.length > 1) {
    const head = norm(lang.name.replace(/\s*\(.*$/, ""));
    const byName = cands.filter((r) => namesOf(r).includes(head) || norm(r.language.replace(/-/g, " ")) === head);
    // "C (Clang 14.0.6)": the word before the version names the runtime.
    const inParens = (lang.name.match(/\(([^)]*)\)\s*$/)?.[1] ?? "").toLowerCase().split(/\s+/);
    const pool = byName.length > 0 ? byName : cands;
    const byRuntime = pool.filter((r) => r.runtime && inParens.includes(r.runtime.toLowerCase()));
    // Neither the name nor the runtime tells: better none than another language's.
    cands = byRuntime.length > 0 ? byRuntime : byName;
  }
  if (cands.length === 0 && version === "0.0.0") {
    // No version in the name ("Plain Text"): by name alone.
    const head = norm(lang.name);
    cands = runtimes.filter((r) => norm(r.language.replace(/-/g, " ")) === head || namesOf(r).includes(head));
  }
  const r = cands[0];
  if (!r) return null;
  const unique = [...r.aliases, r.language].find(
    (n) => runtimes.filter((o) => o !== r && o.version === r.version && (o.language === n || o.aliases.includes(n))).length === 0,
  );
  return { language: unique ?? r.language, version: r.version };
}

/**
 * Command-line arguments as a shell would split them: words separated by blanks; single
 * or double quotes keep blanks in a word. An unclosed quote is an error.
 */
export function splitArgs(s: string): string[] | { error: string } {
  const out: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== null) out.push(word);
      word = null;
    } else word = (word ?? "") + c;
  }
  if (quote) return { error: `the command-line arguments have an unclosed ${quote === '"' ? "double" : "single"} quote` };
  if (word !== null) out.push(word);
  return out;
}

export interface ExecuteBody {
  language: string;
  version: string;
  /** The first is the main file; the others are put next to it. */
  files: { name: string; content: string; encoding?: "utf8" | "base64" }[];
  args?: string[];
}

/** The WebSocket's address for an API base: "" (this origin), "/api", or a full http(s) URL. */
export function connectUrl(apiBase: string, location: { protocol: string; host: string }): string {
  const base = apiBase.replace(/\/+$/, "");
  if (/^https?:\/\//i.test(base)) return base.replace(/^http/i, "ws") + "/api/v2/connect";
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${base}/api/v2/connect`;
}

/** How the server ended a session, in plain words; null for a normal end (4999, the job completed). */
export function closeExplanation(code: number, reason: string, opened: boolean): string | null {
  const why = reason ? ` (${reason})` : "";
  switch (code) {
    case 4999:
      return null;
    case 4000:
      return `The server refused a second start of the same session${why}. Run again.`;
    case 4001:
      return `The server ended the session: the program was not sent within a second of connecting${why}. Run again; if it lasts, the connection is too slow.`;
    case 4002:
      return `The server refused the run${why}.`;
    case 4003:
      return `The server ended the session: input or a signal came before the program${why}.`;
    case 4004:
      return `The server ended the session: only the program's standard input can be written${why}.`;
    case 4005:
      return `The server ended the session: it does not know that signal${why}.`;
    case 1000:
      return opened ? "The session was closed; the program was stopped. What it printed is kept above." : "The session was closed.";
    case 1001:
      return "The server is shutting down; the program was stopped. Run again in a moment.";
    case 1002:
    case 1003:
      return `The server ended the session on a protocol error (${code})${why}.`;
    case 1009:
      return "The server ended the session: a message was too large (over 4 MiB). Send input in smaller pieces.";
    default:
      return opened
        ? `The connection to the server was lost (${code}); an interactive program ends with its connection, so it was stopped. What it printed is kept above.`
        : "Could not connect to the server for an interactive run.";
  }
}

/** Why an interactive connection could not open, from a plain GET of the same route (a WebSocket hides the HTTP answer). */
export function refusalExplanation(status: number | null, serverMessage: string | null): string {
  const said = serverMessage ? ` The server said: ${serverMessage}` : "";
  if (status === null) return "Could not reach the server for an interactive run. Is it running, and is this machine online?";
  if (status === 400) return `The server has interactive runs but refused this connection.${said}`;
  if (status === 401 || status === 403)
    return "The server needs an API key, and browsers cannot send one on a WebSocket: interactive runs are not available here. Use a normal run.";
  if (status === 501) return `Interactive runs are served by a single coderunner server only, not through this cluster.${said} Use a normal run.`;
  if (status === 404 || status === 405) return "This server does not offer interactive runs. Use a normal run.";
  if (status === 503) return `The server is busy (too many interactive sessions, or maintenance).${said} Try again in a moment.`;
  return `The server refused the interactive run (HTTP ${status}).${said}`;
}

export interface ExitFrame {
  stage: string;
  code: number | null;
  signal: string | null;
  /** coderunner's, as execute's stages: null for a clean exit; RE, SG, TO, OL, XX. */
  status: string | null;
  message: string | null;
}

export type ServerFrame =
  | { type: "runtime"; language: string; version: string }
  | { type: "stage"; stage: string }
  | { type: "data"; stream: "stdout" | "stderr"; data: string }
  | ({ type: "exit" } & ExitFrame)
  | { type: "error"; message: string };

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** A server frame, checked; null for anything else (ignored, as Piston's clients do). */
export function parseFrame(text: string): ServerFrame | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case "runtime":
      return { type: "runtime", language: str(o.language) ?? "", version: str(o.version) ?? "" };
    case "stage":
      return typeof o.stage === "string" ? { type: "stage", stage: o.stage } : null;
    case "data":
      return (o.stream === "stdout" || o.stream === "stderr") && typeof o.data === "string" ? { type: "data", stream: o.stream, data: o.data } : null;
    case "exit":
      return {
        type: "exit",
        stage: str(o.stage) ?? "run",
        code: typeof o.code === "number" ? o.code : null,
        signal: str(o.signal),
        status: str(o.status),
        message: str(o.message),
      };
    case "error":
      return { type: "error", message: str(o.message) ?? "unknown error" };
    default:
      return null;
  }
}

/** The end of a stage in plain words. */
export function exitSummary(e: ExitFrame): { text: string; ok: boolean } {
  const stage = e.stage === "compile" ? "Compilation" : "The program";
  const detail = e.message ? ` (${e.message})` : "";
  switch (e.status) {
    case null:
      return e.code === 0 || e.code === null ? { text: `${stage} finished (exit code 0).`, ok: true } : { text: `${stage} ended with exit code ${e.code}.`, ok: false };
    case "RE":
      return { text: e.stage === "compile" ? `Did not compile (exit code ${e.code ?? "?"}).` : `${stage} ended with an error (exit code ${e.code ?? "?"})${detail}.`, ok: false };
    case "SG":
      return { text: `${stage} was stopped by ${e.signal ?? "a signal"}${detail}.`, ok: false };
    case "TO":
      return { text: `${stage} took too long and was stopped${detail}.`, ok: false };
    case "OL":
    case "EL":
      return { text: `${stage} wrote more output than allowed and was stopped${detail}.`, ok: false };
    case "XX":
      return { text: `The server failed to run the program${detail}.`, ok: false };
    default:
      return { text: `${stage} ended: ${e.status}${e.code !== null ? `, exit code ${e.code}` : ""}${detail}.`, ok: false };
  }
}

/** The part of a WebSocket the session uses (the browser's, or a fake in tests). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface SessionHandlers {
  onFrame(f: ServerFrame): void;
  /** The session is over: explanation null for a normal end. `opened`: whether the connection ever opened. */
  onEnd(explanation: string | null, code: number, opened: boolean): void;
}

const OPEN = 1;

/** One interactive run: connect, send the program, then input and signals; frames and the end come to the handlers. */
export class InteractiveSession {
  private readonly ws: SocketLike;
  private opened = false;
  private ended = false;
  private exited = false;
  /** The last error frame's words: a 4002 close says only "Notified Error". */
  private lastError: string | null = null;

  constructor(url: string, body: ExecuteBody, private readonly h: SessionHandlers, make: (url: string) => SocketLike) {
    this.ws = make(url);
    this.ws.onopen = () => {
      this.opened = true;
      this.ws.send(JSON.stringify({ type: "init", ...body }));
    };
    this.ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      const f = parseFrame(ev.data);
      if (!f) return;
      if (f.type === "exit" && f.stage !== "compile") this.exited = true;
      if (f.type === "error") this.lastError = f.message;
      this.h.onFrame(f);
    };
    this.ws.onclose = (ev) => this.end(ev.code, ev.reason);
    // An error is followed by close, which tells the rest.
    this.ws.onerror = () => {};
  }

  private end(code: number, reason: string) {
    if (this.ended) return;
    this.ended = true;
    // The run's exit came before the connection went: nothing was lost.
    const explanation = this.exited && code !== 4002 ? null : closeExplanation(code, code === 4002 ? (this.lastError ?? reason) : reason, this.opened);
    this.h.onEnd(explanation, code, this.opened);
  }

  get open(): boolean {
    return !this.ended && this.ws.readyState === OPEN;
  }

  /** Text for the program's standard input; false when the session is not open. */
  sendInput(text: string): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({ type: "data", stream: "stdin", data: text }));
    return true;
  }

  /**
   * End of input: the program reads end-of-file once it has read what came before
   * (coderunner's extension of the protocol, "eof" on a stdin message; a Piston server
   * ignores it).
   */
  sendEof(): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({ type: "data", stream: "stdin", data: "", eof: true }));
    return true;
  }

  /** Stop the program (the server kills its whole tree whatever the signal). */
  stop(signal = "SIGKILL"): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({ type: "signal", signal }));
    return true;
  }

  /** Leave: the server ends the run when its client goes. */
  close(): void {
    if (this.ended) return;
    try {
      this.ws.close(1000, "closed by the user");
    } finally {
      this.end(1000, "");
    }
  }
}
