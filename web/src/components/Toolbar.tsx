"use client";

import type { ReactNode } from "react";
import type { Language } from "@/lib/judge0";
import type { ThemeChoice } from "@/lib/storage";
import { buttonClass } from "./ui";

interface Props {
  languages: Language[] | null;
  languagesFailed: boolean;
  languageId: number | null;
  onLanguage: (id: number) => void;
  running: boolean;
  /** A language is chosen (Share, Reset)... */
  hasLanguage: boolean;
  /** ...and its programs can be run from the editor. */
  canRun: boolean;
  onRun: () => void;
  onCancel: () => void;
  onShare: () => void;
  onReset: () => void;
  /** The language of the program a history entry or share link replaced, if any ("Back to previous code"). */
  previousName: string | null;
  onBack: () => void;
  theme: ThemeChoice;
  onTheme: (t: ThemeChoice) => void;
  /** Embedded in another page (?embed=1): language, Run (Cancel) and Reset code only. */
  embed?: boolean;
  /** The account controls. */
  children?: ReactNode;
}

/** The page's header: language, Run, Share, Reset, Back, account, theme (embedded: language, Run, Reset). */
export default function Toolbar(p: Props) {
  return (
    // Sticky: Run stays at hand however far the page is scrolled (phones, long test tables).
    <header className="sticky top-0 z-10 flex flex-wrap items-center gap-2 border-b border-slate-200 bg-white px-3 py-2 dark:border-slate-800 dark:bg-slate-950">
      <div className="flex w-full min-w-0 items-center gap-2 sm:w-auto">
        <h1 className={p.embed ? "sr-only" : "mr-2 text-lg font-bold tracking-tight"}>coderunner</h1>
        <label htmlFor="language" className="sr-only">
          Language
        </label>
        <select
          id="language"
          data-testid="language"
          className="min-w-0 flex-1 rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900 sm:w-72 sm:flex-none"
          value={p.languageId ?? ""}
          disabled={!p.languages}
          onChange={(e) => p.onLanguage(Number(e.target.value))}
        >
          {!p.languages && <option value="">{p.languagesFailed ? "Languages unavailable" : "Loading languages…"}</option>}
          {p.languages?.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        data-testid="run"
        onClick={p.onRun}
        disabled={p.running || !p.canRun}
        className="rounded bg-sky-700 px-4 py-1.5 text-sm font-semibold text-white hover:bg-sky-800 focus:outline-none focus:ring-2 focus:ring-sky-400 disabled:opacity-50"
        aria-keyshortcuts="Control+Enter Meta+Enter"
        title="Run (Ctrl/Cmd+Enter)"
      >
        {p.running ? "Running…" : "Run"}
      </button>
      {p.running && (
        <button type="button" className={buttonClass} onClick={p.onCancel}>
          Cancel
        </button>
      )}
      {!p.embed && (
        <button type="button" className={buttonClass} onClick={p.onShare} disabled={!p.hasLanguage}>
          Share
        </button>
      )}
      <button type="button" className={buttonClass} onClick={p.onReset} disabled={!p.hasLanguage}>
        Reset code
      </button>
      {p.previousName && !p.embed && (
        <button
          type="button"
          className={buttonClass}
          onClick={p.onBack}
          data-testid="back-to-previous"
          title={`Swap back the ${p.previousName} program that was in the editor before`}
        >
          Back to previous code
        </button>
      )}
      <div className={p.embed ? "hidden" : "ml-auto flex flex-wrap items-center gap-2"}>
        {p.children}
        <label htmlFor="theme" className="text-sm">
          Theme
        </label>
        <select
          id="theme"
          className="rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900"
          value={p.theme}
          onChange={(e) => p.onTheme(e.target.value as ThemeChoice)}
        >
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </div>
    </header>
  );
}
