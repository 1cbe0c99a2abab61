"use client";

import { useRef, useState, type KeyboardEvent } from "react";
import type { SourceFile } from "@/lib/files";
import { buttonClass, inputClass } from "./ui";

interface Props {
  tabs: SourceFile[];
  active: number;
  /** Whether the main file (tab 0) can be renamed: in a multi-file program. */
  mainRenamable: boolean;
  onSelect: (index: number) => void;
  /** Each returns why it could not be done, or null. */
  onAdd: (name: string) => string | null;
  onRename: (index: number, name: string) => string | null;
  onRemove: (index: number) => void;
  /** Offer New file, Rename and Delete. */
  manage: boolean;
  /** The id of the panel the tabs control (the editor). */
  panelId: string;
}

export const tabId = (i: number) => `file-tab-${i}`;

/**
 * The files of the program as tabs (WAI-ARIA tabs pattern: one tab stop, arrows, Home and
 * End move and select; F2 renames, Delete removes an extra file), then New file, Rename and
 * Delete buttons, and the name field they open.
 */
export default function FileTabs({ tabs, active, mainRenamable, onSelect, onAdd, onRename, onRemove, manage, panelId }: Props) {
  const [naming, setNaming] = useState<{ index: number; name: string } | null>(null); // index -1: a new file
  const [problem, setProblem] = useState<string | null>(null);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);

  const select = (i: number) => {
    onSelect(i);
    refs.current[i]?.focus();
  };
  const canRename = (i: number) => manage && (i > 0 || mainRenamable);
  const startRename = (i: number) => {
    if (!canRename(i)) return;
    setProblem(null);
    setNaming({ index: i, name: tabs[i]!.name });
  };
  const onKey = (e: KeyboardEvent<HTMLButtonElement>, i: number) => {
    const last = tabs.length - 1;
    const to = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      select(to);
    } else if (e.key === "F2") {
      e.preventDefault();
      startRename(i);
    } else if (e.key === "Delete" && i > 0 && manage) {
      e.preventDefault();
      onRemove(i);
    }
  };
  const finish = () => {
    if (!naming) return;
    const name = naming.name.trim();
    const err = naming.index < 0 ? onAdd(name) : name === tabs[naming.index]!.name ? null : onRename(naming.index, name);
    if (err) setProblem(err);
    else {
      setNaming(null);
      setProblem(null);
    }
  };

  return (
    <div className="border-b border-slate-300 dark:border-slate-700">
      <div className="flex flex-wrap items-center gap-1 px-1 pt-1">
        <div role="tablist" aria-label="Files" className="flex min-w-0 flex-wrap gap-1" data-testid="file-tabs">
          {tabs.map((f, i) => (
            <button
              key={i}
              ref={(el) => {
                refs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={tabId(i)}
              aria-selected={i === active}
              aria-controls={panelId}
              tabIndex={i === active ? 0 : -1}
              onClick={() => onSelect(i)}
              onDoubleClick={() => startRename(i)}
              onKeyDown={(e) => onKey(e, i)}
              data-testid="file-tab"
              className={`max-w-[14rem] truncate rounded-t border border-b-0 px-2 py-1 font-mono text-xs focus:outline-none focus:ring-2 focus:ring-sky-500 ${
                i === active ? "border-slate-400 bg-white font-semibold dark:border-slate-500 dark:bg-slate-900" : "border-transparent text-slate-600 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
              }`}
              title={i === 0 && !mainRenamable ? `${f.name}: the main file (source_code)` : f.name}
            >
              {f.name}
              {f.binary ? " (binary)" : ""}
            </button>
          ))}
        </div>
        {manage && (
          <>
            <button
              type="button"
              className={`${buttonClass} px-2 py-0.5 text-xs`}
              onClick={() => {
                setProblem(null);
                setNaming({ index: -1, name: "" });
              }}
              data-testid="file-new"
            >
              New file
            </button>
            <button type="button" className={`${buttonClass} px-2 py-0.5 text-xs`} onClick={() => startRename(active)} disabled={!canRename(active)} data-testid="file-rename">
              Rename
            </button>
            <button type="button" className={`${buttonClass} px-2 py-0.5 text-xs`} onClick={() => onRemove(active)} disabled={active === 0} data-testid="file-delete">
              Delete
            </button>
          </>
        )}
      </div>
      {naming && (
        <form
          className="flex flex-wrap items-center gap-2 px-2 py-1 text-sm"
          onSubmit={(e) => {
            e.preventDefault();
            finish();
          }}
        >
          <label htmlFor="file-name" className="text-xs">
            {naming.index < 0 ? "New file's name" : `New name for ${tabs[naming.index]?.name}`}
          </label>
          <input
            id="file-name"
            autoFocus
            className={`${inputClass} w-56`}
            value={naming.name}
            placeholder="util.c"
            aria-invalid={!!problem}
            aria-describedby={problem ? "file-name-problem" : undefined}
            onChange={(e) => setNaming({ ...naming, name: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                setNaming(null);
                refs.current[active]?.focus();
              }
            }}
            data-testid="file-name"
          />
          <button type="submit" className={`${buttonClass} px-2 py-0.5 text-xs`} data-testid="file-name-ok">
            {naming.index < 0 ? "Add" : "Rename"}
          </button>
          <button type="button" className={`${buttonClass} px-2 py-0.5 text-xs`} onClick={() => setNaming(null)}>
            Cancel
          </button>
          {problem && (
            <span id="file-name-problem" role="alert" className="text-xs text-red-700 dark:text-red-400" data-testid="file-name-problem">
              {problem}
            </span>
          )}
        </form>
      )}
    </div>
  );
}
