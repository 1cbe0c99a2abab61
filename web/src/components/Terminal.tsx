"use client";

import { useEffect, useRef, useState } from "react";
import type { InteractiveState } from "@/hooks/useInteractive";
import { TONE_CLASSES } from "@/lib/verdict";
import { buttonClass, inputClass } from "./ui";

const KIND_CLASS = {
  stdout: "",
  stderr: "text-rose-700 dark:text-rose-300",
  stdin: "text-sky-800 dark:text-sky-300 font-semibold",
  info: "text-slate-600 dark:text-slate-400 italic",
} as const;

interface Props {
  state: InteractiveState;
  onLine: (line: string) => void;
  onEof: () => void;
  onStop: () => void;
}

/**
 * The interactive run's terminal: what the program printed and what the user typed, in
 * order (input in bold), a line to type into (Enter sends it; Ctrl+D or the button ends
 * the input), Stop, and how each stage ended.
 */
export default function Terminal({ state, onLine, onEof, onStop }: Props) {
  const [line, setLine] = useState("");
  const out = useRef<HTMLPreElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const running = state.phase === "running";
  const live = state.phase === "connecting" || running;

  // Follow the output as it grows, as a terminal does.
  useEffect(() => {
    const el = out.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.transcript]);
  // The run starts: typing goes to it.
  useEffect(() => {
    if (running) input.current?.focus({ preventScroll: true });
  }, [running]);

  const status =
    state.phase === "connecting"
      ? "Connecting…"
      : running
        ? state.stage === "compile"
          ? "Compiling…"
          : "Running: type input below"
        : state.phase === "ended"
          ? "Ended"
          : "Not started";

  return (
    <div data-testid="terminal" data-phase={state.phase}>
      <div className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <span data-testid="terminal-status" className="font-medium">
          {status}
        </span>
        <button type="button" className={`${buttonClass} ml-auto`} onClick={onStop} disabled={!live} data-testid="terminal-stop">
          Stop
        </button>
      </div>
      {state.phase === "idle" && (
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-400" data-testid="terminal-hint">
          Run starts the program here: its output shows as it is printed, and you type its input below while it runs. The standard input and
          test cases above are not used.
        </p>
      )}
      {state.notes.map((n) => (
        <p key={n} className="mb-2 text-sm text-slate-700 dark:text-slate-300">
          {n}
        </p>
      ))}
      <pre
        ref={out}
        data-testid="terminal-output"
        role="log"
        aria-live="polite"
        aria-label="Program output and your input"
        tabIndex={0}
        className="h-64 overflow-auto whitespace-pre-wrap break-words rounded border border-slate-300 bg-slate-50 p-2 font-mono text-sm dark:border-slate-700 dark:bg-slate-900"
      >
        {state.transcript.dropped > 0 && <span className={KIND_CLASS.info}>[{state.transcript.dropped} earlier characters not shown]{"\n"}</span>}
        {state.transcript.chunks.map((c, i) => (
          <span key={i} className={KIND_CLASS[c.kind]} data-kind={c.kind}>
            {c.text}
          </span>
        ))}
      </pre>
      <form
        className="mt-2 flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          onLine(line);
          setLine("");
        }}
      >
        <label htmlFor="terminal-input" className="sr-only">
          Input for the program (Enter sends the line, Ctrl+D ends the input)
        </label>
        <input
          id="terminal-input"
          ref={input}
          data-testid="terminal-input"
          className={inputClass}
          value={line}
          disabled={!running || state.eofSent}
          autoComplete="off"
          spellCheck={false}
          placeholder={running ? (state.eofSent ? "Input ended" : "Type a line, Enter sends it") : ""}
          aria-keyshortcuts="Control+D"
          onChange={(e) => setLine(e.target.value)}
          onKeyDown={(e) => {
            if (e.ctrlKey && !e.altKey && !e.metaKey && e.key.toLowerCase() === "d") {
              e.preventDefault();
              if (line) onLine(line);
              setLine("");
              onEof();
            }
          }}
        />
        <button type="submit" className={`${buttonClass} shrink-0 whitespace-nowrap`} disabled={!running || state.eofSent}>
          Send
        </button>
        <button type="button" className={`${buttonClass} shrink-0 whitespace-nowrap`} disabled={!running || state.eofSent} onClick={onEof} data-testid="terminal-eof" title="End of input (Ctrl+D)">
          End input
        </button>
      </form>
      {state.exits.map((x, i) => (
        <p key={i} data-testid={`terminal-exit-${x.stage}`} className={`mt-2 rounded border-l-4 p-2 text-sm ${x.ok ? TONE_CLASSES.ok : TONE_CLASSES.runtime}`}>
          {x.summary}
        </p>
      ))}
      {state.error && (
        <p data-testid="terminal-error" role="alert" className={`mt-2 rounded border-l-4 p-2 text-sm ${TONE_CLASSES.internal}`}>
          {state.error}
        </p>
      )}
    </div>
  );
}
