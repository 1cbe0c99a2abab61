// Following a submission to its result: live events (Server-Sent Events) when the server
// has them, polling when it does not (a plain Judge0; a gateway or proxy without the
// route answers 404 or 501), and through a dropped connection: the run goes on on the
// server, so the client asks again (the result, or the events resumed) until the deadline.

import { ApiError, STATUS, decodeSubmission, defaultSleep, decodeTestEvent, isFinished, type Judge0Client, type Status, type SubmissionResult, type TestResult } from "./judge0";
import { readEvents } from "./sse";

/** How the run is being followed: live events, polling, or waiting for the connection to come back. */
export type Connection = "live" | "polling" | "reconnecting";

export interface FollowOptions {
  signal?: AbortSignal;
  /** When the run started (ms, the clock below): the deadline counts from it. */
  started?: number;
  timeoutMs?: number;
  onStatus?: (status: Status) => void;
  /** A test case finished (live events only). */
  onTest?: (index: number, result: TestResult) => void;
  onConnection?: (c: Connection) => void;
  /**
   * A "drop" event on it ends the current connection as lost (the browser went offline:
   * an open stream would otherwise hang until the operating system gives up on it).
   */
  drops?: EventTarget;
  /** First poll delay and its ceiling (ms); the reconnection delay starts at the first and doubles up to maxRetryMs. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  maxRetryMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** An answer from /events that means "no live events here": follow by polling. */
function eventsUnsupported(e: ApiError): boolean {
  return e.status === 404 || e.status === 405 || e.status === 501 || e.kind === "bad_request";
}

/** A failure that a later try may not have: the connection, or the server for a moment. */
function transient(e: ApiError): boolean {
  return e.kind === "network" || e.kind === "rate_limited" || e.kind === "unavailable" || (e.kind === "server" && e.status !== undefined && e.status >= 500 && e.status !== 501);
}

const asApiError = (e: unknown): ApiError => (e instanceof ApiError ? e : new ApiError("network", e instanceof Error ? e.message : String(e)));

/**
 * One live-events connection: the result when it comes, or an ApiError. A stream that ends
 * before the result (the server restarting, a proxy's timeout) is a "network" error.
 */
export async function streamOnce(client: Judge0Client, token: string, o: FollowOptions, onOpen: () => void): Promise<SubmissionResult> {
  const ac = new AbortController();
  const cancel = () => ac.abort();
  const drop = () => ac.abort(new ApiError("network", "The browser went offline."));
  o.signal?.addEventListener("abort", cancel);
  o.drops?.addEventListener("drop", drop);
  try {
    if (o.signal?.aborted) throw new ApiError("aborted", "Cancelled.");
    return await streamUntilResult(client, token, o, ac.signal, onOpen);
  } catch (e) {
    if (o.signal?.aborted) throw new ApiError("aborted", "Cancelled.");
    if (ac.signal.aborted) throw new ApiError("network", "The connection was lost: the browser went offline.");
    throw e;
  } finally {
    o.signal?.removeEventListener("abort", cancel);
    o.drops?.removeEventListener("drop", drop);
  }
}

async function streamUntilResult(client: Judge0Client, token: string, o: FollowOptions, signal: AbortSignal, onOpen: () => void): Promise<SubmissionResult> {
  const body = await client.openEvents(token, signal);
  onOpen();
  let result: SubmissionResult | null = null;
  let bad: ApiError | null = null;
  try {
    await readEvents(body, (e) => {
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        return false; // not ours: skipped
      }
      if (e.event === "status") {
        const s = (data as { status?: Status } | null)?.status;
        if (s && typeof s.id === "number" && typeof s.description === "string" && !isFinished(s)) o.onStatus?.(s);
      } else if (e.event === "test") {
        const t = decodeTestEvent(data);
        if (t) o.onTest?.(t.index, t.result);
      } else if (e.event === "result") {
        try {
          result = decodeSubmission(data);
        } catch (err) {
          bad = asApiError(err);
        }
        return true;
      }
      return false;
    }, signal);
  } catch (e) {
    if (signal.aborted) throw new ApiError("aborted", "Cancelled.");
    throw new ApiError("network", `The live connection to the server was lost: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (bad) throw bad;
  if (!result) throw new ApiError("network", "The live connection ended before the result.");
  return result;
}

/** Follow token until its result; throws ApiError (aborted, timeout with the token, not_found, unauthorized...). */
export async function followSubmission(client: Judge0Client, token: string, o: FollowOptions = {}): Promise<SubmissionResult> {
  const now = o.now ?? (() => Date.now());
  const sleep = o.sleep ?? defaultSleep;
  const started = o.started ?? now();
  const timeoutMs = o.timeoutMs ?? 120_000;
  const firstDelay = o.pollIntervalMs ?? 200;
  const maxPoll = o.maxPollIntervalMs ?? 1_000;
  const maxRetry = o.maxRetryMs ?? 5_000;
  let live = !client.noLiveEvents;
  /** The events route said no: once a GET of the same token works, the server has no live events (and is not asked again). */
  let unsupportedSeen = false;
  let pollDelay = firstDelay;
  let retryDelay = firstDelay;
  let lost = false;
  const connection = (c: Connection) => o.onConnection?.(c);

  for (;;) {
    const elapsed = now() - started;
    if (elapsed >= timeoutMs) {
      throw new ApiError(
        "timeout",
        `No result after ${Math.round(elapsed / 1000)} s. ${lost ? "The connection to the server did not come back" : "The server may be overloaded or its workers stopped"}; the submission's token is ${token}.`,
        { token },
      );
    }
    try {
      if (live) {
        return await streamOnce(client, token, o, () => {
          lost = false;
          retryDelay = firstDelay;
          connection("live");
        });
      }
      await sleep(Math.min(pollDelay, Math.max(0, timeoutMs - elapsed)), o.signal);
      pollDelay = Math.min(maxPoll, Math.round(pollDelay * 1.5));
      const r = await client.get(token, o.signal);
      if (unsupportedSeen) client.noLiveEvents = true;
      if (lost) {
        lost = false;
        retryDelay = firstDelay;
      }
      connection("polling");
      if (isFinished(r.status)) return r;
      o.onStatus?.(r.status);
    } catch (e) {
      const err = asApiError(e);
      if (err.kind === "aborted" || o.signal?.aborted) throw new ApiError("aborted", "Cancelled.");
      if (live && eventsUnsupported(err)) {
        // No live events on this server (or this token is unknown: the first GET says which).
        live = false;
        unsupportedSeen = true;
        pollDelay = 0;
        connection("polling");
        continue;
      }
      if (!transient(err)) throw err;
      lost = true;
      connection("reconnecting");
      await sleep(Math.min(retryDelay, Math.max(0, timeoutMs - (now() - started))), o.signal);
      retryDelay = Math.min(maxRetry, retryDelay * 2);
      if (live) {
        // Back: the result may be there already, and one GET is cheaper than a stream.
        try {
          const r = await client.get(token, o.signal);
          if (isFinished(r.status)) return r;
          o.onStatus?.(r.status);
        } catch (e2) {
          const err2 = asApiError(e2);
          if (err2.kind === "aborted" || o.signal?.aborted) throw new ApiError("aborted", "Cancelled.");
          if (!transient(err2)) throw err2;
        }
      }
    }
  }
}

/** The status a run shows before the server said anything. */
export const QUEUED: Status = { id: STATUS.IN_QUEUE, description: "In Queue" };
