"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import dynamic from "next/dynamic";
import { ApiError, Judge0Client, type Language, type Status, type SubmissionResult, type TestCase } from "@/lib/judge0";
import { defaultLanguageId, templateFor } from "@/lib/templates";
import { decodeShare, shareUrl } from "@/lib/share";
import { emptyWorkspace, loadWorkspace, saveWorkspace, type Settings, type ThemeChoice, type Workspace } from "@/lib/storage";
import { TONE_CLASSES } from "@/lib/verdict";
import ResultView from "./ResultView";

const Editor = dynamic(() => import("./Editor"), {
  ssr: false,
  loading: () => <div className="flex h-full min-h-[16rem] items-center justify-center text-sm text-slate-500">Loading the editor…</div>,
});

const API_BASE = process.env.NEXT_PUBLIC_CODERUNNER_API_BASE ?? "";

type RunState =
  | { kind: "idle" }
  | { kind: "running"; status: Status | null; started: number }
  | { kind: "done"; result: SubmissionResult; tests: TestCase[] | null }
  | { kind: "error"; error: ApiError };

const inputClass =
  "w-full rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900";
const buttonClass =
  "rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-sky-500 disabled:opacity-50 dark:border-slate-600 dark:hover:bg-slate-800";

function useSystemDark(): boolean {
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

function ErrorBox({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div role="alert" data-testid="error" className={`rounded border-l-4 p-3 text-sm ${TONE_CLASSES.wrong}`}>
      <p className="font-semibold">
        {
          {
            network: "The API cannot be reached",
            validation: "The submission was refused",
            rate_limited: "Too many requests",
            unavailable: "The server is busy",
            unauthorized: "Not allowed",
            bad_request: "Bad request",
            not_found: "Not found",
            server: "Server error",
            timeout: "No result in time",
            aborted: "Cancelled",
          }[error.kind]
        }
      </p>
      {error.fieldErrors && Object.keys(error.fieldErrors).length > 0 ? (
        <ul className="mt-1 list-disc pl-5">
          {Object.entries(error.fieldErrors).map(([field, msgs]) => (
            <li key={field}>
              <code className="font-mono">{field}</code>: {msgs.join("; ")}
            </li>
          ))}
        </ul>
      ) : (
        <p className="mt-1">{error.message}</p>
      )}
      {onRetry && (
        <button type="button" className={`${buttonClass} mt-2`} onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export default function Ide() {
  const [ws, setWs] = useState<Workspace>(emptyWorkspace);
  const [loaded, setLoaded] = useState(false);
  const [languages, setLanguages] = useState<Language[] | null>(null);
  const [langError, setLangError] = useState<ApiError | null>(null);
  const [run, setRun] = useState<RunState>({ kind: "idle" });
  const [mode, setMode] = useState<"stdin" | "tests">("stdin");
  const [docKey, setDocKey] = useState("initial");
  const [share, setShare] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const sharedName = useRef<string | undefined>(undefined);
  const systemDark = useSystemDark();
  const dark = ws.settings.theme === "dark" || (ws.settings.theme === "system" && systemDark);

  const client = useMemo(
    () =>
      new Judge0Client({
        baseUrl: API_BASE,
        timeoutMs: ws.settings.timeoutSeconds * 1000,
        headers: ws.settings.apiKey ? { "X-Auth-Token": ws.settings.apiKey } : {},
      }),
    [ws.settings.timeoutSeconds, ws.settings.apiKey],
  );

  // Load the saved workspace, then a share link on top of it.
  useEffect(() => {
    const w = loadWorkspace(window.localStorage);
    const shared = decodeShare(window.location.hash);
    if (shared) {
      w.languageId = shared.languageId;
      w.code = { ...w.code, [String(shared.languageId)]: shared.code };
      w.stdin = shared.stdin;
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      sharedName.current = shared.languageName;
    }
    if (w.tests.length > 0) setMode("tests");
    setWs(w);
    setDocKey("loaded");
    setLoaded(true);
  }, []);

  useEffect(() => {
    if (loaded) saveWorkspace(window.localStorage, ws);
  }, [ws, loaded]);

  useEffect(() => {
    document.documentElement.classList.toggle("dark", dark);
    document.documentElement.style.colorScheme = dark ? "dark" : "light";
  }, [dark]);

  const loadLanguages = useCallback(() => {
    setLangError(null);
    const ac = new AbortController();
    client
      .languages(ac.signal)
      .then((ls) => setLanguages(ls))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.kind !== "aborted") setLangError(e);
      });
    return () => ac.abort();
  }, [client]);
  useEffect(() => loadLanguages(), [loadLanguages]);

  // Once both the workspace and the languages are here, settle the current language.
  useEffect(() => {
    if (!loaded || !languages || languages.length === 0) return;
    setWs((w) => {
      if (w.languageId !== null && languages.some((l) => l.id === w.languageId)) return w;
      const name = sharedName.current;
      const byName = name ? languages.find((l) => l.name === name) : undefined;
      const id = byName?.id ?? defaultLanguageId(languages) ?? null;
      if (id === null) return w;
      const code = { ...w.code };
      if (byName && w.languageId !== null && w.code[String(w.languageId)] !== undefined) code[String(id)] = w.code[String(w.languageId)]!;
      return { ...w, languageId: id, code };
    });
    setDocKey((k) => k + "+lang");
  }, [loaded, languages]);

  const language = languages?.find((l) => l.id === ws.languageId) ?? null;
  const code = ws.languageId !== null ? (ws.code[String(ws.languageId)] ?? (language ? templateFor(language.name) : "")) : "";

  const update = useCallback((patch: Partial<Workspace>) => setWs((w) => ({ ...w, ...patch })), []);
  const updateSettings = useCallback((patch: Partial<Settings>) => setWs((w) => ({ ...w, settings: { ...w.settings, ...patch } })), []);

  const onCodeChange = useCallback(
    (text: string) =>
      setWs((w) => (w.languageId === null ? w : { ...w, code: { ...w.code, [String(w.languageId)]: text } })),
    [],
  );

  const running = run.kind === "running";
  const wsRef = useRef(ws);
  wsRef.current = ws;
  const stateRef = useRef({ code, language, mode, running });
  stateRef.current = { code, language, mode, running };

  const doRun = useCallback(async () => {
    const { code: src, language: lang, mode: m, running: busy } = stateRef.current;
    const w = wsRef.current;
    if (busy || !lang) return;
    const tests = m === "tests" && w.tests.length > 0 ? w.tests : null;
    const ac = new AbortController();
    abort.current = ac;
    const started = Date.now();
    setShare(null);
    setRun({ kind: "running", status: null, started });
    try {
      const result = await client.run(
        {
          language_id: lang.id,
          source_code: src,
          stdin: tests ? undefined : w.stdin,
          command_line_arguments: w.args,
          compiler_options: w.compilerOptions,
          tests: tests ?? undefined,
        },
        { wait: w.settings.wait, signal: ac.signal, onProgress: (status) => setRun({ kind: "running", status, started }) },
      );
      setRun({ kind: "done", result, tests });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError("server", e instanceof Error ? e.message : String(e));
      setRun(err.kind === "aborted" ? { kind: "idle" } : { kind: "error", error: err });
    } finally {
      abort.current = null;
    }
  }, [client]);

  // Ctrl/Cmd+Enter runs from anywhere on the page (the editor binds it too).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        void doRun();
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [doRun]);

  useEffect(() => {
    if (run.kind !== "running") return;
    const t = setInterval(() => setElapsed(Date.now() - run.started), 100);
    return () => clearInterval(t);
  }, [run]);

  const chooseLanguage = (id: number) => {
    setWs((w) => ({ ...w, languageId: id }));
    setDocKey(`lang-${id}-${Date.now()}`);
  };

  const resetCode = () => {
    if (!language) return;
    setWs((w) => ({ ...w, code: { ...w.code, [String(language.id)]: templateFor(language.name) } }));
    setDocKey(`reset-${Date.now()}`);
  };

  const makeShare = async () => {
    if (!language) return;
    const url = shareUrl(window.location.href, { languageId: language.id, languageName: language.name, code, stdin: ws.stdin });
    setShare(url);
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      /* the link is shown for copying by hand */
    }
  };

  const setTest = (i: number, patch: Partial<TestCase>) =>
    setWs((w) => ({ ...w, tests: w.tests.map((t, j) => (j === i ? { ...t, ...patch } : t)) }));

  return (
    <div className="flex min-h-screen flex-col">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <div className="flex w-full min-w-0 items-center gap-2 sm:w-auto">
        <h1 className="mr-2 text-lg font-bold tracking-tight">coderunner</h1>
        <label htmlFor="language" className="sr-only">
          Language
        </label>
        <select
          id="language"
          data-testid="language"
          className="min-w-0 flex-1 rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900 sm:w-72 sm:flex-none"
          value={ws.languageId ?? ""}
          disabled={!languages}
          onChange={(e) => chooseLanguage(Number(e.target.value))}
        >
          {!languages && <option value="">{langError ? "Languages unavailable" : "Loading languages…"}</option>}
          {languages?.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        </div>
        <button
          type="button"
          data-testid="run"
          onClick={() => void doRun()}
          disabled={running || !language}
          className="rounded bg-sky-700 px-4 py-1.5 text-sm font-semibold text-white hover:bg-sky-800 focus:outline-none focus:ring-2 focus:ring-sky-400 disabled:opacity-50"
          aria-keyshortcuts="Control+Enter Meta+Enter"
          title="Run (Ctrl/Cmd+Enter)"
        >
          {running ? "Running…" : "Run"}
        </button>
        {running && (
          <button type="button" className={buttonClass} onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        )}
        <button type="button" className={buttonClass} onClick={() => void makeShare()} disabled={!language}>
          Share
        </button>
        <button type="button" className={buttonClass} onClick={resetCode} disabled={!language}>
          Reset code
        </button>
        <div className="ml-auto flex items-center gap-2">
          <label htmlFor="theme" className="text-sm">
            Theme
          </label>
          <select
            id="theme"
            className="rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900"
            value={ws.settings.theme}
            onChange={(e) => updateSettings({ theme: e.target.value as ThemeChoice })}
          >
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </div>
      </header>

      {share && (
        <div className="border-b border-slate-200 px-3 py-2 text-sm dark:border-slate-800" role="status">
          <label htmlFor="share-url" className="mr-2 font-medium">
            Share link (copied if the browser allowed it; program, language and stdin are in the link itself):
          </label>
          <input id="share-url" readOnly className={`${inputClass} mt-1`} value={share} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      {langError && (
        <div className="px-3 pt-3">
          <ErrorBox error={langError} onRetry={loadLanguages} />
        </div>
      )}

      <main className="grid flex-1 grid-cols-1 gap-3 p-3 lg:grid-cols-2">
        <section aria-label="Editor" className="flex min-h-[50vh] flex-col overflow-hidden rounded border border-slate-300 dark:border-slate-700 lg:min-h-0">
          {loaded && (
            <Editor
              value={code}
              docKey={docKey}
              languageName={language?.name ?? ""}
              dark={dark}
              vimMode={ws.settings.vim}
              fontSize={ws.settings.fontSize}
              onChange={onCodeChange}
              onRun={() => void doRun()}
            />
          )}
        </section>

        <div className="flex min-w-0 flex-col gap-3">
          <section aria-labelledby="input-title" className="rounded border border-slate-300 p-3 dark:border-slate-700">
            <h2 id="input-title" className="sr-only">
              Input
            </h2>
            <fieldset className="mb-2 flex gap-4 text-sm">
              <legend className="sr-only">Input mode</legend>
              <label className="flex items-center gap-1">
                <input type="radio" name="mode" checked={mode === "stdin"} onChange={() => setMode("stdin")} /> Standard input
              </label>
              <label className="flex items-center gap-1">
                <input type="radio" name="mode" checked={mode === "tests"} onChange={() => setMode("tests")} data-testid="mode-tests" /> Test cases
                {ws.tests.length > 0 ? ` (${ws.tests.length})` : ""}
              </label>
            </fieldset>

            {mode === "stdin" ? (
              <div>
                <label htmlFor="stdin" className="sr-only">
                  Standard input
                </label>
                <textarea
                  id="stdin"
                  data-testid="stdin"
                  className={`${inputClass} h-24 resize-y`}
                  placeholder="Standard input"
                  value={ws.stdin}
                  onChange={(e) => update({ stdin: e.target.value })}
                  spellCheck={false}
                />
              </div>
            ) : (
              <div className="space-y-2">
                {ws.tests.length === 0 && <p className="text-sm text-slate-600 dark:text-slate-400">No test cases yet. Add one: each runs with its input and is compared with its expected output.</p>}
                {ws.tests.map((t, i) => (
                  <fieldset key={i} className="rounded border border-slate-200 p-2 dark:border-slate-700">
                    <legend className="px-1 text-xs font-semibold">Test {i + 1}</legend>
                    <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
                      <div>
                        <label htmlFor={`test-${i}-in`} className="text-xs">
                          Input
                        </label>
                        <textarea
                          id={`test-${i}-in`}
                          data-testid={`test-${i}-in`}
                          className={`${inputClass} h-16 resize-y`}
                          value={t.stdin}
                          onChange={(e) => setTest(i, { stdin: e.target.value })}
                          spellCheck={false}
                        />
                      </div>
                      <div>
                        <label htmlFor={`test-${i}-out`} className="text-xs">
                          Expected output
                        </label>
                        <textarea
                          id={`test-${i}-out`}
                          data-testid={`test-${i}-out`}
                          className={`${inputClass} h-16 resize-y`}
                          value={t.expected_output}
                          onChange={(e) => setTest(i, { expected_output: e.target.value })}
                          spellCheck={false}
                        />
                      </div>
                    </div>
                    <button
                      type="button"
                      className="mt-1 text-xs text-red-700 underline dark:text-red-300"
                      onClick={() => setWs((w) => ({ ...w, tests: w.tests.filter((_, j) => j !== i) }))}
                    >
                      Remove test {i + 1}
                    </button>
                  </fieldset>
                ))}
                <button
                  type="button"
                  data-testid="add-test"
                  className={buttonClass}
                  onClick={() => setWs((w) => ({ ...w, tests: [...w.tests, { stdin: "", expected_output: "" }] }))}
                >
                  Add test case
                </button>
              </div>
            )}

            <div className="mt-3 grid grid-cols-1 gap-2 sm:grid-cols-2">
              <div>
                <label htmlFor="args" className="text-xs font-medium">
                  Command-line arguments
                </label>
                <input id="args" className={inputClass} value={ws.args} onChange={(e) => update({ args: e.target.value })} spellCheck={false} />
              </div>
              <div>
                <label htmlFor="copts" className="text-xs font-medium">
                  Compiler options
                </label>
                <input
                  id="copts"
                  className={inputClass}
                  value={ws.compilerOptions}
                  onChange={(e) => update({ compilerOptions: e.target.value })}
                  placeholder="e.g. -O2 -Wall"
                  spellCheck={false}
                />
              </div>
            </div>

            <details className="mt-3 text-sm">
              <summary className="cursor-pointer font-medium">Settings</summary>
              <div className="mt-2 flex flex-wrap items-center gap-4">
                <label className="flex items-center gap-1">
                  <input type="checkbox" checked={ws.settings.vim} onChange={(e) => updateSettings({ vim: e.target.checked })} /> Vim keys
                </label>
                <label className="flex items-center gap-1">
                  Font size
                  <input
                    type="number"
                    min={10}
                    max={28}
                    className={`${inputClass} w-16`}
                    value={ws.settings.fontSize}
                    onChange={(e) => {
                      const n = Number(e.target.value);
                      if (n >= 10 && n <= 28) updateSettings({ fontSize: n });
                    }}
                  />
                </label>
                <label className="flex items-center gap-1">
                  Give up after (s)
                  <input
                    type="number"
                    min={5}
                    max={3600}
                    className={`${inputClass} w-20`}
                    value={ws.settings.timeoutSeconds}
                    onChange={(e) => {
                      const n = Number(e.target.value);
                      if (n >= 5 && n <= 3600) updateSettings({ timeoutSeconds: n });
                    }}
                  />
                </label>
                <label className="flex items-center gap-1">
                  <input type="checkbox" checked={ws.settings.wait} onChange={(e) => updateSettings({ wait: e.target.checked })} /> One request
                  (wait=true) instead of polling
                </label>
                <label className="flex items-center gap-1">
                  API key (X-Auth-Token, only if the server asks for one)
                  <input
                    type="password"
                    autoComplete="off"
                    className={`${inputClass} w-40`}
                    value={ws.settings.apiKey}
                    onChange={(e) => updateSettings({ apiKey: e.target.value })}
                  />
                </label>
              </div>
            </details>
          </section>

          <section aria-labelledby="result-title" aria-live="polite" aria-busy={running} className="rounded border border-slate-300 p-3 dark:border-slate-700">
            <h2 id="result-title" className="mb-2 text-sm font-semibold">
              Result
            </h2>
            {run.kind === "idle" && (
              <p className="text-sm text-slate-600 dark:text-slate-400">
                Press <kbd className="rounded border px-1">Ctrl</kbd>+<kbd className="rounded border px-1">Enter</kbd> (
                <kbd className="rounded border px-1">⌘</kbd>+<kbd className="rounded border px-1">Enter</kbd> on a Mac) or Run. In the editor, Tab indents: press{" "}
                <kbd className="rounded border px-1">Esc</kbd> then <kbd className="rounded border px-1">Tab</kbd> to move on.
              </p>
            )}
            {run.kind === "running" && (
              <div className={`flex items-center gap-2 rounded border-l-4 p-3 ${TONE_CLASSES.pending}`} data-testid="progress">
                <span className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent" aria-hidden="true" />
                <span>
                  {run.status?.description ?? "Submitting"}… {(elapsed / 1000).toFixed(1)} s
                </span>
              </div>
            )}
            {run.kind === "error" && <ErrorBox error={run.error} />}
            {run.kind === "done" && <ResultView result={run.result} tests={run.tests} />}
          </section>
        </div>
      </main>
      <footer className="px-3 pb-3 text-xs text-slate-500">
        Code and settings are kept in this browser only. API: {API_BASE || "this server"}.
      </footer>
    </div>
  );
}
