"use client";

import { Children, useEffect, useRef, useState, type CSSProperties, type ReactNode } from "react";
import { SPLIT_DEFAULT, SPLIT_MAX, SPLIT_MIN, clampSplit, loadSplit, saveSplit, splitAfterKey } from "@/lib/split";

interface Props {
  /** Two: the editor's pane, then the input and result's. */
  children: ReactNode;
  /** The id of the left pane's element, for the separator's aria-controls. */
  leftId: string;
}

/**
 * Two panes side by side on wide screens with a separator between them that a pointer
 * drags and the keyboard moves (arrows by 5%, Page Up/Down by 20%, Home/End to the bounds,
 * Enter back to half), an ARIA window splitter; stacked on narrow screens, where the
 * separator is not shown.
 */
export default function SplitPane({ children, leftId }: Props) {
  const [left, right] = Children.toArray(children);
  const [split, setSplit] = useState(SPLIT_DEFAULT);
  const box = useRef<HTMLElement>(null);
  const dragging = useRef(false);
  useEffect(() => setSplit(loadSplit(window.localStorage)), []);
  const change = (p: number) => {
    setSplit(p);
    saveSplit(window.localStorage, p);
  };
  const fromPointer = (clientX: number) => {
    const r = box.current?.getBoundingClientRect();
    if (r && r.width > 0) change(clampSplit(((clientX - r.left) / r.width) * 100));
  };

  return (
    <main
      ref={box}
      data-testid="split"
      className="grid flex-1 grid-cols-1 gap-3 p-3 lg:gap-0 lg:[grid-template-columns:minmax(0,var(--split-left))_0.75rem_minmax(0,var(--split-right))]"
      style={{ "--split-left": `${split}fr`, "--split-right": `${100 - split}fr` } as CSSProperties}
    >
      {left}
      <div
        role="separator"
        aria-orientation="vertical"
        aria-label="Resize the editor and the input and result panes"
        aria-controls={leftId}
        aria-valuemin={SPLIT_MIN}
        aria-valuemax={SPLIT_MAX}
        aria-valuenow={split}
        aria-valuetext={`editor ${split}% of the width`}
        tabIndex={0}
        data-testid="split-handle"
        className="group hidden cursor-col-resize touch-none justify-center focus:outline-none lg:flex"
        onKeyDown={(e) => {
          const next = splitAfterKey(split, e.key);
          if (next === null) return;
          e.preventDefault();
          change(next);
        }}
        onPointerDown={(e) => {
          dragging.current = true;
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          if (dragging.current) fromPointer(e.clientX);
        }}
        onPointerUp={() => {
          dragging.current = false;
        }}
        onPointerCancel={() => {
          dragging.current = false;
        }}
      >
        <span className="my-1 w-1 rounded bg-slate-300 group-hover:bg-sky-500 group-focus:bg-sky-600 group-focus:ring-2 group-focus:ring-sky-500 dark:bg-slate-700" />
      </div>
      {right}
    </main>
  );
}
