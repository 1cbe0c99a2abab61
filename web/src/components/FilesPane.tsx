"use client";

import { useRef, type ReactNode } from "react";
import type { useFiles } from "@/hooks/useFiles";
import { TONE_CLASSES } from "@/lib/verdict";
import FileTabs, { tabId } from "./FileTabs";
import { buttonClass } from "./ui";

interface Props {
  files: ReturnType<typeof useFiles>;
  /** A multi-file program: its first tab is renamable and it needs its scripts. */
  project: boolean;
  /** Offer the file actions and New/Rename/Delete (not in embed mode, which shows the tabs only when there are several). */
  manage: boolean;
  /** The browser refused to keep the workspace. */
  unsaved: boolean;
  /** The editor, shown for a text file. */
  children: ReactNode;
}

const small = `${buttonClass} px-2 py-0.5 text-xs`;
const PANEL = "file-panel";

/** The editor with its file tabs, the file actions (open, save, zip upload and download) and their questions. */
export default function FilesPane({ files: f, project, manage, unsaved, children }: Props) {
  const openInput = useRef<HTMLInputElement>(null);
  const zipInput = useRef<HTMLInputElement>(null);
  const actions: [string, () => void, string][] = [
    ["Open file…", () => openInput.current?.click(), "file-open"],
    ["Save file", f.saveCurrent, "file-save"],
    ["Upload zip…", () => zipInput.current?.click(), "zip-upload"],
    ["Download zip", f.downloadZip, "zip-download"],
  ];
  // In embed mode a one-file program shows no tabs at all; nor does the page before the
  // languages are known (the main file has no name yet).
  const showTabs = (manage || f.tabs.length > 1) && f.tabs[0]!.name !== "";
  const size = f.current.binary ? Math.floor((f.current.content.replace(/=+$/, "").length * 3) / 4) : 0;

  return (
    <>
      {manage && (
        <div className="flex flex-wrap items-center gap-1 border-b border-slate-200 px-1 py-1 dark:border-slate-800" role="group" aria-label="File actions">
          {actions.map(([label, act, id]) => (
            <button key={id} type="button" className={small} onClick={act} data-testid={id}>
              {label}
            </button>
          ))}
          <input
            ref={openInput}
            type="file"
            multiple
            className="hidden"
            aria-hidden="true"
            tabIndex={-1}
            data-testid="file-open-input"
            onChange={(e) => {
              const chosen = e.currentTarget.files;
              if (chosen) void f.openLocal(Array.from(chosen));
              e.currentTarget.value = "";
            }}
          />
          <input
            ref={zipInput}
            type="file"
            accept=".zip,application/zip"
            className="hidden"
            aria-hidden="true"
            tabIndex={-1}
            data-testid="zip-upload-input"
            onChange={(e) => {
              const chosen = e.currentTarget.files?.[0];
              if (chosen) void f.uploadZip(chosen);
              e.currentTarget.value = "";
            }}
          />
        </div>
      )}
      {unsaved && (
        <p role="alert" data-testid="files-unsaved" className={`border-b border-l-4 px-3 py-1 text-xs ${TONE_CLASSES.wrong}`}>
          This browser refused to keep your program (it is larger than its storage allows): changes are lost on reload. Download it as a zip.
        </p>
      )}
      {f.question && (
        <div role="alertdialog" aria-labelledby="files-question" data-testid="files-question" className={`flex flex-wrap items-center gap-2 border-b border-l-4 px-3 py-2 text-sm ${TONE_CLASSES.pending}`}>
          <span id="files-question">{f.question.message}</span>
          {f.question.choices.map((c) => (
            <button key={c.id} type="button" className={small} onClick={c.act} data-testid={c.id}>
              {c.label}
            </button>
          ))}
          <button type="button" className={small} onClick={f.dismissQuestion} data-testid="files-cancel" autoFocus>
            Cancel
          </button>
        </div>
      )}
      {f.note && (
        <div role="status" data-testid="files-note" className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-3 py-1 text-xs dark:border-slate-800">
          <span>{f.note}</span>
          <button type="button" className={small} onClick={f.dismissNote}>
            Dismiss
          </button>
        </div>
      )}
      {showTabs && (
        <FileTabs
          tabs={f.tabs}
          manage={manage}
          active={f.active}
          mainRenamable={project}
          onSelect={f.setActive}
          onAdd={f.add}
          onRename={f.rename}
          onRemove={f.remove}
          panelId={PANEL}
        />
      )}
      <div
        role={showTabs ? "tabpanel" : undefined}
        id={PANEL}
        aria-labelledby={showTabs ? tabId(f.active) : undefined}
        className="flex min-h-0 flex-1 flex-col"
      >
        {f.current.binary ? (
          <p className="p-3 text-sm text-slate-600 dark:text-slate-400" data-testid="binary-file">
            {f.current.name} is a binary file ({size} bytes): it is sent as it is and cannot be edited here.
          </p>
        ) : (
          children
        )}
      </div>
    </>
  );
}
