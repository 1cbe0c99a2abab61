"use client";

// The last run's errors as editor diagnostics: read from its compile output and stderr
// (the tests' too), shown while the editor holds the code that ran, cleared by any edit
// and by the next run.

import { useCallback, useMemo, useState } from "react";
import { parseDiagnostics, type SourceDiagnostic } from "@/lib/diagnostics";
import type { RunState } from "./useRun";

const NONE: SourceDiagnostic[] = [];

export function useDiagnostics(run: RunState, code: string) {
  const [ranCode, setRanCode] = useState<string | null>(null);
  const diagnostics = useMemo(() => {
    if (run.kind !== "done" || ranCode !== code) return NONE;
    const r = run.result;
    const found = parseDiagnostics(r.compile_output, r.stderr, ...(r.tests ?? []).map((t) => t.stderr));
    return found.length ? found : NONE;
  }, [run, ranCode, code]);
  /** Call when a run starts, with the code it runs. */
  const ranWith = useCallback((c: string) => setRanCode(c), []);
  return { diagnostics, ranWith };
}
