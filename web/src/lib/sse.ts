// Server-Sent Events as the WHATWG HTML standard parses them (§9.2.6), for
// `GET /submissions/:token/events` (docs/API.md, "Live events"). The stream is read with
// fetch rather than EventSource: EventSource cannot send the API key header, and it hides
// the HTTP status that tells a server without the route (404, 501) from a dropped
// connection.

export interface SseEvent {
  /** "message" when the event named none. */
  event: string;
  data: string;
  /** The last event id seen so far (the standard's "last event ID buffer"). */
  id: string;
}

/** Feed text as it arrives; complete events come out. Lines end in CRLF, LF or CR. */
export class SseParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private lastId = "";
  private started = false;
  /** A CR ended the last chunk: an LF at the start of the next one belongs to it. */
  private pendingCr = false;

  feed(chunk: string): SseEvent[] {
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCr = false;
    this.buf += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === "\r" && m.index === this.buf.length - 1) this.pendingCr = true;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      // Dispatch: an event without data lines is none (the standard drops it).
      const ev = this.data.length > 0 ? { event: this.event || "message", data: this.data.join("\n"), id: this.lastId } : null;
      this.data = [];
      this.event = "";
      return ev;
    }
    if (line.startsWith(":")) return null; // a comment (the server's keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // "retry" and unknown fields: the IDE decides its own reconnection delays.
        break;
    }
    return null;
  }
}

/** Read a response body of Server-Sent Events to its end, or until `onEvent` answers true. */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => boolean | void, signal?: AbortSignal): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  // Aborting ends the reading (as the end of the stream) even where the body ignores the fetch's signal.
  const stop = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop);
  try {
    if (signal?.aborted) return false;
    for (;;) {
      const { value, done } = await reader.read();
      const events = parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      for (const e of events) if (onEvent(e) === true) return true;
      if (done) return false;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    reader.cancel().catch(() => {});
  }
}
