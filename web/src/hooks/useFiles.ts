"use client";

// The editor's tabs (the main file, then the extra files) and the file actions: add,
// rename, delete, open local files, save one, zip upload and download. Whatever would
// replace or remove text the user has asks first, and goes through the workspace's `open`,
// which keeps what was there as the previous program (Back to previous code).

import { useEffect, useState } from "react";
import {
  allFiles,
  fileBytes,
  fileFromBytes,
  fileNameProblem,
  mergeFiles,
  programFromFiles,
  zipFiles,
  MAX_EXTRA_FILES,
  MAX_FILES_BYTES,
  type ProgramFiles,
  type SourceFile,
} from "@/lib/files";
import type { OpenProgram } from "@/lib/workspace";
import { readZip, ZipError } from "@/lib/zip";

/** What the workspace gives the tabs (a slice of useWorkspace's answer). */
export interface FilesWorkspace {
  languageId: number | null;
  docKey: string;
  code: string;
  extraFiles: SourceFile[];
  mainName: string;
  project: boolean;
  stdin: string;
  onCodeChange: (text: string) => void;
  setFiles: (change: (files: SourceFile[]) => SourceFile[]) => void;
  setMainName: (name: string) => void;
  open: (p: OpenProgram) => string | null;
}

/** A question before something is replaced or removed: a message, choices, and Cancel. */
export interface FilesQuestion {
  message: string;
  choices: { label: string; id: string; act: () => void }[];
}

function download(name: string, data: Uint8Array, type: string) {
  const url = URL.createObjectURL(new Blob([new Uint8Array(data)], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name.split("/").pop() || "file";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * `p` with `files` added: a file of the same name (the main file's included) is replaced,
 * the others become extra files. Returns the names replaced with other contents.
 */
function merged(p: ProgramFiles, files: SourceFile[]): { program: ProgramFiles; replaced: string[] } {
  const main = files.find((f) => f.name === p.mainName && !f.binary);
  const m = mergeFiles(p.extra, files.filter((f) => f !== main));
  const changed = new Set(files.filter((f) => f.content !== allFiles(p).find((x) => x.name === f.name)?.content).map((f) => f.name));
  const replaced = [...(main ? [p.mainName] : []), ...m.replaced].filter((n) => changed.has(n));
  return { program: { main: main ? main.content : p.main, mainName: p.mainName, extra: m.files }, replaced };
}

const list = (names: string[]) => (names.length > 6 ? `${names.slice(0, 6).join(", ")} and ${names.length - 6} more` : names.join(", "));

export function useFiles(w: FilesWorkspace) {
  const [active, setActive] = useState(0);
  const [question, setQuestion] = useState<FilesQuestion | null>(null);
  const [note, setNote] = useState<string | null>(null);
  // A new program (language switch, open, reset): back to its main file.
  useEffect(() => {
    setActive(0);
    setQuestion(null);
  }, [w.docKey]);

  const tabs: SourceFile[] = [{ name: w.mainName, content: w.code }, ...w.extraFiles];
  const at = Math.min(active, tabs.length - 1);
  const current = tabs[at]!;
  const program: ProgramFiles = { main: w.code, mainName: w.mainName, extra: w.extraFiles };

  /** Open `p` (the current language, stdin as it is) and say what happened. */
  const replaceWith = (p: ProgramFiles, what: string) => {
    if (w.languageId === null) return;
    const err = w.open({ languageId: w.languageId, code: p.main, stdin: w.stdin, files: p.extra, mainName: w.project ? p.mainName : undefined });
    setQuestion(null);
    setNote(err ?? `${what} What was there before is kept: Back to previous code brings it back.`);
  };

  const onChange = (text: string) => {
    if (at === 0) w.onCodeChange(text);
    else w.setFiles((fs) => fs.map((f, i) => (i === at - 1 ? { ...f, content: text } : f)));
  };

  /** A single-file language's main file cannot be binary: a binary cannot take its name. */
  const mainReservedFor = (f: SourceFile) => (!w.project && f.binary ? w.mainName : undefined);

  /** Why `name` cannot name tab `index` (or a new tab: index -1), or null. */
  const nameProblem = (name: string, index: number) => {
    const taken = tabs.filter((_, i) => i !== index && (i > 0 || w.project)).map((f) => f.name);
    return fileNameProblem(name, taken, w.project ? undefined : w.mainName);
  };

  const add = (name: string, content = ""): string | null => {
    if (w.extraFiles.length >= MAX_EXTRA_FILES) return `at most ${MAX_EXTRA_FILES} files besides the main one`;
    const problem = nameProblem(name, -1);
    if (problem) return problem;
    w.setFiles((fs) => [...fs, { name, content }]);
    setActive(w.extraFiles.length + 1);
    return null;
  };

  const rename = (index: number, name: string): string | null => {
    if (index === 0 && !w.project) return "the main file's name is the server's";
    const problem = nameProblem(name, index);
    if (problem) return problem;
    if (index === 0) w.setMainName(name);
    else w.setFiles((fs) => fs.map((f, i) => (i === index - 1 ? { ...f, name } : f)));
    return null;
  };

  /** Ask, then remove extra file `index` (an empty one goes without asking). */
  const remove = (index: number) => {
    if (index < 1 || index >= tabs.length) return;
    const f = tabs[index]!;
    const go = () => {
      const extra = w.extraFiles.filter((_, i) => i !== index - 1);
      if (f.content === "") {
        w.setFiles(() => extra);
        setActive(Math.min(index, extra.length));
        setQuestion(null);
      } else replaceWith({ ...program, extra }, `Deleted ${f.name}.`);
    };
    if (f.content === "") go();
    else setQuestion({ message: `Delete ${f.name}?`, choices: [{ label: `Delete ${f.name}`, id: "confirm-delete", act: go }] });
  };

  /** Files from the user's disk: a new name opens in a new tab; a taken one asks before replacing. */
  const openLocal = async (chosen: FileList | File[]) => {
    const files: SourceFile[] = [];
    let total = 0;
    for (const file of Array.from(chosen)) {
      total += file.size;
      if (total > MAX_FILES_BYTES) {
        setNote(`Not opened: the files hold more than ${MAX_FILES_BYTES / (1024 * 1024)} MB.`);
        return;
      }
      files.push(fileFromBytes(file.name, new Uint8Array(await file.arrayBuffer())));
    }
    if (files.length === 0) return;
    for (const f of files) {
      const problem = fileNameProblem(f.name, [], mainReservedFor(f));
      if (problem) {
        setNote(`Not opened: ${problem}.`);
        return;
      }
    }
    const { program: next, replaced } = merged(program, files);
    if (next.extra.length > MAX_EXTRA_FILES) {
      setNote(`Not opened: at most ${MAX_EXTRA_FILES} files besides the main one.`);
      return;
    }
    const names = files.map((f) => f.name);
    if (replaced.length === 0) {
      w.setFiles(() => next.extra);
      setActive(w.extraFiles.length + 1);
      setNote(`Opened ${list(names)}.`);
      return;
    }
    setQuestion({
      message: `${list(replaced)} ${replaced.length === 1 ? "is" : "are"} already open. Replace with the file${names.length > 1 ? "s" : ""} from your disk? (What is there now is kept: Back to previous code.)`,
      choices: [{ label: "Replace", id: "confirm-open", act: () => replaceWith(next, `Opened ${list(names)}.`) }],
    });
  };

  const saveCurrent = () => {
    download(current.name, fileBytes(current), current.binary ? "application/octet-stream" : "text/plain;charset=utf-8");
  };

  const downloadZip = () => {
    download("program.zip", zipFiles(allFiles(program), new Date()), "application/zip");
  };

  /** A zip from the user's disk: asks whether to replace the files or add to them. */
  const uploadZip = async (file: File) => {
    if (file.size > MAX_FILES_BYTES * 2) {
      setNote(`Not opened: ${file.name} is larger than ${(MAX_FILES_BYTES * 2) / (1024 * 1024)} MB.`);
      return;
    }
    let files: SourceFile[];
    try {
      const entries = await readZip(new Uint8Array(await file.arrayBuffer()), { maxFiles: MAX_EXTRA_FILES + 1, maxBytes: MAX_FILES_BYTES });
      // macOS's Finder adds its own metadata beside the files.
      files = entries.filter((e) => !e.name.startsWith("__MACOSX/")).map((e) => fileFromBytes(e.name, e.data));
      const seen: string[] = [];
      for (const f of files) {
        const problem = fileNameProblem(f.name, seen, mainReservedFor(f));
        if (problem) throw new ZipError(problem);
        seen.push(f.name);
      }
    } catch (e) {
      setNote(`${file.name} cannot be opened: ${e instanceof ZipError ? e.message : "it cannot be read"}.`);
      return;
    }
    if (files.length === 0) {
      setNote(`${file.name} holds no files.`);
      return;
    }
    const fromZip = programFromFiles(files, w.mainName, w.project);
    // Without the main file (a single-file language's), the zip's files are all extra files.
    const zip: ProgramFiles = fromZip ?? { main: w.code, mainName: w.mainName, extra: files };
    const { program: added, replaced } = merged(program, files);
    const names = files.map((f) => f.name);
    const keepsMain = fromZip ? "" : ` It has no ${w.mainName}: the main file stays as it is.`;
    setQuestion({
      message: `${file.name} holds ${names.length} file${names.length > 1 ? "s" : ""}: ${list(names)}.${keepsMain} Replace your files with them, or add them to yours${
        replaced.length ? ` (replacing ${list(replaced)})` : ""
      }? Either way, what is there now is kept: Back to previous code brings it back.`,
      choices: [
        { label: "Replace my files", id: "zip-replace", act: () => replaceWith(zip, `Opened ${file.name}.`) },
        {
          label: "Add to my files",
          id: "zip-merge",
          act: () => replaceWith(added, `Added ${file.name}'s files.`),
        },
      ],
    });
  };

  return {
    tabs,
    active: at,
    current,
    setActive,
    onChange,
    nameProblem,
    add,
    rename,
    remove,
    openLocal,
    saveCurrent,
    downloadZip,
    uploadZip,
    question,
    dismissQuestion: () => setQuestion(null),
    note,
    dismissNote: () => setNote(null),
  };
}
