"use client";

// Embed mode (`?embed=1`), for course pages that put the IDE in an iframe: the editor,
// standard input, Run and the result, without history, account, share or settings.

import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

/** Whether the page was opened with ?embed=1 (false while prerendering). */
export function useEmbed(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => new URLSearchParams(window.location.search).get("embed") === "1",
    () => false,
  );
}
