import { describe, expect, it, vi } from "vitest";
import { encodeBase64 } from "./base64";
import { followSubmission, type Connection } from "./follow";
import { ApiError, Judge0Client, type Status, type TestResult } from "./judge0";

type Answer = Response | Error | (() => Response);

// A fetch that answers queued responses in order and records the URLs asked.
function mockFetch(answers: Answer[]) {
  const urls: string[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL) => {
    urls.push(String(input));
    const a = answers.shift();
    if (!a) throw new Error("unexpected request " + String(input));
    if (a instanceof Error) throw a;
    return typeof a === "function" ? a() : a;
  });
  return { fetch: fn as unknown as typeof fetch, urls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const st = (id: number, description: string) => ({ id, description });
const sub = (id: number, description: string, extra: Record<string, unknown> = {}) => ({ token: "tok", status: st(id, description), ...extra });

/** A 200 event stream: each chunk sent as it is; the stream ends after them, or breaks with `error`. */
function events(chunks: string[], error?: Error) {
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const x of chunks) c.enqueue(new TextEncoder().encode(x));
        if (error) c.error(error);
        else c.close();
      },
    }),
    { status: 200, headers: { "Content-Type": "text/event-stream" } },
  );
}
const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

function setup(answers: Answer[], timeoutMs = 60_000) {
  const f = mockFetch(answers);
  let t = 0;
  const sleeps: number[] = [];
  const client = new Judge0Client({ baseUrl: "http://api.test", fetch: f.fetch });
  const seen = { statuses: [] as Status[], tests: [] as [number, TestResult][], conn: [] as Connection[] };
  const opts = {
    timeoutMs,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    onStatus: (s: Status) => seen.statuses.push(s),
    onTest: (i: number, r: TestResult) => seen.tests.push([i, r]),
    onConnection: (c: Connection) => seen.conn.push(c),
  };
  return { client, opts, urls: f.urls, seen, sleeps };
}

describe("followSubmission", () => {
  it("follows live events: statuses, each test as it finishes, then the result", async () => {
    const { client, opts, urls, seen } = setup([
      events([
        ev("status", { token: "tok", status: st(2, "Processing") }),
        ": keep-alive\n\n",
        ev("test", { token: "tok", index: 0, status: st(3, "Accepted"), time: "0.01", wall_time: "1.0", memory: 3000, exit_code: 0, exit_signal: null, memory_limit_exceeded: false }),
        ev("status", { token: "tok", status: st(4, "Wrong Answer") }),
        ev("result", sub(4, "Wrong Answer", { stdout: encodeBase64("hi\n") })),
      ]),
    ]);
    const r = await followSubmission(client, "tok", opts);
    expect(r.status.id).toBe(4);
    expect(r.stdout).toBe("hi\n");
    expect(urls).toEqual([
      "http://api.test/submissions/tok/events?base64_encoded=true&fields=token,status,stdout,stderr,compile_output,message,time,wall_time,memory,exit_code,exit_signal,memory_limit_exceeded,tests",
    ]);
    // The final status comes with the result, not as a progress status.
    expect(seen.statuses.map((s) => s.id)).toEqual([2]);
    expect(seen.tests.map(([i, t]) => [i, t.status?.id, t.time])).toEqual([[0, 3, "0.01"]]);
    expect(seen.conn).toEqual(["live"]);
  });

  it.each([404, 405, 501])("polls when the server has no live events (%i)", async (code) => {
    const { client, opts, urls, seen } = setup([
      json(code, { error: "no such route" }),
      json(200, sub(2, "Processing")),
      json(200, sub(3, "Accepted")),
    ]);
    const r = await followSubmission(client, "tok", opts);
    expect(r.status.id).toBe(3);
    expect(urls.slice(1).every((u) => u.startsWith("http://api.test/submissions/tok?base64_encoded=true"))).toBe(true);
    expect(seen.conn).toEqual(["polling", "polling", "polling"]);
    expect(seen.statuses.map((s) => s.id)).toEqual([2]);
    // Not asked again on this server: the next run is polled at once.
    expect(client.noLiveEvents).toBe(true);
    const next = setup([json(200, sub(3, "Accepted"))]);
    next.client.noLiveEvents = true;
    expect((await followSubmission(next.client, "tok", next.opts)).status.id).toBe(3);
    expect(next.urls.length).toBe(1);
  });

  it("polls when a proxy answers the events route with a page of its own", async () => {
    const { client, opts } = setup([new Response("<html>", { status: 200, headers: { "Content-Type": "text/html" } }), json(200, sub(3, "Accepted"))]);
    expect((await followSubmission(client, "tok", opts)).status.id).toBe(3);
  });

  it("an unknown token is an error, not an endless poll", async () => {
    const { client, opts } = setup([json(404, { error: "not found" }), json(404, { error: "not found" })]);
    await expect(followSubmission(client, "tok", opts)).rejects.toMatchObject({ kind: "not_found" });
    expect(client.noLiveEvents).toBe(false);
  });

  it("through a dropped connection: reconnecting, the result asked for, then the events resumed", async () => {
    const { client, opts, seen, sleeps } = setup([
      events([ev("status", { token: "tok", status: st(2, "Processing") })], new Error("network reset")),
      new TypeError("Failed to fetch"), // still offline: the GET after the first wait
      new TypeError("Failed to fetch"), // the events again
      json(200, sub(2, "Processing")), // back: not finished yet
      events([ev("status", { token: "tok", status: st(2, "Processing") }), ev("result", sub(3, "Accepted"))]),
    ]);
    const r = await followSubmission(client, "tok", opts);
    expect(r.status.id).toBe(3);
    expect(seen.conn).toEqual(["live", "reconnecting", "reconnecting", "live"]);
    // The wait between tries doubles.
    expect(sleeps).toEqual([200, 400]);
  });

  it("a drop (the browser went offline) ends an open stream that would hang, and the run is asked for again", async () => {
    const drops = new EventTarget();
    const hanging = new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(ev("status", { token: "tok", status: st(2, "Processing") })));
          // Nothing more, ever: only the drop ends it.
          setTimeout(() => drops.dispatchEvent(new Event("drop")), 0);
        },
      }),
      { status: 200, headers: { "Content-Type": "text/event-stream" } },
    );
    const { client, opts, seen } = setup([hanging, json(200, sub(3, "Accepted"))]);
    expect((await followSubmission(client, "tok", { ...opts, drops })).status.id).toBe(3);
    expect(seen.conn).toEqual(["live", "reconnecting"]);
  });

  it("a stream that ends before the result is a dropped connection; the result may be there on return", async () => {
    const { client, opts, seen } = setup([events([ev("status", { token: "tok", status: st(2, "Processing") })]), json(200, sub(5, "Time Limit Exceeded"))]);
    expect((await followSubmission(client, "tok", opts)).status.id).toBe(5);
    expect(seen.conn).toEqual(["live", "reconnecting"]);
  });

  it("gives up at the deadline with the token, saying the connection did not come back", async () => {
    const answers: Answer[] = Array.from({ length: 40 }, () => new TypeError("Failed to fetch"));
    const { client, opts } = setup(answers, 3_000);
    const e = await followSubmission(client, "tok", opts).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ kind: "timeout", token: "tok" });
    expect((e as ApiError).message).toMatch(/connection to the server did not come back.*tok/);
  });

  it("stops at once on an authentication error and when cancelled", async () => {
    const { client, opts } = setup([json(401, { error: "authentication failed" })]);
    await expect(followSubmission(client, "tok", opts)).rejects.toMatchObject({ kind: "unauthorized" });
    const ac = new AbortController();
    ac.abort();
    const s = setup([new DOMException("aborted", "AbortError") as unknown as Error]);
    await expect(followSubmission(s.client, "tok", { ...s.opts, signal: ac.signal })).rejects.toMatchObject({ kind: "aborted" });
  });

  it("a result event that is not a submission is an error", async () => {
    const { client, opts } = setup([events([ev("result", { nothing: true })])]);
    await expect(followSubmission(client, "tok", opts)).rejects.toMatchObject({ kind: "server" });
  });

  it("ignores malformed events and test events without an index", async () => {
    const { client, opts, seen } = setup([
      events(["event: status\ndata: {not json\n\n", ev("test", { status: st(3, "Accepted") }), ev("status", { status: "x" }), ev("result", sub(3, "Accepted"))]),
    ]);
    expect((await followSubmission(client, "tok", opts)).status.id).toBe(3);
    expect(seen.tests).toEqual([]);
    expect(seen.statuses).toEqual([]);
  });
});
