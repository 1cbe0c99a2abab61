// The editor's light and dark themes, with syntax colours that meet WCAG AA (4.5:1) on the
// editor's background and on the active line's (axe-core checks them in the browser tests).
// CodeMirror's defaults do not: #e40 (escapes, regexps) is 3.84:1 on white, One Dark's
// coral (names) 4.38:1 and its grey (comments, line numbers) 3.86:1 on #282c34.

import type { Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";
import { color as oneDarkColor, oneDarkTheme } from "@codemirror/theme-one-dark";

/** Light: CodeMirror's default highlight style with the colours below 4.5:1 darkened. */
export const lightHighlight = HighlightStyle.define([
  { tag: t.meta, color: "#404740" },
  { tag: t.link, textDecoration: "underline" },
  { tag: t.heading, textDecoration: "underline", fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.strong, fontWeight: "bold" },
  { tag: t.strikethrough, textDecoration: "line-through" },
  { tag: t.keyword, color: "#770088" },
  { tag: [t.atom, t.bool, t.url, t.contentSeparator, t.labelName], color: "#221199" },
  { tag: [t.literal, t.inserted], color: "#116644" },
  { tag: [t.string, t.deleted], color: "#aa1111" },
  { tag: [t.regexp, t.escape, t.special(t.string)], color: "#b33c00" },
  { tag: t.definition(t.variableName), color: "#0000ff" },
  { tag: t.local(t.variableName), color: "#3300aa" },
  { tag: [t.typeName, t.namespace], color: "#116644" },
  { tag: t.className, color: "#116677" },
  { tag: [t.special(t.variableName), t.macroName], color: "#225566" },
  { tag: t.definition(t.propertyName), color: "#0000cc" },
  { tag: t.comment, color: "#8a4500" },
  { tag: t.invalid, color: "#cc0000" },
]);

const c = oneDarkColor;
/** Dark: One Dark's colours, the three below 4.5:1 on its active line lightened. */
const coral = "#e88990",
  violet = "#d291e4",
  stone = "#a0a8b8";
export const darkHighlight = HighlightStyle.define([
  { tag: t.keyword, color: violet },
  { tag: [t.name, t.deleted, t.character, t.propertyName, t.macroName], color: coral },
  { tag: [t.function(t.variableName), t.labelName], color: c.malibu },
  { tag: [t.color, t.constant(t.name), t.standard(t.name)], color: c.whiskey },
  { tag: [t.definition(t.name), t.separator], color: c.ivory },
  { tag: [t.typeName, t.className, t.number, t.changed, t.annotation, t.modifier, t.self, t.namespace], color: c.chalky },
  { tag: [t.operator, t.operatorKeyword, t.url, t.escape, t.regexp, t.link, t.special(t.string)], color: c.cyan },
  { tag: [t.meta, t.comment], color: stone },
  { tag: t.strong, fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.strikethrough, textDecoration: "line-through" },
  { tag: t.link, color: stone, textDecoration: "underline" },
  { tag: t.heading, fontWeight: "bold", color: coral },
  { tag: [t.atom, t.bool, t.special(t.variableName)], color: c.whiskey },
  { tag: [t.processingInstruction, t.string, t.inserted], color: c.sage },
  { tag: t.invalid, color: c.invalid },
]);

const lightEditor = EditorView.theme({ "&": { backgroundColor: "#ffffff" } }, { dark: false });
// Line numbers: One Dark's grey is 3.86:1 on its gutter.
const darkGutter = EditorView.theme({ ".cm-gutters": { color: "#969fb0" } }, { dark: true });

export function editorTheme(dark: boolean): Extension {
  return dark ? [oneDarkTheme, darkGutter, syntaxHighlighting(darkHighlight)] : [lightEditor, syntaxHighlighting(lightHighlight)];
}
