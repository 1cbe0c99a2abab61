"use client";

import { useEffect, useRef } from "react";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, foldGutter, foldKeymap, indentOnInput, indentUnit } from "@codemirror/language";
import { type SourceDiagnostic, toEditorDiagnostics } from "@/lib/diagnostics";
import { loadEditorLanguage } from "@/lib/editorLanguage";
import { editorTheme } from "@/lib/editorTheme";
import { tabFocus } from "@/lib/tabFocus";

interface Props {
  /** The document; replacing it (another language, a share link) resets the editor. */
  value: string;
  /** Changes whenever `value` should be loaded into the editor even if equal text. */
  docKey: string;
  languageName: string;
  dark: boolean;
  vimMode: boolean;
  fontSize: number;
  /** Spaces per indentation level. */
  tabSize: number;
  /** The last run's errors on the program's lines (lib/diagnostics.ts); [] clears them. */
  diagnostics: SourceDiagnostic[];
  onChange: (code: string) => void;
  onRun: () => void;
}

function indentation(size: number) {
  return [EditorState.tabSize.of(size), indentUnit.of(" ".repeat(size))];
}

function fontTheme(size: number) {
  return EditorView.theme({
    "&": { fontSize: `${size}px`, height: "100%" },
    ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace" },
  });
}

/**
 * CodeMirror 6 with highlighting, bracket matching, auto-indent, search, optional Vim keys,
 * Tab that never edits by accident (lib/tabFocus.ts), and the last run's errors as gutter
 * markers and underlines (F8 moves to the next, Ctrl+Shift+M lists them). The language
 * mode and the Vim keymap are fetched when needed, bracket closing, completion and search
 * once the editor is on screen, the lint module when there are errors to show (each is
 * its own chunk): the editor is usable before any of them arrives.
 */
export default function Editor(props: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const compartments = useRef({
    language: new Compartment(),
    theme: new Compartment(),
    vim: new Compartment(),
    font: new Compartment(),
    indent: new Compartment(),
    extras: new Compartment(),
    lint: new Compartment(),
  });
  /** The lint module, once diagnostics have needed it. */
  const lint = useRef<typeof import("@codemirror/lint") | null>(null);

  useEffect(() => {
    if (!host.current) return;
    const c = compartments.current;
    const p = latest.current;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: p.value,
        extensions: [
          c.vim.of([]),
          // Before the main keymap: bracket closing's Backspace comes first.
          c.extras.of([]),
          Prec.highest(
            keymap.of([
              {
                key: "Mod-Enter",
                run: () => {
                  latest.current.onRun();
                  return true;
                },
              },
            ]),
          ),
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          history(),
          foldGutter(),
          drawSelection(),
          dropCursor(),
          EditorState.allowMultipleSelections.of(true),
          indentOnInput(),
          c.indent.of(indentation(p.tabSize)),
          bracketMatching(),
          rectangularSelection(),
          crosshairCursor(),
          highlightActiveLine(),
          keymap.of([...defaultKeymap, ...historyKeymap, ...foldKeymap]),
          tabFocus(),
          c.language.of([]),
          c.lint.of([]),
          c.theme.of(editorTheme(p.dark)),
          c.font.of(fontTheme(p.fontSize)),
          EditorView.contentAttributes.of({ "aria-label": "Source code", "aria-multiline": "true" }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    void import("@/lib/editorExtras").then(({ editorExtras }) => {
      if (view.current === v) v.dispatch({ effects: c.extras.reconfigure(editorExtras()) });
    });
    return () => {
      v.destroy();
      view.current = null;
    };
  }, []);

  // A new document (language switch, share link, reset).
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== latest.current.value) {
      v.dispatch({ changes: { from: 0, to: current.length, insert: latest.current.value } });
    }
  }, [props.docKey]);

  // The mode arrives later than the document: a newer language wins over a slower older one.
  useEffect(() => {
    let current = true;
    void loadEditorLanguage(props.languageName).then((ext) => {
      if (current) view.current?.dispatch({ effects: compartments.current.language.reconfigure(ext) });
    });
    return () => {
      current = false;
    };
  }, [props.languageName]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.theme.reconfigure(editorTheme(props.dark)) });
  }, [props.dark]);
  useEffect(() => {
    let current = true;
    if (!props.vimMode) view.current?.dispatch({ effects: compartments.current.vim.reconfigure([]) });
    else
      void import("@replit/codemirror-vim").then(({ vim }) => {
        if (current) view.current?.dispatch({ effects: compartments.current.vim.reconfigure(vim()) });
      });
    return () => {
      current = false;
    };
  }, [props.vimMode]);
  // After the document effect above: the lines named are the new document's. The lint
  // module (gutter markers, underlines) is fetched the first time there is something to show.
  useEffect(() => {
    const list = props.diagnostics;
    if (!list.length && !lint.current) return;
    let current = true;
    void import("@codemirror/lint").then((m) => {
      const v = view.current;
      if (!current || !v) return;
      if (!lint.current) {
        lint.current = m;
        v.dispatch({ effects: compartments.current.lint.reconfigure([m.lintGutter(), keymap.of(m.lintKeymap)]) });
      }
      v.dispatch(m.setDiagnostics(v.state, toEditorDiagnostics(v.state.doc, list)));
    });
    return () => {
      current = false;
    };
  }, [props.diagnostics, props.docKey]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.font.reconfigure(fontTheme(props.fontSize)) });
  }, [props.fontSize]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.indent.reconfigure(indentation(props.tabSize)) });
  }, [props.tabSize]);

  return <div ref={host} className="h-full min-h-[16rem] overflow-hidden" data-testid="editor" />;
}
