import { describe, expect, it } from "vitest";
import { SseParser, readEvents, type SseEvent } from "./sse";

const feedAll = (chunks: string[]) => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.feed(c));
};

const stream = (chunks: (string | Uint8Array)[], error?: Error) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(typeof x === "string" ? new TextEncoder().encode(x) : x);
      if (error) c.error(error);
      else c.close();
    },
  });

describe("SseParser", () => {
  it("parses the server's events, comments and heartbeats skipped", () => {
    const text = 'event: status\ndata: {"a":1}\n\n: keep-alive\n\nevent: result\ndata: {"b":2}\n\n';
    expect(feedAll([text])).toEqual([
      { event: "status", data: '{"a":1}', id: "" },
      { event: "result", data: '{"b":2}', id: "" },
    ]);
  });

  it("gives the same events whatever the chunking, CRLF split across chunks included", () => {
    const text = "event: status\r\ndata: one\r\n\r\nevent: test\rdata: two\r\rdata: three\n\n";
    const whole = feedAll([text]);
    expect(whole).toEqual([
      { event: "status", data: "one", id: "" },
      { event: "test", data: "two", id: "" },
      { event: "message", data: "three", id: "" },
    ]);
    for (let i = 1; i < text.length; i++) expect(feedAll([text.slice(0, i), text.slice(i)])).toEqual(whole);
    expect(feedAll(text.split(""))).toEqual(whole);
  });

  it("joins data lines, strips one leading space, keeps ids, drops events without data", () => {
    expect(feedAll(["id: 7\ndata:a\ndata:  b\ndata\nretry: 10\nunknown: x\n\n", "event: empty\n\n", "id: bad\0id\ndata: c\n\n"])).toEqual([
      { event: "message", data: "a\n b\n", id: "7" },
      { event: "message", data: "c", id: "7" },
    ]);
  });

  it("skips a byte order mark at the start only, and holds an unfinished event", () => {
    const p = new SseParser();
    expect(p.feed("\ufeffdata: x\n\n")).toEqual([{ event: "message", data: "x", id: "" }]);
    expect(p.feed("data: \ufeffy\n")).toEqual([]);
    expect(p.feed("\n")).toEqual([{ event: "message", data: "\ufeffy", id: "" }]);
  });
});

describe("readEvents", () => {
  it("decodes UTF-8 split inside a character and stops when told", async () => {
    const bytes = new TextEncoder().encode("data: héllo\n\ndata: stop\n\ndata: never\n\n");
    const seen: SseEvent[] = [];
    const stopped = await readEvents(stream([bytes.slice(0, 8), bytes.slice(8)]), (e) => {
      seen.push(e);
      return e.data === "stop";
    });
    expect(stopped).toBe(true);
    expect(seen.map((e) => e.data)).toEqual(["héllo", "stop"]);
  });

  it("answers false when the stream ends first, and throws when it breaks", async () => {
    expect(await readEvents(stream(["data: a\n\n", "data: unfinished"]), () => false)).toBe(false);
    await expect(readEvents(stream(["data: a\n\n"], new Error("reset")), () => false)).rejects.toThrow("reset");
  });
});
