"use client";

// One run at a time: submit, follow it live (src/lib/follow.ts: live events, else polling,
// through dropped connections), and the result or the error. The run is kept in the
// browser from the moment it has a token (src/lib/recovery.ts), so a reload brings its
// result back. Cancel stops waiting, not the run: the server runs it to its end anyway, so
// its result still shows when it comes.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Judge0Client, type Status, type SubmissionRequest, type SubmissionResult, type TestCase, type TestResult } from "@/lib/judge0";
import { QUEUED, followSubmission, type Connection } from "@/lib/follow";
import { clearPending, loadPending, savePending, type PendingRun } from "@/lib/recovery";

export type RunState =
  | { kind: "idle" }
  | {
      kind: "running";
      status: Status | null;
      started: number;
      token: string | null;
      connection: Connection | null;
      /** Each test case's verdict as it finishes (live events only); null without test cases. */
      live: (TestResult | null)[] | null;
      /** Brought back after a reload. */
      recovered: boolean;
      /** The user stopped waiting: the result shows if it comes, and Run is free meanwhile. */
      detached: boolean;
    }
  | { kind: "done"; result: SubmissionResult; tests: TestCase[] | null; recovered: boolean }
  | { kind: "error"; error: ApiError };

/** What a run is, besides the request: kept with its token, and handed to onFinished. */
export type RunMeta = Omit<PendingRun, "token" | "startedMs">;

export interface RunOptions {
  timeoutMs: number;
  /** The workspace is read (the API key is in the client): a kept run may be resumed. */
  resumeReady: boolean;
  /** Every finished run, started here or brought back after a reload. */
  onFinished?: (result: SubmissionResult, meta: RunMeta) => void;
}

const storage = () => (typeof window === "undefined" ? undefined : window.localStorage);

export function useRun(client: Judge0Client, opts: RunOptions) {
  const [run, setRun] = useState<RunState>({ kind: "idle" });
  const [elapsed, setElapsed] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const generation = useRef(0);
  const optsRef = useRef(opts);
  optsRef.current = opts;
  // The browser going offline drops the live connection at once (it would hang otherwise).
  const drops = useRef<EventTarget | null>(null);
  useEffect(() => {
    const target = new EventTarget();
    drops.current = target;
    const onOffline = () => target.dispatchEvent(new Event("drop"));
    window.addEventListener("offline", onOffline);
    return () => window.removeEventListener("offline", onOffline);
  }, []);

  /** Follow token to its result, as run number gen; null when it failed, or another run replaced it. */
  const follow = useCallback(
    async (gen: number, ac: AbortController, pending: PendingRun, recovered: boolean): Promise<SubmissionResult | null> => {
      const mine = () => gen === generation.current;
      const patch = (f: (r: Extract<RunState, { kind: "running" }>) => Partial<Extract<RunState, { kind: "running" }>>) =>
        mine() && setRun((r) => (r.kind === "running" ? { ...r, ...f(r) } : r));
      const meta: RunMeta = {
        languageId: pending.languageId,
        sourceCode: pending.sourceCode,
        stdin: pending.stdin,
        tests: pending.tests,
        createdAt: pending.createdAt,
        files: pending.files,
        mainName: pending.mainName,
      };
      try {
        const result = await followSubmission(client, pending.token, {
          signal: ac.signal,
          started: pending.startedMs,
          timeoutMs: optsRef.current.timeoutMs,
          drops: drops.current ?? undefined,
          onStatus: (status) => patch(() => ({ status })),
          onConnection: (connection) => patch(() => ({ connection })),
          onTest: (i, t) =>
            patch((r) => {
              if (!r.live || i >= r.live.length) return {};
              const live = r.live.slice();
              live[i] = t;
              return { live };
            }),
        });
        clearPending(storage(), pending.token);
        if (mine()) setRun({ kind: "done", result, tests: pending.tests, recovered });
        optsRef.current.onFinished?.(result, meta);
        return result;
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError("server", e instanceof Error ? e.message : String(e));
        // The run is forgotten once its failure is shown (a timeout too: its message has the
        // token); a run replaced by another one is forgotten by the new one's save.
        if (err.kind !== "aborted") clearPending(storage(), pending.token);
        if (mine() && err.kind !== "aborted") setRun({ kind: "error", error: err });
        return null;
      } finally {
        if (abort.current === ac) abort.current = null;
      }
    },
    [client],
  );

  /** The finished submission, or null when it failed or another run replaced it (the state says which). */
  const start = useCallback(
    async (req: SubmissionRequest, wait: boolean, meta: RunMeta): Promise<SubmissionResult | null> => {
      // A run still followed after Cancel is let go: the new one takes the page (and the browser's memory).
      abort.current?.abort();
      clearPending(storage());
      const ac = new AbortController();
      abort.current = ac;
      const gen = ++generation.current;
      const started = Date.now();
      const live = req.tests && req.tests.length > 0 ? req.tests.map(() => null) : null;
      setRun({ kind: "running", status: null, started, token: null, connection: null, live, recovered: false, detached: false });
      if (wait) {
        // One wait=true request: nothing to follow or to bring back until it answers.
        try {
          const result = await client.run(req, {
            wait: true,
            signal: ac.signal,
            onProgress: (status, token) => gen === generation.current && setRun((r) => (r.kind === "running" ? { ...r, status, token } : r)),
          });
          if (gen === generation.current) setRun({ kind: "done", result, tests: req.tests ?? null, recovered: false });
          optsRef.current.onFinished?.(result, meta);
          return result;
        } catch (e) {
          const err = e instanceof ApiError ? e : new ApiError("server", e instanceof Error ? e.message : String(e));
          if (gen === generation.current) setRun(err.kind === "aborted" ? { kind: "idle" } : { kind: "error", error: err });
          return null;
        } finally {
          if (abort.current === ac) abort.current = null;
        }
      }
      let token: string;
      try {
        token = await client.create(req, ac.signal);
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError("server", e instanceof Error ? e.message : String(e));
        if (gen === generation.current) setRun(err.kind === "aborted" ? { kind: "idle" } : { kind: "error", error: err });
        if (abort.current === ac) abort.current = null;
        return null;
      }
      const pending: PendingRun = { ...meta, token, startedMs: started };
      savePending(storage(), pending);
      if (gen === generation.current) setRun((r) => (r.kind === "running" ? { ...r, token, status: QUEUED } : r));
      return follow(gen, ac, pending, false);
    },
    [client, follow],
  );

  // After a reload: the run kept in the browser is followed again, once.
  const resumed = useRef(false);
  useEffect(() => {
    if (!opts.resumeReady || resumed.current) return;
    resumed.current = true;
    const pending = loadPending(storage(), Date.now());
    if (!pending || abort.current) return;
    const ac = new AbortController();
    abort.current = ac;
    const gen = ++generation.current;
    const live = pending.tests && pending.tests.length > 0 ? pending.tests.map(() => null) : null;
    setRun({ kind: "running", status: null, started: pending.startedMs, token: pending.token, connection: "reconnecting", live, recovered: true, detached: false });
    void follow(gen, ac, pending, true);
  }, [opts.resumeReady, follow]);

  useEffect(() => () => abort.current?.abort(), []);

  useEffect(() => {
    if (run.kind !== "running") return;
    const t = setInterval(() => setElapsed(Date.now() - run.started), 100);
    return () => clearInterval(t);
  }, [run]);

  /**
   * Stop waiting. A run with a token goes on on the server, so it is followed quietly and
   * its result shows when it comes; one without (still being sent, or wait=true) is dropped.
   */
  const runRef = useRef(run);
  runRef.current = run;
  const cancel = useCallback(() => {
    const r = runRef.current;
    if (r.kind !== "running") return;
    if (r.token && !r.detached) {
      setRun((x) => (x.kind === "running" ? { ...x, detached: true } : x));
      return;
    }
    abort.current?.abort();
    ++generation.current;
    setRun({ kind: "idle" });
  }, []);
  return { run, elapsed, running: run.kind === "running" && !run.detached, start, cancel };
}
