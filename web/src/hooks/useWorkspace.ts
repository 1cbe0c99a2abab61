"use client";

// The user's work: code per language, inputs, compiler options per language, settings,
// kept in localStorage (nowhere in embed mode). Opening another program (a history entry, a share link) never
// loses what was there: it is kept as `previous`, and `backToPrevious` swaps it back.

import { useCallback, useEffect, useRef, useState } from "react";
import type { Language, TestCase } from "@/lib/judge0";
import { CHOOSABLE, emptyWorkspace, loadWorkspace, saveWorkspace, type Settings, type Workspace } from "@/lib/storage";
import { isProject, mainFileName, type SourceFile } from "@/lib/files";
import { MULTI_FILE_MAIN, templateFilesFor, templateFor } from "@/lib/templates";
import { pickLanguage, replaceProgram, wouldReplaceWork, type OpenProgram } from "@/lib/workspace";

/**
 * `offered`: the languages the page offers (null while loading); `startId`: the language
 * for someone without a saved choice; `ready`: whether both are final (the client
 * configuration may still change them); `storage`: where the work is kept (undefined:
 * nowhere, as in embed mode), asked for when it is read and written.
 */
export function useWorkspace(
  offered: Language[] | null,
  startId: number | undefined,
  ready: boolean,
  storage: () => Storage | undefined = () => window.localStorage,
) {
  const [ws, setWs] = useState<Workspace>(emptyWorkspace);
  const [loaded, setLoaded] = useState(false);
  // The browser refused to keep the workspace (it is larger than localStorage allows).
  const [unsaved, setUnsaved] = useState(false);
  // Changes whenever the editor must load the document again (language, reset, open).
  const [docKey, setDocKey] = useState("initial");
  const bump = useCallback((why: string) => setDocKey(`${why}-${Date.now()}-${Math.random()}`), []);
  // Chosen once, with the page.
  const store = useRef(storage);

  useEffect(() => {
    setWs(loadWorkspace(store.current()));
    setDocKey("loaded");
    setLoaded(true);
  }, []);
  useEffect(() => {
    if (loaded) setUnsaved(!saveWorkspace(store.current(), ws));
  }, [ws, loaded]);

  // Once the workspace and the languages are here, settle the current language.
  useEffect(() => {
    if (!loaded || !offered || offered.length === 0 || !ready) return;
    setWs((w) => {
      if (w.languageId !== null && offered.some((l) => l.id === w.languageId)) return w;
      const id = startId ?? offered[0]!.id;
      return { ...w, languageId: id };
    });
    bump("lang");
  }, [loaded, offered, startId, ready, bump]);

  const language = offered?.find((l) => l.id === ws.languageId) ?? null;
  const code = ws.languageId !== null ? (ws.code[String(ws.languageId)] ?? (language ? templateFor(language.name) : "")) : "";
  const compilerOptions = ws.languageId !== null ? (ws.compilerOptions[String(ws.languageId)] ?? "") : "";
  // The other tabs: the language's extra files (its starting ones until the user changes them).
  const extraFiles = ws.languageId !== null ? (ws.files[String(ws.languageId)] ?? (language ? templateFilesFor(language.name) : [])) : [];
  const project = !!language && isProject(language.name);
  const mainName = project ? (ws.mainName[String(ws.languageId)] ?? MULTI_FILE_MAIN) : language ? mainFileName(language.name) : "";

  const update = useCallback((patch: Partial<Pick<Workspace, "stdin" | "args">>) => setWs((w) => ({ ...w, ...patch })), []);
  const updateSettings = useCallback(
    (patch: Partial<Settings>) =>
      setWs((w) => {
        const chosen = new Set(w.settings.chosen);
        for (const k of CHOOSABLE) if (k in patch) chosen.add(k);
        return { ...w, settings: { ...w.settings, ...patch, chosen: CHOOSABLE.filter((k) => chosen.has(k)) } };
      }),
    [],
  );
  const setCompilerOptions = useCallback(
    (text: string) =>
      setWs((w) => (w.languageId === null ? w : { ...w, compilerOptions: { ...w.compilerOptions, [String(w.languageId)]: text } })),
    [],
  );
  const onCodeChange = useCallback(
    (text: string) => setWs((w) => (w.languageId === null ? w : { ...w, code: { ...w.code, [String(w.languageId)]: text } })),
    [],
  );
  const chooseLanguage = useCallback(
    (id: number) => {
      setWs((w) => ({ ...w, languageId: id }));
      bump("lang");
    },
    [bump],
  );
  const templateFilesOf = useCallback((id: number) => templateFilesFor(offered?.find((l) => l.id === id)?.name ?? ""), [offered]);
  /** Change the current language's extra files. */
  const setFiles = useCallback(
    (change: (files: SourceFile[]) => SourceFile[]) =>
      setWs((w) => {
        if (w.languageId === null) return w;
        const key = String(w.languageId);
        return { ...w, files: { ...w.files, [key]: change(w.files[key] ?? templateFilesOf(w.languageId)) } };
      }),
    [templateFilesOf],
  );
  /** Rename a multi-file program's main file. */
  const setMainName = useCallback(
    (name: string) => setWs((w) => (w.languageId === null ? w : { ...w, mainName: { ...w.mainName, [String(w.languageId)]: name } })),
    [],
  );

  const setTest = useCallback(
    (i: number, patch: Partial<TestCase>) => setWs((w) => ({ ...w, tests: w.tests.map((t, j) => (j === i ? { ...t, ...patch } : t)) })),
    [],
  );
  const addTest = useCallback(() => setWs((w) => ({ ...w, tests: [...w.tests, { stdin: "", expected_output: "" }] })), []);
  const removeTest = useCallback((i: number) => setWs((w) => ({ ...w, tests: w.tests.filter((_, j) => j !== i) })), []);

  const templateOf = useCallback((id: number) => templateFor(offered?.find((l) => l.id === id)?.name ?? ""), [offered]);
  const wsRef = useRef(ws);
  wsRef.current = ws;

  /**
   * Open another program in the editor, keeping what was there as `previous`. Returns the
   * reason when it cannot be opened here (its language is not offered).
   */
  const open = useCallback(
    (p: OpenProgram): string | null => {
      if (!offered) return "The languages are not loaded yet.";
      const id = pickLanguage(offered, p.languageId, p.languageName);
      if (id === null) return `This program's language (${p.languageName ?? `id ${p.languageId}`}) is not offered here.`;
      setWs((w) => replaceProgram(w, { ...p, languageId: id }, templateOf, templateFilesOf));
      bump("open");
      return null;
    },
    [offered, templateOf, templateFilesOf, bump],
  );

  /** The starting program again (what was there is kept as previous, like any other open). */
  const resetCode = useCallback(() => {
    if (!language) return;
    open({ languageId: language.id, code: templateFor(language.name), stdin: wsRef.current.stdin, files: templateFilesFor(language.name) });
  }, [language, open]);

  /** Swap the program that was replaced back in (and keep the replacing one as previous). */
  const backToPrevious = useCallback(() => {
    const prev = wsRef.current.previous;
    if (!prev || !offered) return;
    setWs((w) => replaceProgram(w, prev, templateOf, templateFilesOf));
    bump("back");
  }, [offered, templateOf, templateFilesOf, bump]);

  /** Whether opening `p` would replace work of the user's (then the page asks first). */
  const wouldReplace = useCallback(
    (p: OpenProgram) => {
      const id = offered ? pickLanguage(offered, p.languageId, p.languageName) : null;
      return id !== null && wouldReplaceWork(wsRef.current, { ...p, languageId: id }, templateOf, templateFilesOf);
    },
    [offered, templateOf, templateFilesOf],
  );

  return {
    ws,
    loaded,
    unsaved,
    docKey,
    language,
    code,
    extraFiles,
    mainName,
    project,
    compilerOptions,
    update,
    updateSettings,
    setCompilerOptions,
    onCodeChange,
    chooseLanguage,
    resetCode,
    setFiles,
    setMainName,
    setTest,
    addTest,
    removeTest,
    open,
    backToPrevious,
    wouldReplace,
  };
}
