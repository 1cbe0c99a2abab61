"use client";

// Embed mode (`?embed=1`), for course pages that put the IDE in an iframe: the editor,
// standard input, Run and the result, without history, account, share or settings. An
// embedded page keeps nothing in the browser: it shows its link's program (#s=..., kept in
// the address so that a reload shows it again) or the language's starting program, and
// leaves the full page's saved work and history alone.

import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

/** Whether this page is embedded; for effects and callbacks (the client only). */
export function isEmbedded(): boolean {
  return new URLSearchParams(window.location.search).get("embed") === "1";
}

/** Whether the page was opened with ?embed=1 (false while prerendering). */
export function useEmbed(): boolean {
  return useSyncExternalStore(
    subscribe,
    isEmbedded,
    () => false,
  );
}
