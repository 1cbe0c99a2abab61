"use client";

// An interactive run: the program over the server's WebSocket (src/lib/piston.ts), its
// output in a transcript as it comes, the user's lines sent to its standard input, Stop,
// and the end in plain words. Whatever was printed stays when it ends, however it ends.

import { useCallback, useEffect, useRef, useState } from "react";
import type { Judge0Client, Language } from "@/lib/judge0";
import {
  InteractiveSession,
  connectUrl,
  exitSummary,
  parseRuntimes,
  refusalExplanation,
  runtimeFor,
  splitArgs,
  type ExecuteBody,
  type ExitFrame,
  type PistonRuntime,
  type ServerFrame,
  type SocketLike,
} from "@/lib/piston";
import { EMPTY_TRANSCRIPT, append, type ChunkKind, type Transcript } from "@/lib/transcript";

export type InteractivePhase = "idle" | "connecting" | "running" | "ended";

export interface InteractiveState {
  phase: InteractivePhase;
  transcript: Transcript;
  /** "compile" or "run" while one goes on. */
  stage: string | null;
  /** The end of each stage, in plain words. */
  exits: (ExitFrame & { summary: string; ok: boolean })[];
  /** Why the session ended early or could not start; null when it ended normally. */
  error: string | null;
  /** End of input was sent. */
  eofSent: boolean;
  /** Notes before the run (e.g. compiler options not used). */
  notes: string[];
}

const INITIAL: InteractiveState = { phase: "idle", transcript: EMPTY_TRANSCRIPT, stage: null, exits: [], error: null, eofSent: false, notes: [] };

export function useInteractive(client: Judge0Client, apiBase: string) {
  const [state, setState] = useState<InteractiveState>(INITIAL);
  const session = useRef<InteractiveSession | null>(null);
  const runtimes = useRef<{ client: Judge0Client; list: PistonRuntime[] } | null>(null);
  const generation = useRef(0);

  const add = useCallback((kind: ChunkKind, text: string) => setState((s) => ({ ...s, transcript: append(s.transcript, kind, text) })), []);

  const start = useCallback(
    async (lang: Language, files: ExecuteBody["files"], args: string, compilerOptions: string) => {
      session.current?.close();
      const gen = ++generation.current;
      const mine = () => gen === generation.current;
      const notes: string[] = [];
      if (compilerOptions.trim()) notes.push("Compiler options are not used in interactive runs (the protocol has none).");
      setState({ ...INITIAL, phase: "connecting", notes });
      const fail = (error: string) => mine() && setState((s) => ({ ...s, phase: "ended", error }));
      const argv = splitArgs(args);
      if (!Array.isArray(argv)) return fail(`Cannot start: ${argv.error}.`);
      try {
        if (runtimes.current?.client !== client) runtimes.current = { client, list: parseRuntimes(await client.getJson("/api/v2/runtimes")) };
      } catch {
        const p = await client.probe("/api/v2/connect");
        return fail(refusalExplanation(p.status, p.message));
      }
      if (!mine()) return;
      const rt = runtimeFor(lang, runtimes.current.list);
      if (!rt) return fail(`${lang.name} cannot run interactively on this server (it is not among its interactive runtimes). Use a normal run.`);
      const onFrame = (f: ServerFrame) => {
        if (!mine()) return;
        switch (f.type) {
          case "runtime":
            return setState((s) => ({ ...s, phase: "running" }));
          case "stage":
            return setState((s) => ({ ...s, phase: "running", stage: f.stage }));
          case "data":
            return add(f.stream, f.data);
          case "exit": {
            const { text, ok } = exitSummary(f);
            return setState((s) => ({ ...s, stage: null, exits: [...s.exits, { ...f, summary: text, ok }] }));
          }
          case "error":
            return add("info", `\n[server: ${f.message}]\n`);
        }
      };
      const onEnd = async (explanation: string | null, _code: number, opened: boolean) => {
        if (!mine()) return;
        session.current = null;
        let error = explanation;
        // A WebSocket that never opened hides the HTTP answer: ask the route plainly why.
        if (!opened) {
          const p = await client.probe("/api/v2/connect");
          error = refusalExplanation(p.status, p.message);
        }
        if (mine()) setState((s) => ({ ...s, phase: "ended", stage: null, error }));
      };
      const url = connectUrl(apiBase, window.location);
      session.current = new InteractiveSession(
        url,
        { language: rt.language, version: rt.version, files, ...(argv.length ? { args: argv } : {}) },
        { onFrame, onEnd: (e, c, o) => void onEnd(e, c, o) },
        (u) => new WebSocket(u) as unknown as SocketLike,
      );
    },
    [client, apiBase, add],
  );

  /** A line typed by the user: shown, and sent with its newline. */
  const sendLine = useCallback(
    (line: string) => {
      if (session.current?.sendInput(line + "\n")) add("stdin", line + "\n");
    },
    [add],
  );

  const sendEof = useCallback(() => {
    if (session.current?.sendEof()) setState((s) => ({ ...s, eofSent: true }));
  }, []);

  const stop = useCallback(() => {
    if (!session.current?.stop()) session.current?.close();
  }, []);

  useEffect(() => () => session.current?.close(), []);

  return { state, start, sendLine, sendEof, stop, active: state.phase === "connecting" || state.phase === "running" };
}
