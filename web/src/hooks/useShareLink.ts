"use client";

// Share links (#s=... in the address): read when the page is ready and whenever the hash
// changes (a link pasted into an open tab). A link never silently replaces the user's
// work: when it would, the page asks; opening keeps the user's program as "previous".
// A link that cannot be read says why.

import { useCallback, useEffect, useState } from "react";
import { readShareAny, type SharedProgram } from "@/lib/share";
import { isEmbedded } from "./useEmbed";

export type ShareState =
  | { kind: "none" }
  | { kind: "ask"; program: SharedProgram }
  | { kind: "opened"; program: SharedProgram }
  | { kind: "broken"; reason: string };

export function useShareLink(ready: boolean, wouldReplace: (p: SharedProgram) => boolean, open: (p: SharedProgram) => string | null) {
  const [state, setState] = useState<ShareState>({ kind: "none" });

  const openNow = useCallback(
    (p: SharedProgram) => {
      const err = open(p);
      setState(err ? { kind: "broken", reason: err } : { kind: "opened", program: p });
    },
    [open],
  );

  const check = useCallback(async () => {
    const hash = window.location.hash;
    if (!hash.startsWith("#s=") && !hash.startsWith("#z=")) return;
    // The link is taken in once: a reload does not offer it again. Embedded, the page keeps
    // nothing, so the link stays: a reload shows its program again.
    if (!isEmbedded()) window.history.replaceState(null, "", window.location.pathname + window.location.search);
    const r = await readShareAny(hash);
    if (r.kind === "none") return;
    if (r.kind === "broken") setState(r);
    else if (wouldReplace(r.program)) setState({ kind: "ask", program: r.program });
    else openNow(r.program);
  }, [wouldReplace, openNow]);

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
