// The editor's features that the first keystrokes do not need: bracket closing, completion
// (Ctrl+Space), search (Ctrl/Cmd+F) and selection-match highlighting. Their own chunk,
// loaded once the editor is on screen, so that they are not on the way to a usable editor.

import type { Extension } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";

export function editorExtras(): Extension {
  return [
    closeBrackets(),
    autocompletion({ activateOnTyping: false }),
    highlightSelectionMatches(),
    search({ top: true }),
    keymap.of([...closeBracketsKeymap, ...searchKeymap, ...completionKeymap]),
  ];
}
