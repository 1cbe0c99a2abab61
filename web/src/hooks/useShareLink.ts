"use client";

// Share links (#s=... in the address): read when the page is ready and whenever the hash
// changes (a link pasted into an open tab). A link never silently replaces the user's
// work: when it would, the page asks; opening keeps the user's program as "previous".
// A link that cannot be read says why.

import { useCallback, useEffect, useState } from "react";
import { ApiError } from "@/lib/judge0";
import { readShareAny, shortShareId, type SharedProgram } from "@/lib/share";
import { isEmbedded } from "./useEmbed";

export type ShareState =
  | { kind: "none" }
  | { kind: "ask"; program: SharedProgram }
  | { kind: "opened"; program: SharedProgram }
  | { kind: "broken"; reason: string };

/** resolveShort: the long hash ("#z=...") kept under a short link's id (the gateway's), or
 * null where there is no gateway. */
export function useShareLink(
  ready: boolean,
  wouldReplace: (p: SharedProgram) => boolean,
  open: (p: SharedProgram) => string | null,
  resolveShort: ((id: string) => Promise<string>) | null = null,
) {
  const [state, setState] = useState<ShareState>({ kind: "none" });

  const openNow = useCallback(
    (p: SharedProgram) => {
      const err = open(p);
      setState(err ? { kind: "broken", reason: err } : { kind: "opened", program: p });
    },
    [open],
  );

  const check = useCallback(async () => {
    let hash = window.location.hash;
    const shortId = shortShareId(hash);
    if (!hash.startsWith("#s=") && !hash.startsWith("#z=") && shortId === null) return;
    // The link is taken in once: a reload does not offer it again. Embedded, the page keeps
    // nothing, so the link stays: a reload shows its program again.
    if (!isEmbedded()) window.history.replaceState(null, "", window.location.pathname + window.location.search);
    if (shortId !== null) {
      if (!shortId) return setState({ kind: "broken", reason: "the short link is damaged (its id is not one this server makes); copy the whole link again" });
      if (!resolveShort) return setState({ kind: "broken", reason: "this is a short link of a server with a gateway; this server keeps no links" });
      try {
        hash = await resolveShort(shortId);
      } catch (e) {
        const gone = e instanceof ApiError && e.status === 404;
        return setState({ kind: "broken", reason: gone ? "the server knows no such link (it may have been deleted)" : `the link cannot be fetched: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    const r = await readShareAny(hash);
    if (r.kind === "none" && shortId) return setState({ kind: "broken", reason: "the server's link holds no program" });
    if (r.kind === "none") return;
    if (r.kind === "broken") setState(r);
    else if (wouldReplace(r.program)) setState({ kind: "ask", program: r.program });
    else openNow(r.program);
  }, [wouldReplace, openNow, resolveShort]);

  useEffect(() => {
    if (!ready) return;
    const onHash = () => void check();
    onHash();
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, [ready, check]);

  const accept = useCallback(() => {
    if (state.kind === "ask") openNow(state.program);
  }, [state, openNow]);
  const dismiss = useCallback(() => setState({ kind: "none" }), []);
  return { state, accept, dismiss };
}
