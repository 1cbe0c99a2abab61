"use client";

import type { RunState } from "@/hooks/useRun";
import type { TestResult } from "@/lib/judge0";
import { TONE_CLASSES, formatMemory, formatTime, plainVerdict, toneOf } from "@/lib/verdict";

type Running = Extract<RunState, { kind: "running" }>;

const CONNECTION_TEXT = {
  live: "following live",
  polling: "checking for the result",
  reconnecting: "connection lost: reconnecting…",
} as const;

function LiveTest({ i, t }: { i: number; t: TestResult | null }) {
  if (!t) {
    return (
      <li data-testid={`live-test-${i}`} data-state="pending" className="text-slate-600 dark:text-slate-400">
        Test {i + 1}: waiting
      </li>
    );
  }
  const plain = plainVerdict(t.status, t.memory_limit_exceeded, t.exit_code);
  return (
    <li data-testid={`live-test-${i}`} data-state="done" className={`rounded border-l-4 px-2 ${TONE_CLASSES[toneOf(t.status, t.memory_limit_exceeded)]}`}>
      Test {i + 1}: {plain.title} <span className="text-xs">({t.status?.description ?? "?"}, {formatTime(t.time)}, {formatMemory(t.memory)})</span>
    </li>
  );
}

/** A run in progress: its status, how it is followed, and each test case as it finishes. */
export default function LiveProgress({ run, elapsed }: { run: Running; elapsed: number }) {
  const reconnecting = run.connection === "reconnecting";
  return (
    <div className={`rounded border-l-4 p-3 ${TONE_CLASSES.pending}`} data-testid="progress" data-status-id={run.status?.id ?? 0}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent" aria-hidden="true" />
        <span data-testid="progress-status">{run.status?.description ?? "Submitting"}…</span>
        <span>{(elapsed / 1000).toFixed(1)} s</span>
        {run.connection && (
          <span data-testid="connection" data-connection={run.connection} className={`text-xs ${reconnecting ? "font-semibold" : ""}`}>
            ({CONNECTION_TEXT[run.connection]})
          </span>
        )}
      </div>
      {run.recovered && (
        <p className="mt-1 text-sm" data-testid="recovered">
          This run was started before the page was reloaded or the connection dropped; the server kept running it, and its result will show here.
        </p>
      )}
      {reconnecting && !run.recovered && (
        <p className="mt-1 text-sm" role="status">
          The program goes on running on the server. Its result will show as soon as the connection is back.
        </p>
      )}
      {run.detached && (
        <p className="mt-1 text-sm" data-testid="detached" role="status">
          You stopped waiting, but the server cannot be told to stop a run: it goes on to its end, and its result will show here when it comes. Run is free meanwhile.
        </p>
      )}
      {run.live && (
        <ol className="mt-2 space-y-1 text-sm" aria-label="Test cases so far">
          {run.live.map((t, i) => (
            <LiveTest key={i} i={i} t={t} />
          ))}
        </ol>
      )}
      {run.token && <p className="mt-1 text-xs opacity-80">Token: {run.token}</p>}
    </div>
  );
}
