"use client";

// The run history panel's data: the first page when the source or the person changes,
// "load more" from the cursor, deletion, and recording a finished run (the browser's
// history stores it; the gateway recorded it already, so its first page is read again).

import { useCallback, useEffect, useReducer, useRef } from "react";
import type { HistoryItem } from "@/lib/gateway";
import { INITIAL_HISTORY, addLocalHistory, historyReducer, rememberRunFiles, type HistorySource } from "@/lib/history";
import { ApiError } from "@/lib/judge0";

export const HISTORY_PAGE = 20;

const messageOf = (e: unknown) => (e instanceof ApiError || e instanceof Error ? e.message : String(e));

export function useHistory(source: HistorySource | null, identity: number) {
  const [state, dispatch] = useReducer(historyReducer, INITIAL_HISTORY);
  // Answers to an older request (before a refresh or a change of person) are dropped.
  const generation = useRef(0);
  const cursor = useRef<string | null>(null);
  cursor.current = state.cursor;

  const load = useCallback(
    async (append: boolean) => {
      if (!source) return;
      const gen = append ? generation.current : ++generation.current;
      dispatch({ type: "loading" });
      try {
        const page = await source.page(append ? cursor.current : null, HISTORY_PAGE);
        if (gen === generation.current) dispatch({ type: "page", page, append });
      } catch (e) {
        if (gen === generation.current) dispatch({ type: "error", message: messageOf(e) });
      }
    },
    [source],
  );

  useEffect(() => {
    dispatch({ type: "reset" });
    void load(false);
  }, [load, identity]);

  const remove = useCallback(
    async (token: string) => {
      if (!source) return;
      try {
        await source.remove(token);
        dispatch({ type: "removed", token });
      } catch (e) {
        // Gone already (another tab): it is not there either way.
        if (e instanceof ApiError && e.status === 404) dispatch({ type: "removed", token });
        else dispatch({ type: "error", message: messageOf(e) });
      }
    },
    [source],
  );

  /** After a run: false when the browser could not keep it (too large, storage full). */
  const record = useCallback(
    (item: HistoryItem): boolean => {
      if (!source) return true;
      const kept = source.kind === "browser" ? addLocalHistory(window.localStorage, item) : true;
      if (source.kind === "gateway") rememberRunFiles(window.localStorage, item.token, { files: item.files, mainName: item.mainName });
      dispatch({ type: "finished", item });
      void load(false);
      return kept;
    },
    [source, load],
  );

  return { ...state, loadMore: () => void load(true), refresh: () => void load(false), remove, record };
}
