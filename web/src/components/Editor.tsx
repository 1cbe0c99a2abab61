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
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { oneDark } from "@codemirror/theme-one-dark";
import { vim } from "@replit/codemirror-vim";
import { editorLanguage } from "@/lib/editorLanguage";
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
  onChange: (code: string) => void;
  onRun: () => void;
}

const lightTheme = EditorView.theme({ "&": { backgroundColor: "#ffffff" } }, { dark: false });

function indentation(size: number) {
  return [EditorState.tabSize.of(size), indentUnit.of(" ".repeat(size))];
}

function fontTheme(size: number) {
  return EditorView.theme({
    "&": { fontSize: `${size}px`, height: "100%" },
    ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace" },
  });
}

/** CodeMirror 6 with highlighting, bracket matching, auto-indent, search, optional Vim keys, and Tab that never edits by accident (lib/tabFocus.ts). */
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
  });

  useEffect(() => {
    if (!host.current) return;
    const c = compartments.current;
    const p = latest.current;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: p.value,
        extensions: [
          c.vim.of(p.vimMode ? vim() : []),
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
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          bracketMatching(),
          closeBrackets(),
          autocompletion({ activateOnTyping: false }),
          rectangularSelection(),
          crosshairCursor(),
          highlightActiveLine(),
          highlightSelectionMatches(),
          search({ top: true }),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...completionKeymap]),
          tabFocus(),
          c.language.of(editorLanguage(p.languageName)),
          c.theme.of(p.dark ? oneDark : lightTheme),
          c.font.of(fontTheme(p.fontSize)),
          EditorView.contentAttributes.of({ "aria-label": "Source code", "aria-multiline": "true" }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
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

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.language.reconfigure(editorLanguage(props.languageName)) });
  }, [props.languageName]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.theme.reconfigure(props.dark ? oneDark : lightTheme) });
  }, [props.dark]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.vim.reconfigure(props.vimMode ? vim() : []) });
  }, [props.vimMode]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.font.reconfigure(fontTheme(props.fontSize)) });
  }, [props.fontSize]);
  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.indent.reconfigure(indentation(props.tabSize)) });
  }, [props.tabSize]);

  return <div ref={host} className="h-full min-h-[16rem] overflow-hidden" data-testid="editor" />;
}
