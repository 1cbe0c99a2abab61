"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import dynamic from "next/dynamic";
import { Judge0Client, type SubmissionResult } from "@/lib/judge0";
import { GatewayClient, type HistoryItem } from "@/lib/gateway";
import { browserHistory, gatewayHistory, type HistorySource } from "@/lib/history";
import { effectiveSettings, offeredLanguages, startLanguage } from "@/lib/clientConfig";
import { shareUrl, shortShareUrl } from "@/lib/share";
import { diagnosticsIn } from "@/lib/diagnostics";
import { loadEditorLanguage } from "@/lib/editorLanguage";
import { editorLanguageFor, submissionFiles } from "@/lib/files";
import { useClientConfig } from "@/hooks/useClientConfig";
import { useDiagnostics } from "@/hooks/useDiagnostics";
import { isEmbedded, useEmbed } from "@/hooks/useEmbed";
import { useFiles } from "@/hooks/useFiles";
import { useHistory } from "@/hooks/useHistory";
import { useInteractive } from "@/hooks/useInteractive";
import { useRun, type RunMeta } from "@/hooks/useRun";
import { useSession } from "@/hooks/useSession";
import { useShareLink } from "@/hooks/useShareLink";
import { useWorkspace } from "@/hooks/useWorkspace";
import { useLanguages, useSystemDark } from "@/hooks/useLanguages";
import AccountPanel from "./AccountPanel";
import ErrorBox from "./ErrorBox";
import FilesPane from "./FilesPane";
import HistoryPanel from "./HistoryPanel";
import InteractiveToggle from "./InteractiveToggle";
import InputPanel from "./InputPanel";
import LiveProgress from "./LiveProgress";
import NoticeBanner from "./NoticeBanner";
import ResultView from "./ResultView";
import SettingsPanel from "./SettingsPanel";
import ShareBanner from "./ShareBanner";
import SplitPane from "./SplitPane";
import Terminal from "./Terminal";
import Toolbar from "./Toolbar";
import { inputClass } from "./ui";

// The editor's code (CodeMirror) is fetched at once, in parallel with the page's first API
// calls, rather than when the editor first renders.
const loadEditor = () => import("./Editor");
if (typeof window !== "undefined") void loadEditor();
const Editor = dynamic(loadEditor, {
  ssr: false,
  loading: () => <div className="flex h-full min-h-[16rem] items-center justify-center text-sm text-slate-500">Loading the editor…</div>,
});

const API_BASE = process.env.NEXT_PUBLIC_CODERUNNER_API_BASE ?? "";
/** "server": `next start` in front of the gateway (sessions, history, client configuration). */
const SERVER_MODE = process.env.NEXT_PUBLIC_CODERUNNER_WEB_MODE === "server";


export default function Ide() {
  const embed = useEmbed();
  const gw = useMemo(() => (SERVER_MODE ? new GatewayClient(API_BASE) : null), []);
  const session = useSession(gw);
  const { config, loaded: configLoaded } = useClientConfig(gw);

  // The API client needs two of the saved settings, but the workspace that holds them needs
  // the languages, which need the client: the two are mirrored here once the workspace is read.
  const [apiKey, setApiKey] = useState("");
  const [timeoutSeconds, setTimeoutSeconds] = useState(120);
  const client = useMemo(
    () => new Judge0Client({ baseUrl: API_BASE, timeoutMs: timeoutSeconds * 1000, headers: apiKey ? { "X-Auth-Token": apiKey } : {} }),
    [timeoutSeconds, apiKey],
  );
  // Every gateway request needs the session: nothing is asked before it is there.
  const langs = useLanguages(client, session.state.kind === "ready" || session.state.kind === "off");
  const offered = useMemo(() => (langs.languages ? offeredLanguages(langs.languages, config) : null), [langs.languages, config]);
  const startId = useMemo(() => (offered ? startLanguage(offered, config) : undefined), [offered, config]);

  const w = useWorkspace(offered, startId, configLoaded, () => (isEmbedded() ? undefined : window.localStorage));
  const { ws, language, code } = w;
  const files = useFiles({ ...w, languageId: ws.languageId, stdin: ws.stdin });
  useEffect(() => {
    setApiKey(ws.settings.apiKey);
    setTimeoutSeconds(ws.settings.timeoutSeconds);
  }, [ws.settings.apiKey, ws.settings.timeoutSeconds]);
  const settings = effectiveSettings(ws.settings, config);

  const systemDark = useSystemDark();
  const dark = settings.theme === "dark" || (settings.theme === "system" && systemDark);
  useEffect(() => {
    document.documentElement.classList.toggle("dark", dark);
    document.documentElement.style.colorScheme = dark ? "dark" : "light";
  }, [dark]);

  const historySource = useMemo<HistorySource | null>(() => {
    if (embed) return null;
    if (!gw || session.state.kind === "off") return browserHistory(() => window.localStorage);
    return session.state.kind === "ready" ? gatewayHistory(gw, () => window.localStorage) : null;
  }, [gw, session.state.kind, embed]);
  const history = useHistory(historySource, session.identity);

  const [chosenMode, setMode] = useState<"stdin" | "tests">("stdin");
  // Embedded, the page offers standard input only.
  const mode = embed ? "stdin" : chosenMode;
  const [note, setNote] = useState<string | null>(null);
  const [share, setShare] = useState<string | null>(null);
  useEffect(() => {
    if (w.loaded && ws.tests.length > 0) setMode("tests");
    // Only once, when the saved workspace arrives.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [w.loaded]);

  const ready = w.loaded && !!offered && configLoaded;
  // Short links (#share=<id>) are the gateway's: read with the browser's session, or the
  // server-held key ("off": no sessions, but a gateway all the same).
  const gatewayReady = !!gw && (session.state.kind === "ready" || session.state.kind === "off");
  const resolveShort = useMemo(() => (gw && gatewayReady ? (id: string) => gw.getShare(id).then((d) => "#" + d) : null), [gw, gatewayReady]);
  const shareLink = useShareLink(
    ready && (!gw || session.state.kind !== "loading"),
    w.wouldReplace,
    (p) => {
      const err = w.open(p);
      if (!err) setMode(p.tests ? "tests" : "stdin");
      return err;
    },
    resolveShort,
  );

  const { record: recordRun } = history;
  // Every finished run goes to History: started here, or brought back after a reload.
  const onFinished = useCallback(
    (result: SubmissionResult, meta: RunMeta) => {
      const kept = recordRun({
        token: result.token,
        languageId: meta.languageId,
        status: result.status,
        time: result.time,
        memory: result.memory,
        createdAt: meta.createdAt,
        finishedAt: new Date().toISOString(),
        sourceCode: meta.sourceCode,
        stdin: meta.stdin,
        files: meta.files,
        mainName: meta.mainName,
      });
      if (!kept) setNote("This run is too large to keep in the browser's history.");
    },
    [recordRun],
  );
  const runner = useRun(client, { timeoutMs: timeoutSeconds * 1000, resumeReady: w.loaded, onFinished });
  const interactive = useInteractive(client, API_BASE);
  const [interactiveMode, setInteractiveMode] = useState(false);
  const { start: startRun } = runner;
  const { start: startInteractive } = interactive;
  // The program as it ran, every file: an edit to any of them clears the last run's errors.
  const programKey = useMemo(() => JSON.stringify([code, w.mainName, w.extraFiles]), [code, w.mainName, w.extraFiles]);
  const { diagnostics, ranWith } = useDiagnostics(runner.run, programKey);
  // Each tab shows the errors the tools named in its file.
  const tabNames = files.tabs.map((t) => t.name).join("\n");
  const tabDiagnostics = useMemo(() => diagnosticsIn(diagnostics, tabNames.split("\n"), files.active), [diagnostics, tabNames, files.active]);
  const resultRef = useRef<HTMLElement>(null);
  // The language's mode (its own chunk) is fetched alongside the editor's code: as soon as
  // the languages are here, for the saved language or the one a newcomer will get.
  const languageName = language?.name ?? offered?.find((l) => l.id === (ws.languageId ?? startId))?.name;
  useEffect(() => void (languageName && loadEditorLanguage(languageName)), [languageName]);
  const doRun = useCallback(async () => {
    if (!language) return;
    // What reopens this run with its files (from history or a share link).
    const programFiles = { files: w.extraFiles.length > 0 ? w.extraFiles : undefined, mainName: w.project ? w.mainName : undefined };
    setShare(null);
    setNote(null);
    if (interactiveMode) {
      const files = [{ name: w.mainName, content: code }, ...w.extraFiles.map((f) => ({ name: f.name, content: f.content, encoding: f.binary ? ("base64" as const) : ("utf8" as const) }))];
      return startInteractive(language, files, ws.args, w.compilerOptions);
    }
    const tests = mode === "tests" && ws.tests.length > 0 ? ws.tests : null;
    const req = {
      language_id: language.id,
      ...submissionFiles(language.name, { main: code, mainName: w.mainName, extra: w.extraFiles }),
      stdin: tests ? undefined : ws.stdin,
      command_line_arguments: ws.args,
      compiler_options: w.compilerOptions,
      tests: tests ?? undefined,
    };
    const meta = { languageId: language.id, sourceCode: code, stdin: tests ? null : ws.stdin, tests, createdAt: new Date().toISOString(), ...programFiles };
    ranWith(programKey);
    await startRun(req, ws.settings.wait, meta);
    // On a phone (or below long test tables) the result is off screen: bring it into view.
    const box = resultRef.current?.getBoundingClientRect();
    if (box && (box.top < 0 || box.top > window.innerHeight - 120)) resultRef.current!.scrollIntoView({ block: "start", behavior: "smooth" });
  }, [language, interactiveMode, startInteractive, mode, ws, code, w.compilerOptions, w.extraFiles, w.mainName, w.project, startRun, ranWith, programKey]);

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

  // A session ends (its time is up, or the gateway's secret changed): start a new one, and say so.
  const { run: runState } = runner;
  const { retry: renewSession } = session;
  useEffect(() => {
    if (gw && runState.kind === "error" && runState.error.status === 401) {
      renewSession();
      setNote("Your session with the server had ended; a new one has started (runs from before it are no longer in History). Run again.");
    }
  }, [gw, runState, renewSession]);

  const restore = (item: HistoryItem) => {
    const err = w.open({ languageId: item.languageId, code: item.sourceCode, stdin: item.stdin ?? "", files: item.files, mainName: item.mainName });
    if (!err) setMode("stdin");
    setNote(err);
  };

  const makeShare = async () => {
    if (!language) return;
    let url = await shareUrl(window.location.href, {
      languageId: language.id,
      languageName: language.name,
      code,
      stdin: ws.stdin,
      // The test cases define the run only in test-case mode.
      tests: mode === "tests" && ws.tests.length > 0 ? ws.tests : undefined,
      args: ws.args || undefined,
      compilerOptions: w.compilerOptions || undefined,
      files: w.extraFiles.length > 0 ? w.extraFiles : undefined,
      mainName: w.project ? w.mainName : undefined,
    });
    // Behind a gateway the link is short: the gateway keeps the long hash under an id. The
    // long link still works everywhere when the gateway cannot keep it.
    if (gatewayReady && gw) {
      try {
        url = shortShareUrl(url, await gw.createShare(url.slice(url.indexOf("#") + 1)));
      } catch {
        /* the long link */
      }
    }
    setShare(url);
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      /* the link is shown for copying by hand */
    }
  };

  const langName = (id: number, fallback?: string) => offered?.find((l) => l.id === id)?.name ?? fallback ?? `language ${id}`;
  const { run, elapsed } = runner;
  const running = runner.running || interactive.active;

  return (
    <div className="flex min-h-screen flex-col">
      <NoticeBanner notice={config.notice} />
      <Toolbar
        languages={offered}
        languagesFailed={!!langs.error}
        languageId={ws.languageId}
        onLanguage={w.chooseLanguage}
        running={running}
        hasLanguage={!!language}
        canRun={!!language}
        onRun={() => void doRun()}
        onCancel={interactive.active ? interactive.stop : runner.cancel}
        onShare={() => void makeShare()}
        onReset={w.resetCode}
        previousName={ws.previous ? langName(ws.previous.languageId) : null}
        onBack={w.backToPrevious}
        theme={settings.theme}
        onTheme={(theme) => w.updateSettings({ theme })}
        embed={embed}
      >
        {!embed && (
          <AccountPanel state={session.state} onRegister={session.register} onLogin={session.login} onLogout={session.logout} onRetry={session.retry} />
        )}
      </Toolbar>

      <ShareBanner
        share={embed && shareLink.state.kind === "opened" ? { kind: "none" } : shareLink.state}
        languageName={langName}
        canGoBack={!!ws.previous}
        onAccept={shareLink.accept}
        onDismiss={shareLink.dismiss}
        onBack={() => {
          w.backToPrevious();
          shareLink.dismiss();
        }}
      />
      {share && (
        <div className="border-b border-slate-200 px-3 py-2 text-sm dark:border-slate-800" role="status">
          <label htmlFor="share-url" className="mr-2 font-medium">
            Share link (copied if the browser allowed it; the program, language, input, test cases and options are in the link itself):
          </label>
          <input id="share-url" readOnly className={`${inputClass} mt-1`} value={share} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      {note && (
        <div className="border-b border-slate-200 px-3 py-2 text-sm dark:border-slate-800" role="status" data-testid="note">
          {note}
        </div>
      )}
      {langs.error && (
        <div className="px-3 pt-3">
          <ErrorBox error={langs.error} onRetry={langs.reload} />
        </div>
      )}

      <SplitPane leftId="editor-pane">
        <section id="editor-pane" aria-label="Editor" className="flex min-h-[50vh] flex-col overflow-hidden rounded border border-slate-300 dark:border-slate-700 lg:min-h-0">
          {w.loaded && (
            <FilesPane files={files} project={w.project} manage={!embed} unsaved={w.unsaved}>
              <Editor
                // A tab of its own per file: the undo history never crosses files.
                key={`${w.docKey}|${files.active}`}
                value={files.current.content}
                docKey={w.docKey}
                languageName={files.active > 0 || w.project ? editorLanguageFor(files.current.name, language?.name ?? "") : (language?.name ?? "")}
                dark={dark}
                vimMode={settings.vim}
                fontSize={settings.fontSize}
                tabSize={settings.tabSize}
                diagnostics={tabDiagnostics}
                onChange={files.onChange}
                onRun={() => void doRun()}
              />
            </FilesPane>
          )}
        </section>

        <div className="flex min-w-0 flex-col gap-3">
          <section aria-labelledby="input-title" className="rounded border border-slate-300 p-3 dark:border-slate-700">
            <h2 id="input-title" className="sr-only">
              Input
            </h2>
            <InputPanel
              mode={mode}
              onMode={setMode}
              stdin={ws.stdin}
              onStdin={(stdin) => w.update({ stdin })}
              tests={ws.tests}
              onTest={w.setTest}
              onAddTest={w.addTest}
              onRemoveTest={w.removeTest}
              args={ws.args}
              onArgs={(args) => w.update({ args })}
              compilerOptions={w.compilerOptions}
              onCompilerOptions={w.setCompilerOptions}
              languageName={language?.name ?? ""}
              embed={embed}
            />
            {!embed && <SettingsPanel settings={settings} onChange={w.updateSettings} askApiKey={!SERVER_MODE} />}
          </section>

          <section ref={resultRef} aria-labelledby="result-title" aria-live="polite" aria-busy={running} className="scroll-mt-36 rounded border border-slate-300 p-3 dark:border-slate-700">
            <div className="mb-2 flex flex-wrap items-center gap-3">
              <h2 id="result-title" className="text-sm font-semibold">
                Result
              </h2>
              <InteractiveToggle on={interactiveMode} onChange={setInteractiveMode} disabled={interactive.active} />
            </div>
            {interactiveMode && <Terminal state={interactive.state} onLine={interactive.sendLine} onEof={interactive.sendEof} onStop={interactive.stop} />}
            {!interactiveMode && run.kind === "idle" && (
              <p className="text-sm text-slate-600 dark:text-slate-400">
                Press <kbd className="rounded border px-1">Ctrl</kbd>+<kbd className="rounded border px-1">Enter</kbd> (
                <kbd className="rounded border px-1">⌘</kbd>+<kbd className="rounded border px-1">Enter</kbd> on a Mac) or Run.
              </p>
            )}
            {!interactiveMode && run.kind === "running" && <LiveProgress run={run} elapsed={elapsed} />}
            {!interactiveMode && run.kind === "error" && <ErrorBox error={run.error} />}
            {!interactiveMode && run.kind === "done" && <ResultView result={run.result} tests={run.tests} />}
          </section>

          {historySource && (
            <HistoryPanel
              {...history}
              kind={historySource.kind}
              languages={langs.languages}
              onRestore={restore}
              onRemove={(t) => void history.remove(t)}
              onLoadMore={history.loadMore}
              onRetry={history.refresh}
            />
          )}
        </div>
      </SplitPane>
      {!embed && (
        <footer className="px-3 pb-3 text-xs text-slate-600 dark:text-slate-400">
          {historySource?.kind === "gateway"
            ? "Your runs are kept by the server for this session or account; code and settings are kept in this browser."
            : "Code, settings and history are kept in this browser only."}{" "}
          API: {API_BASE || "this server"}.
        </footer>
      )}
    </div>
  );
}
