"use client";

// One run at a time: submit, follow its progress, and the result or the error.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Judge0Client, type Status, type SubmissionRequest, type SubmissionResult, type TestCase } from "@/lib/judge0";

export type RunState =
  | { kind: "idle" }
  | { kind: "running"; status: Status | null; started: number }
  | { kind: "done"; result: SubmissionResult; tests: TestCase[] | null }
  | { kind: "error"; error: ApiError };

export function useRun(client: Judge0Client) {
  const [run, setRun] = useState<RunState>({ kind: "idle" });
  const [elapsed, setElapsed] = useState(0);
  const abort = useRef<AbortController | null>(null);

  /** The finished submission, or null when it failed or was cancelled (the state says which). */
  const start = useCallback(
    async (req: SubmissionRequest, wait: boolean): Promise<SubmissionResult | null> => {
      if (abort.current) return null;
      const ac = new AbortController();
      abort.current = ac;
      const started = Date.now();
      setRun({ kind: "running", status: null, started });
      try {
        const result = await client.run(req, { wait, signal: ac.signal, onProgress: (status) => setRun({ kind: "running", status, started }) });
        setRun({ kind: "done", result, tests: req.tests ?? null });
        return result;
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError("server", e instanceof Error ? e.message : String(e));
        setRun(err.kind === "aborted" ? { kind: "idle" } : { kind: "error", error: err });
        return null;
      } finally {
        abort.current = null;
      }
    },
    [client],
  );

  useEffect(() => {
    if (run.kind !== "running") return;
    const t = setInterval(() => setElapsed(Date.now() - run.started), 100);
    return () => clearInterval(t);
  }, [run]);

  const cancel = useCallback(() => abort.current?.abort(), []);
  return { run, elapsed, running: run.kind === "running", start, cancel };
}
