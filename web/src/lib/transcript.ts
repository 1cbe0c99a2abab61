// What an interactive run's terminal shows: the program's output and the user's input in
// the order they happened, merged into runs of the same kind, and bounded (the oldest text
// goes first, and the transcript says so).

export type ChunkKind = "stdout" | "stderr" | "stdin" | "info";

export interface Chunk {
  kind: ChunkKind;
  text: string;
}

export interface Transcript {
  chunks: Chunk[];
  /** Characters in chunks. */
  size: number;
  /** Characters dropped from the start to stay under the bound. */
  dropped: number;
}

export const EMPTY_TRANSCRIPT: Transcript = { chunks: [], size: 0, dropped: 0 };
/** About 1 MB of text in the page: more makes the browser slow, and the server bounds output anyway. */
export const TRANSCRIPT_MAX_CHARS = 1_000_000;

export function append(t: Transcript, kind: ChunkKind, text: string, max = TRANSCRIPT_MAX_CHARS): Transcript {
  if (!text) return t;
  const chunks = t.chunks.slice();
  const last = chunks[chunks.length - 1];
  if (last && last.kind === kind) chunks[chunks.length - 1] = { kind, text: last.text + text };
  else chunks.push({ kind, text });
  let size = t.size + text.length;
  let dropped = t.dropped;
  while (size > max) {
    const over = size - max;
    const first = chunks[0];
    if (!first) break;
    if (first.text.length <= over) {
      chunks.shift();
      size -= first.text.length;
      dropped += first.text.length;
    } else {
      chunks[0] = { kind: first.kind, text: first.text.slice(over) };
      size -= over;
      dropped += over;
    }
  }
  return { chunks, size, dropped };
}

/** The whole text, as a terminal would show it. */
export function plainText(t: Transcript): string {
  return t.chunks.map((c) => c.text).join("");
}
