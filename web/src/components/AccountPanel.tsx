"use client";

import { useState } from "react";
import type { SessionState } from "@/hooks/useSession";
import { TONE_CLASSES } from "@/lib/verdict";
import { buttonClass, inputClass } from "./ui";

interface Props {
  state: SessionState;
  onRegister: (username: string, password: string) => Promise<string | null>;
  onLogin: (username: string, password: string) => Promise<string | null>;
  onLogout: () => Promise<string | null>;
  onRetry: () => void;
}

/** Sign in, register and sign out, when the gateway offers accounts; the session's trouble otherwise. */
export default function AccountPanel({ state, onRegister, onLogin, onLogout, onRetry }: Props) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (state.kind === "error")
    return (
      <div role="alert" data-testid="session-error" className={`flex flex-wrap items-center gap-2 rounded border-l-4 p-2 text-sm ${TONE_CLASSES.wrong}`}>
        No session with the server: {state.message}
        <button type="button" className="underline" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  if (state.kind !== "ready" || !state.session.accounts) return null;

  const act = async (f: () => Promise<string | null>) => {
    setBusy(true);
    setError(null);
    const msg = await f();
    setBusy(false);
    setError(msg);
    if (!msg) setPassword("");
  };

  const user = state.session.user;
  if (user)
    return (
      <div className="flex items-center gap-2 text-sm" data-testid="account">
        <span>
          Signed in as <strong data-testid="account-name">{user.name}</strong>
        </span>
        <button type="button" className={buttonClass} disabled={busy} onClick={() => void act(onLogout)}>
          Sign out
        </button>
        {error && <span role="alert">{error}</span>}
      </div>
    );

  return (
    <details className="text-sm" data-testid="account">
      <summary className="cursor-pointer rounded px-1 focus:outline-none focus:ring-2 focus:ring-sky-500">Sign in or register</summary>
      <form
        className="mt-2 flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => onLogin(username, password));
        }}
      >
        <label className="flex flex-col text-xs">
          Username
          <input className={`${inputClass} w-40`} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label className="flex flex-col text-xs">
          Password
          <input
            className={`${inputClass} w-40`}
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" className={buttonClass} disabled={busy}>
          Sign in
        </button>
        <button
          type="button"
          className={buttonClass}
          disabled={busy || !username || !password}
          onClick={() => void act(() => onRegister(username, password))}
        >
          Register
        </button>
        {error && (
          <p role="alert" data-testid="account-error" className="w-full text-red-700 dark:text-red-300">
            {error}
          </p>
        )}
      </form>
    </details>
  );
}
