"use client";

import type { HistoryItem } from "@/lib/gateway";
import type { Language } from "@/lib/judge0";
import { TONE_CLASSES, formatTime, toneOf } from "@/lib/verdict";
import { buttonClass } from "./ui";

interface Props {
  items: HistoryItem[];
  cursor: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | null;
  /** "gateway": kept by the server for this session or account; "browser": in this browser only. */
  kind: "gateway" | "browser";
  languages: Language[] | null;
  onRestore: (item: HistoryItem) => void;
  onRemove: (token: string) => void;
  onLoadMore: () => void;
  onRetry: () => void;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Past runs, newest first: click one to bring back its code, language and input. */
export default function HistoryPanel(p: Props) {
  const langName = (id: number) => p.languages?.find((l) => l.id === id)?.name ?? `Language ${id}`;
  return (
    <section aria-labelledby="history-title" className="rounded border border-slate-300 p-3 dark:border-slate-700" data-testid="history">
      <h2 id="history-title" className="text-sm font-semibold">
        History
      </h2>
      <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">
        {p.kind === "gateway" ? "Your runs, kept by the server for this session or account." : "Your runs, kept in this browser only."}
      </p>
      {p.loaded && p.items.length === 0 && !p.error && <p className="text-sm text-slate-600 dark:text-slate-400">No runs yet.</p>}
      <ul className="space-y-1">
        {p.items.map((it) => (
          <li key={it.token} className="flex items-stretch gap-1" data-testid="history-item" data-token={it.token}>
            <button
              type="button"
              className="flex min-w-0 flex-1 flex-wrap items-center gap-x-2 rounded border border-slate-200 px-2 py-1 text-left text-sm hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-700 dark:hover:bg-slate-800"
              onClick={() => p.onRestore(it)}
              title="Open this run's code, language and input"
            >
              <span className="font-medium">{langName(it.languageId)}</span>
              <span className={`rounded border px-1 text-xs ${TONE_CLASSES[toneOf(it.status)]}`}>{it.status?.description ?? "Unknown"}</span>
              <span className="text-xs">{formatTime(it.time)}</span>
              <time className="ml-auto text-xs text-slate-600 dark:text-slate-400" dateTime={it.createdAt}>
                {when(it.createdAt)}
              </time>
            </button>
            <button
              type="button"
              className={buttonClass}
              onClick={() => p.onRemove(it.token)}
              aria-label={`Delete the ${langName(it.languageId)} run of ${when(it.createdAt)}`}
              title="Delete from history"
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
      {p.error && (
        <div role="alert" className={`mt-2 rounded border-l-4 p-2 text-sm ${TONE_CLASSES.wrong}`}>
          History cannot be read: {p.error}{" "}
          <button type="button" className="underline" onClick={p.onRetry}>
            Try again
          </button>
        </div>
      )}
      {p.loading && <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">Loading…</p>}
      {p.cursor && !p.loading && (
        <button type="button" className={`${buttonClass} mt-2`} onClick={p.onLoadMore} data-testid="history-more">
          Load more
        </button>
      )}
    </section>
  );
}
