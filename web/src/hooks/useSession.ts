"use client";

// The browser's gateway session: obtained on load (GET /session, or POST /session when it
// answers 401), and the account actions when the gateway offers accounts. `identity`
// changes whenever the person behind the session does (sign in, register, sign out), so
// that what belongs to them (history) is read again.

import { useCallback, useEffect, useState } from "react";
import { ensureSession, type GatewayClient, type SessionInfo } from "@/lib/gateway";
import { ApiError } from "@/lib/judge0";

export type SessionState =
  | { kind: "off" } // no gateway sessions here: history stays in the browser
  | { kind: "loading" }
  | { kind: "ready"; session: SessionInfo }
  | { kind: "error"; message: string };

export function authErrorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.serverMessage) return e.serverMessage.charAt(0).toUpperCase() + e.serverMessage.slice(1) + ".";
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function useSession(gw: GatewayClient | null) {
  const [state, setState] = useState<SessionState>(gw ? { kind: "loading" } : { kind: "off" });
  const [identity, setIdentity] = useState(0);

  const start = useCallback(() => {
    if (!gw) {
      setState({ kind: "off" });
      return () => {};
    }
    const ac = new AbortController();
    setState({ kind: "loading" });
    ensureSession(gw, ac.signal)
      .then((o) => setState(o.kind === "none" ? { kind: "off" } : { kind: "ready", session: o.session }))
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setState({ kind: "error", message: authErrorMessage(e) });
      });
    return () => ac.abort();
  }, [gw]);
  useEffect(() => start(), [start]);

  const setUser = useCallback((user: SessionInfo["user"]) => {
    setState((s) => (s.kind === "ready" ? { kind: "ready", session: { ...s.session, user } } : s));
    setIdentity((n) => n + 1);
  }, []);

  /** Each resolves to null when done, or the message to show. */
  const signIn = useCallback(
    async (how: "register" | "login", username: string, password: string): Promise<string | null> => {
      if (!gw) return "There are no accounts here.";
      try {
        setUser(await gw[how](username, password));
        return null;
      } catch (e) {
        return authErrorMessage(e);
      }
    },
    [gw, setUser],
  );
  const register = useCallback((u: string, p: string) => signIn("register", u, p), [signIn]);
  const login = useCallback((u: string, p: string) => signIn("login", u, p), [signIn]);
  const logout = useCallback(async (): Promise<string | null> => {
    if (!gw) return null;
    try {
      await gw.logout();
      setUser(null);
      return null;
    } catch (e) {
      return authErrorMessage(e);
    }
  }, [gw, setUser]);

  return { state, identity, retry: start, register, login, logout };
}
