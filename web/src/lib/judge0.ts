// A client for the Judge0 CE API as coderunner serves it (docs/API.md: the routes, fields
// and statuses), plus coderunner's additive many-test-cases extension (docs/JUDGING.md).
// Everything is sent and read with base64_encoded=true: it is the only mode in which
// Judge0 answers every byte of output.

import { decodeBase64, encodeBase64 } from "./base64";

export interface Language {
  id: number;
  name: string;
}

export interface Status {
  id: number;
  description: string;
}

export interface TestCase {
  stdin: string;
  expected_output: string;
}

/** What the IDE sends: plain text here, base64 on the wire. */
export interface SubmissionRequest {
  language_id: number;
  source_code: string;
  stdin?: string;
  expected_output?: string;
  compiler_options?: string;
  command_line_arguments?: string;
  cpu_time_limit?: number;
  memory_limit?: number;
  redirect_stderr_to_stdout?: boolean;
  /** A zip, already base64 (Judge0 sends it base64 whatever base64_encoded says). */
  additional_files?: string;
  /** coderunner extension: many test cases, one compilation. */
  tests?: TestCase[];
  stop_on_failure?: boolean;
}

export interface TestResult {
  stdin: string | null;
  expected_output: string | null;
  stdout: string | null;
  stderr: string | null;
  message: string | null;
  time: string | null;
  wall_time: string | null;
  memory: number | null;
  exit_code: number | null;
  exit_signal: number | null;
  status: Status | null;
  memory_limit_exceeded: boolean;
}

/** A submission as read back, text fields decoded. */
export interface SubmissionResult {
  token: string;
  status: Status;
  stdout: string | null;
  stderr: string | null;
  compile_output: string | null;
  message: string | null;
  time: string | null;
  wall_time: string | null;
  memory: number | null;
  exit_code: number | null;
  exit_signal: number | null;
  memory_limit_exceeded: boolean;
  tests: TestResult[] | null;
}

export type ApiErrorKind =
  | "network" // no HTTP answer at all
  | "validation" // 422: fieldErrors holds Rails' field -> messages map
  | "rate_limited" // 429
  | "unavailable" // 503: maintenance or queue full
  | "unauthorized" // 401/403
  | "bad_request" // 400 (e.g. "wait not allowed", "invalid fields: [...]")
  | "not_found" // 404
  | "server" // 5xx other than 503, or an answer that is not what the API sends
  | "timeout" // the result did not come in time
  | "aborted"; // the caller cancelled

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status?: number;
  readonly fieldErrors?: Record<string, string[]>;
  /** Seconds, from a Retry-After header. */
  readonly retryAfter?: number;
  /** For a timeout: the submission's token, to look it up later. */
  readonly token?: string;
  /** The server's own words ({"error": "..."}), when it gave some. */
  readonly serverMessage?: string;

  constructor(
    kind: ApiErrorKind,
    message: string,
    extra: { status?: number; fieldErrors?: Record<string, string[]>; retryAfter?: number; token?: string; serverMessage?: string } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = extra.status;
    this.fieldErrors = extra.fieldErrors;
    this.retryAfter = extra.retryAfter;
    this.token = extra.token;
    this.serverMessage = extra.serverMessage;
  }
}

/** Judge0's status ids (§3.1). */
export const STATUS = {
  IN_QUEUE: 1,
  PROCESSING: 2,
  ACCEPTED: 3,
  WRONG_ANSWER: 4,
  TIME_LIMIT_EXCEEDED: 5,
  COMPILATION_ERROR: 6,
  INTERNAL_ERROR: 13,
  EXEC_FORMAT_ERROR: 14,
} as const;

export function isFinished(status: Status | null | undefined): boolean {
  return !!status && status.id !== STATUS.IN_QUEUE && status.id !== STATUS.PROCESSING;
}

/** The fields the IDE reads. Judge0 splits on "," without trimming: no spaces. */
export const RESULT_FIELDS = [
  "token",
  "status",
  "stdout",
  "stderr",
  "compile_output",
  "message",
  "time",
  "wall_time",
  "memory",
  "exit_code",
  "exit_signal",
] as const;
/** coderunner's extension fields; a plain Judge0 answers 400 "invalid fields" to them. */
export const EXTENSION_FIELDS = ["memory_limit_exceeded", "tests"] as const;

export interface ClientOptions {
  /** "" for the same origin (static export), "/api" behind the Next proxy, or a full URL. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Extra headers on every request (e.g. X-Auth-Token). */
  headers?: Record<string, string>;
  /** Give up waiting for a result after this long (ms). */
  timeoutMs?: number;
  /** First poll delay (ms); it grows by half each poll up to maxPollIntervalMs. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** For tests: a clock and a sleep. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RunOptions {
  /** true: one POST with wait=true; false (default): POST then poll, as Judge0 advises. */
  wait?: boolean;
  signal?: AbortSignal;
  /** Called with each non-final status while polling (In Queue, Processing). */
  onProgress?: (status: Status, token: string) => void;
}

/** Wait ms, or reject with an "aborted" ApiError when signal fires. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ApiError("aborted", "Cancelled."));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new ApiError("aborted", "Cancelled."));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const b64OrNull = (s: unknown): string | null => (typeof s === "string" ? decodeBase64(s) : null);
const numOrNull = (n: unknown): number | null => (typeof n === "number" ? n : null);
const strOrNull = (s: unknown): string | null => (typeof s === "string" ? s : typeof s === "number" ? String(s) : null);

function statusOf(v: unknown): Status | null {
  if (v && typeof v === "object" && typeof (v as Status).id === "number") {
    const s = v as Status;
    return { id: s.id, description: typeof s.description === "string" ? s.description : `Status ${s.id}` };
  }
  return null;
}

/** A `test` live event: one test case's verdict and measures as it finishes (outputs come with the result). */
export function decodeTestEvent(raw: unknown): { index: number; result: TestResult } | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.index !== "number" || !Number.isInteger(r.index) || r.index < 0) return null;
  return { index: r.index, result: decodeTest(r) };
}

function decodeTest(raw: Record<string, unknown>): TestResult {
  return {
    stdin: b64OrNull(raw.stdin),
    expected_output: b64OrNull(raw.expected_output),
    stdout: b64OrNull(raw.stdout),
    stderr: b64OrNull(raw.stderr),
    message: b64OrNull(raw.message),
    time: strOrNull(raw.time),
    wall_time: strOrNull(raw.wall_time),
    memory: numOrNull(raw.memory),
    exit_code: numOrNull(raw.exit_code),
    exit_signal: numOrNull(raw.exit_signal),
    status: statusOf(raw.status),
    memory_limit_exceeded: raw.memory_limit_exceeded === true,
  };
}

/** Decode a submission read with base64_encoded=true (message is base64 too, §2.1). */
export function decodeSubmission(raw: unknown): SubmissionResult {
  if (!raw || typeof raw !== "object") throw new ApiError("server", "The API answered something that is not a submission.");
  const r = raw as Record<string, unknown>;
  const status = statusOf(r.status);
  if (!status) throw new ApiError("server", "The API answered a submission without a status.");
  return {
    token: typeof r.token === "string" ? r.token : "",
    status,
    stdout: b64OrNull(r.stdout),
    stderr: b64OrNull(r.stderr),
    compile_output: b64OrNull(r.compile_output),
    message: b64OrNull(r.message),
    time: strOrNull(r.time),
    wall_time: strOrNull(r.wall_time),
    memory: numOrNull(r.memory),
    exit_code: numOrNull(r.exit_code),
    exit_signal: numOrNull(r.exit_signal),
    memory_limit_exceeded: r.memory_limit_exceeded === true,
    tests: Array.isArray(r.tests)
      ? r.tests.filter((t): t is Record<string, unknown> => !!t && typeof t === "object").map(decodeTest)
      : null,
  };
}

/** The JSON body of a create request (base64_encoded=true). */
export function encodeSubmission(req: SubmissionRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    language_id: req.language_id,
    source_code: encodeBase64(req.source_code),
  };
  const tests = req.tests && req.tests.length > 0 ? req.tests : undefined;
  if (tests) {
    body.tests = tests.map((t) => ({ stdin: encodeBase64(t.stdin), expected_output: encodeBase64(t.expected_output) }));
    if (req.stop_on_failure) body.stop_on_failure = true;
  } else {
    if (req.stdin) body.stdin = encodeBase64(req.stdin);
    if (req.expected_output) body.expected_output = encodeBase64(req.expected_output);
  }
  // Never base64 (§2.1); Judge0 rejects compiler options for interpreted languages, so
  // blank values are not sent at all.
  if (req.compiler_options?.trim()) body.compiler_options = req.compiler_options;
  if (req.command_line_arguments?.trim()) body.command_line_arguments = req.command_line_arguments;
  if (req.cpu_time_limit !== undefined) body.cpu_time_limit = req.cpu_time_limit;
  if (req.memory_limit !== undefined) body.memory_limit = req.memory_limit;
  if (req.redirect_stderr_to_stdout !== undefined) body.redirect_stderr_to_stdout = req.redirect_stderr_to_stdout;
  if (req.additional_files) body.additional_files = req.additional_files;
  return body;
}

function parseRetryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const n = Number(h);
  if (Number.isFinite(n) && n >= 0) return n;
  const date = Date.parse(h);
  if (!Number.isNaN(date)) return Math.max(0, Math.round((date - Date.now()) / 1000));
  return undefined;
}

/** Turn an HTTP answer that is not a success into an ApiError with a plain message. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await res.text().catch(() => "");
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  const serverMessage =
    body && typeof body === "object" && typeof (body as { error?: unknown }).error === "string"
      ? (body as { error: string }).error
      : undefined;
  const status = res.status;
  const e = errorByStatus(res, status, body, serverMessage);
  return serverMessage === undefined
    ? e
    : new ApiError(e.kind, e.message, { status, fieldErrors: e.fieldErrors, retryAfter: e.retryAfter, serverMessage });
}

function errorByStatus(res: Response, status: number, body: unknown, serverMessage: string | undefined): ApiError {
  switch (status) {
    case 422: {
      const fieldErrors: Record<string, string[]> = {};
      if (body && typeof body === "object" && !Array.isArray(body)) {
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
          if (Array.isArray(v)) fieldErrors[k] = v.map(String);
          else if (typeof v === "string") fieldErrors[k] = [v];
        }
      }
      const lines = Object.entries(fieldErrors).map(([k, msgs]) => `${k}: ${msgs.join(", ")}`);
      return new ApiError("validation", lines.length ? `The submission was refused. ${lines.join("; ")}.` : "The submission was refused (422).", {
        status,
        fieldErrors,
      });
    }
    case 429: {
      const retryAfter = parseRetryAfter(res.headers.get("Retry-After"));
      const wait = retryAfter !== undefined ? `wait ${retryAfter} s` : "wait a little";
      return new ApiError("rate_limited", `Too many requests: the server is limiting how often you can run code. Please ${wait} and run again.`, {
        status,
        retryAfter,
      });
    }
    case 503: {
      const retryAfter = parseRetryAfter(res.headers.get("Retry-After"));
      const why = serverMessage ? ` (${serverMessage})` : "";
      return new ApiError(
        "unavailable",
        `The server cannot take submissions right now${why}. Try again in ${retryAfter !== undefined ? `${retryAfter} s` : "a few seconds"}; if it lasts, the server may be in maintenance or overloaded.`,
        { status, retryAfter },
      );
    }
    case 401:
    case 403:
      return new ApiError(
        "unauthorized",
        `The API refused the request (${status} ${status === 401 ? "Unauthorized" : "Forbidden"}): it needs an API key or does not accept requests from this address. Ask the server's operator.`,
        { status },
      );
    case 400:
      return new ApiError("bad_request", `The API rejected the request: ${serverMessage ?? "400 Bad Request"}.`, { status });
    case 404:
      return new ApiError("not_found", `Not found (404)${serverMessage ? `: ${serverMessage}` : ""}. Is this the coderunner API?`, { status });
    default:
      return new ApiError("server", `The API failed with HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""}.`, { status });
  }
}

export class Judge0Client {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Set once the server said it does not know the extension fields (a plain Judge0). */
  private plainJudge0 = false;
  /** Set once the server answered that it has no live events (/events 404 or 501): runs are polled. */
  noLiveEvents = false;

  constructor(opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = opts.headers ?? {};
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.maxPollIntervalMs = opts.maxPollIntervalMs ?? 1_000;
    this.now = opts.now ?? (() => Date.now());
    this.sleep = opts.sleep ?? defaultSleep;
  }

  url(path: string, params?: Record<string, string>): string {
    // Commas stay literal (fields=a,b), as Judge0's own clients send them.
    const q = params
      ? "?" +
        Object.entries(params)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/gi, ",")}`)
          .join("&")
      : "";
    return `${this.base}${path}${q}`;
  }

  private async request(method: "GET" | "POST", url: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: {
          Accept: "application/json",
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...this.headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal,
        cache: "no-store",
      });
    } catch (e) {
      if (signal?.aborted || (e instanceof DOMException && e.name === "AbortError")) throw new ApiError("aborted", "Cancelled.");
      throw new ApiError(
        "network",
        `Cannot reach the coderunner API${this.base ? ` at ${this.base}` : ""}: ${e instanceof Error ? e.message : String(e)}. Is the server running, and is this machine online?`,
      );
    }
    if (!res.ok) throw await errorFromResponse(res);
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError("server", `The API answered HTTP ${res.status} with something that is not JSON. Is this the coderunner API?`, {
        status: res.status,
      });
    }
  }

  /**
   * GET /submissions/:token/events (coderunner's live events, docs/API.md): the open
   * stream of Server-Sent Events, with the same base64 and fields as get(). An HTTP error
   * is thrown as an ApiError with its status (404 or 501 from a server without the route).
   */
  async openEvents(token: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const url = this.url(`/submissions/${encodeURIComponent(token)}/events`, { base64_encoded: "true", fields: this.fields() });
    let res: Response;
    try {
      res = await this.fetchFn(url, { method: "GET", headers: { Accept: "text/event-stream", ...this.headers }, signal, cache: "no-store" });
    } catch (e) {
      if (signal?.aborted || (e instanceof DOMException && e.name === "AbortError")) throw new ApiError("aborted", "Cancelled.");
      throw new ApiError("network", `The connection to the server was lost: ${e instanceof Error ? e.message : String(e)}.`);
    }
    if (!res.ok) throw await errorFromResponse(res);
    if (!res.body || !/^text\/event-stream/i.test(res.headers.get("Content-Type") ?? "")) {
      res.body?.cancel().catch(() => {});
      // Something in between answered a page of its own: as good as no route.
      throw new ApiError("not_found", "The server does not stream live events.", { status: 404 });
    }
    return res.body;
  }

  /** GET a JSON route of this API (e.g. /api/v2/runtimes), errors as for every route. */
  async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.request("GET", this.url(path), undefined, signal);
  }

  /** How the server answers a plain GET of path: its status and message, or null status when unreachable. */
  async probe(path: string, signal?: AbortSignal): Promise<{ status: number | null; message: string | null }> {
    try {
      const res = await this.fetchFn(this.url(path), { method: "GET", headers: { Accept: "application/json", ...this.headers }, signal, cache: "no-store" });
      const text = await res.text().catch(() => "");
      let message: string | null = null;
      try {
        const o = JSON.parse(text) as { message?: unknown; error?: unknown };
        message = typeof o.message === "string" ? o.message : typeof o.error === "string" ? o.error : null;
      } catch {
        /* not JSON: no message */
      }
      return { status: res.status, message };
    } catch {
      return { status: null, message: null };
    }
  }

  async languages(signal?: AbortSignal): Promise<Language[]> {
    const raw = await this.request("GET", this.url("/languages"), undefined, signal);
    if (!Array.isArray(raw)) throw new ApiError("server", "GET /languages did not answer a list.");
    return raw
      .filter((l): l is Language => !!l && typeof l.id === "number" && typeof l.name === "string")
      .map((l) => ({ id: l.id, name: l.name }));
  }

  async statuses(signal?: AbortSignal): Promise<Status[]> {
    const raw = await this.request("GET", this.url("/statuses"), undefined, signal);
    if (!Array.isArray(raw)) throw new ApiError("server", "GET /statuses did not answer a list.");
    return raw.map(statusOf).filter((s): s is Status => s !== null);
  }

  private fields(): string {
    return (this.plainJudge0 ? [...RESULT_FIELDS] : [...RESULT_FIELDS, ...EXTENSION_FIELDS]).join(",");
  }

  /** With a fields list, retry once without the extension fields if the server is a plain Judge0. */
  private async withFields<T>(f: (fields: string) => Promise<T>): Promise<T> {
    try {
      return await f(this.fields());
    } catch (e) {
      if (!this.plainJudge0 && e instanceof ApiError && e.kind === "bad_request" && /invalid fields/i.test(e.message)) {
        this.plainJudge0 = true;
        return f(this.fields());
      }
      throw e;
    }
  }

  /** POST /submissions?base64_encoded=true&wait=false: the token. */
  async create(req: SubmissionRequest, signal?: AbortSignal): Promise<string> {
    const raw = await this.request("POST", this.url("/submissions", { base64_encoded: "true", wait: "false" }), encodeSubmission(req), signal);
    const token = raw && typeof raw === "object" ? (raw as { token?: unknown }).token : undefined;
    if (typeof token !== "string" || !token) throw new ApiError("server", "The API accepted the submission but returned no token.");
    return token;
  }

  /** POST /submissions?base64_encoded=true&wait=true&fields=...: the finished submission. */
  async createAndWait(req: SubmissionRequest, signal?: AbortSignal): Promise<SubmissionResult> {
    return this.withFields(async (fields) => {
      const raw = await this.request(
        "POST",
        this.url("/submissions", { base64_encoded: "true", wait: "true", fields }),
        encodeSubmission(req),
        signal,
      );
      if (raw && typeof raw === "object" && typeof (raw as { error?: unknown }).error === "string" && !(raw as { status?: unknown }).status) {
        throw new ApiError("server", `The API could not return the result: ${(raw as { error: string }).error}`);
      }
      return decodeSubmission(raw);
    });
  }

  /** GET /submissions/:token?base64_encoded=true&fields=... */
  async get(token: string, signal?: AbortSignal): Promise<SubmissionResult> {
    return this.withFields(async (fields) =>
      decodeSubmission(
        await this.request("GET", this.url(`/submissions/${encodeURIComponent(token)}`, { base64_encoded: "true", fields }), undefined, signal),
      ),
    );
  }

  /** Submit and wait for the verdict: by polling (default) or with wait=true. */
  async run(req: SubmissionRequest, opts: RunOptions = {}): Promise<SubmissionResult> {
    const { signal, onProgress } = opts;
    const started = this.now();
    let token: string | undefined;
    if (opts.wait) {
      try {
        const r = await this.createAndWait(req, signal);
        // The server gives up waiting after a while (coderunner: wait_timeout) and
        // answers the submission as it is: then poll it like any other.
        if (isFinished(r.status) || !r.token) return r;
        token = r.token;
        onProgress?.(r.status, token);
      } catch (e) {
        // The server may forbid wait=true ("wait not allowed"): fall back to polling.
        if (!(e instanceof ApiError && e.kind === "bad_request" && /wait not allowed/i.test(e.message))) throw e;
      }
    }
    if (token === undefined) {
      token = await this.create(req, signal);
      onProgress?.({ id: STATUS.IN_QUEUE, description: "In Queue" }, token);
    }
    let delay = this.pollIntervalMs;
    for (;;) {
      const elapsed = this.now() - started;
      if (elapsed >= this.timeoutMs) {
        throw new ApiError(
          "timeout",
          `No result after ${Math.round(elapsed / 1000)} s. The server may be overloaded or its workers stopped; the submission's token is ${token}.`,
          { token },
        );
      }
      await this.sleep(Math.min(delay, Math.max(0, this.timeoutMs - elapsed)), signal);
      delay = Math.min(this.maxPollIntervalMs, Math.round(delay * 1.5));
      const result = await this.get(token, signal);
      if (isFinished(result.status)) return result;
      onProgress?.(result.status, token);
    }
  }
}
