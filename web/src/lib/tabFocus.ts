// Keyboard users move through the page with Tab; in the editor Tab also indents. So that
// tabbing through the page never changes the code, the editor has two modes:
//  - moving (when focus arrives by keyboard): Tab and Shift+Tab move focus on; Enter (or a
//    click, or typing) starts editing, and Enter itself inserts nothing;
//  - editing (after Enter, a click or typing): Tab indents, Shift+Tab dedents; Escape (once
//    nothing else wants it: search, completion, a multiple selection) goes back to moving,
//    so Escape then Tab leaves. Ctrl+M (Shift+Alt+M on macOS) toggles between the two.
// Leaving the editor returns it to moving. A panel under the editor says which mode is on.

import { Prec, StateEffect, StateField, type Extension } from "@codemirror/state";
import { EditorView, keymap, showPanel, type Panel } from "@codemirror/view";
import { indentLess, indentMore } from "@codemirror/commands";

const setEditing = StateEffect.define<boolean>();

export const editingField = StateField.define<boolean>({
  create: () => false,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setEditing)) value = e.value;
    // Typing or pasting is editing on purpose.
    if (!value && tr.docChanged && (tr.isUserEvent("input") || tr.isUserEvent("delete"))) value = true;
    return value;
  },
});

function set(view: EditorView, editing: boolean): void {
  if (view.state.field(editingField) !== editing) view.dispatch({ effects: setEditing.of(editing) });
}

const HINT_MOVING = "Tab moves on to the next control. Press Enter or click to edit (then Tab indents).";
const HINT_EDITING = "Editing: Tab indents. Press Esc, then Tab, to move on.";

function hintPanel(view: EditorView): Panel {
  const dom = document.createElement("div");
  dom.className = "cm-tab-hint";
  dom.id = "editor-tab-hint";
  dom.setAttribute("data-testid", "editor-mode");
  const render = (v: EditorView) => {
    const editing = v.state.field(editingField);
    dom.textContent = editing ? HINT_EDITING : HINT_MOVING;
    dom.setAttribute("data-mode", editing ? "editing" : "moving");
    dom.hidden = !v.hasFocus;
  };
  render(view);
  return { dom, top: false, update: (u) => render(u.view) };
}

export function tabFocus(): Extension {
  return [
    editingField,
    showPanel.of(hintPanel),
    EditorView.contentAttributes.of({ "aria-describedby": "editor-tab-hint" }),
    // Before everything else: in moving mode, Tab is not the editor's and Enter only starts editing.
    Prec.highest(
      keymap.of([
        {
          key: "Tab",
          run: (v) => (v.state.field(editingField) ? indentMore(v) : false),
          shift: (v) => (v.state.field(editingField) ? indentLess(v) : false),
        },
        {
          key: "Enter",
          run: (v) => {
            if (v.state.field(editingField)) return false;
            set(v, true);
            return true;
          },
        },
        {
          key: "Ctrl-m",
          mac: "Shift-Alt-m",
          run: (v) => {
            set(v, !v.state.field(editingField));
            return true;
          },
        },
      ]),
    ),
    // After everything else: Escape is search's, completion's and the selection's first.
    Prec.lowest(
      keymap.of([
        {
          key: "Escape",
          run: (v) => {
            if (!v.state.field(editingField)) return false;
            set(v, false);
            return true;
          },
        },
      ]),
    ),
    EditorView.domEventHandlers({
      mousedown: (_e, v) => {
        set(v, true);
        return false;
      },
      touchstart: (_e, v) => {
        set(v, true);
        return false;
      },
    }),
    EditorView.focusChangeEffect.of((_state, focusing) => (focusing ? null : setEditing.of(false))),
    EditorView.theme({
      "&.cm-focused": { outline: "3px solid #0284c7", outlineOffset: "-3px" },
      ".cm-tab-hint": { padding: "2px 8px", fontSize: "12px", fontFamily: "system-ui, sans-serif" },
    }),
  ];
}
