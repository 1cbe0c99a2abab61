"use client";

// The server's languages, and the system's colour scheme.

import { useCallback, useEffect, useState } from "react";
import { ApiError, type Judge0Client, type Language } from "@/lib/judge0";

export function useSystemDark(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    setDark(mq.matches);
    const on = (e: MediaQueryListEvent) => setDark(e.matches);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  return dark;
}

/** The server's languages, once `enabled` (in cluster mode: once the browser has its session). */
export function useLanguages(client: Judge0Client, enabled: boolean) {
  const [languages, setLanguages] = useState<Language[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(() => {
    if (!enabled) return () => {};
    setError(null);
    const ac = new AbortController();
    client
      .languages(ac.signal)
      .then(setLanguages)
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.kind !== "aborted") setError(e);
      });
    return () => ac.abort();
  }, [client, enabled]);
  useEffect(() => load(), [load]);
  return { languages, error, reload: load };
}
