import { describe, expect, it, vi } from "vitest";
import { decodeBase64, encodeBase64 } from "./base64";
import { ApiError, Judge0Client, decodeSubmission, encodeSubmission, RESULT_FIELDS } from "./judge0";

// A mocked fetch that answers queued responses in order and records every request.
function mockFetch(answers: (Response | Error | (() => Response))[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    const a = answers.shift();
    if (!a) throw new Error("unexpected request " + String(input));
    if (a instanceof Error) throw a;
    return typeof a === "function" ? a() : a;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

// Ruby's Base64.encode64: a newline every 60 characters and one at the end (§1.1).
const rubyB64 = (s: string) => (encodeBase64(s).match(/.{1,60}/g) ?? []).join("\n") + "\n";

const client = (f: typeof fetch, extra: Partial<ConstructorParameters<typeof Judge0Client>[0]> = {}) => {
  let t = 0;
  return new Judge0Client({
    baseUrl: "http://api.test",
    fetch: f,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    ...extra,
  });
};

describe("base64", () => {
  it("round-trips UTF-8", () => {
    for (const s of ["", "hello\n", "naïve café", "あいう", "emoji 🎉 ok", "a".repeat(100_000)]) {
      expect(decodeBase64(encodeBase64(s))).toBe(s);
    }
  });
  it("encodes the UTF-8 bytes", () => {
    expect(encodeBase64("é")).toBe("w6k=");
    expect(encodeBase64("hello, Judge0\n")).toBe("aGVsbG8sIEp1ZGdlMAo=");
  });
  it("decodes Ruby's line-wrapped output", () => {
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(5) + "ü";
    expect(rubyB64(long)).toContain("\n");
    expect(decodeBase64(rubyB64(long))).toBe(long);
  });
  it("shows bytes that are not UTF-8 as U+FFFD", () => {
    expect(decodeBase64(btoa("ok\xff"))).toBe("ok\ufffd");
  });
});

describe("encodeSubmission", () => {
  it("base64-encodes source, stdin and expected output, but not options", () => {
    const body = encodeSubmission({
      language_id: 71,
      source_code: "print('é')",
      stdin: "あ",
      expected_output: "x",
      compiler_options: "-O2",
      command_line_arguments: "a b",
    });
    expect(body).toEqual({
      language_id: 71,
      source_code: encodeBase64("print('é')"),
      stdin: encodeBase64("あ"),
      expected_output: encodeBase64("x"),
      compiler_options: "-O2",
      command_line_arguments: "a b",
    });
  });
  it("omits blank optional fields", () => {
    expect(encodeSubmission({ language_id: 50, source_code: "", stdin: "", compiler_options: "  " })).toEqual({
      language_id: 50,
      source_code: "",
    });
  });
  it("sends test cases instead of stdin", () => {
    const body = encodeSubmission({
      language_id: 71,
      source_code: "x",
      stdin: "ignored",
      tests: [
        { stdin: "1", expected_output: "2" },
        { stdin: "", expected_output: "" },
      ],
    });
    expect(body.stdin).toBeUndefined();
    expect(body.tests).toEqual([
      { stdin: encodeBase64("1"), expected_output: encodeBase64("2") },
      { stdin: "", expected_output: "" },
    ]);
  });
});

describe("decodeSubmission", () => {
  it("decodes text fields (message included) and keeps numbers", () => {
    const r = decodeSubmission({
      token: "t",
      stdout: rubyB64("héllo\n"),
      stderr: null,
      compile_output: null,
      message: rubyB64("Exited with error status 1"),
      time: "0.012",
      memory: 3100,
      exit_code: 1,
      exit_signal: null,
      status: { id: 11, description: "Runtime Error (NZEC)" },
    });
    expect(r.stdout).toBe("héllo\n");
    expect(r.message).toBe("Exited with error status 1");
    expect(r.time).toBe("0.012");
    expect(r.memory).toBe(3100);
    expect(r.status.id).toBe(11);
    expect(r.tests).toBeNull();
    expect(r.memory_limit_exceeded).toBe(false);
  });
  it("decodes the tests extension", () => {
    const r = decodeSubmission({
      token: "t",
      status: { id: 4, description: "Wrong Answer" },
      memory_limit_exceeded: false,
      tests: [
        { stdout: encodeBase64("2\n"), status: { id: 3, description: "Accepted" }, time: "0.01", memory: 10, memory_limit_exceeded: false },
        { stdout: encodeBase64("5\n"), status: { id: 4, description: "Wrong Answer" }, memory_limit_exceeded: true },
      ],
    });
    expect(r.tests).toHaveLength(2);
    expect(r.tests?.[0]?.stdout).toBe("2\n");
    expect(r.tests?.[1]?.status?.id).toBe(4);
    expect(r.tests?.[1]?.memory_limit_exceeded).toBe(true);
  });
  it("rejects an answer without a status", () => {
    expect(() => decodeSubmission({ token: "x" })).toThrow(ApiError);
  });
});

describe("Judge0Client", () => {
  it("GET /languages and /statuses", async () => {
    const m = mockFetch([json(200, [{ id: 71, name: "Python (3.11.2)" }]), json(200, [{ id: 3, description: "Accepted" }])]);
    const c = client(m.fetch);
    expect(await c.languages()).toEqual([{ id: 71, name: "Python (3.11.2)" }]);
    expect(await c.statuses()).toEqual([{ id: 3, description: "Accepted" }]);
    expect(m.calls[0]?.url).toBe("http://api.test/languages");
    expect(m.calls[1]?.url).toBe("http://api.test/statuses");
  });

  it("uses the same origin with an empty base", async () => {
    const m = mockFetch([json(200, [])]);
    await new Judge0Client({ baseUrl: "", fetch: m.fetch }).languages();
    expect(m.calls[0]?.url).toBe("/languages");
  });

  it("polls: POST wait=false, then GET with fields until the status is final", async () => {
    const m = mockFetch([
      json(201, { token: "abc" }),
      json(200, { token: "abc", status: { id: 1, description: "In Queue" } }),
      json(200, { token: "abc", status: { id: 2, description: "Processing" } }),
      json(200, { token: "abc", stdout: rubyB64("hi\n"), time: "0.001", memory: 900, exit_code: 0, status: { id: 3, description: "Accepted" } }),
    ]);
    const progress: number[] = [];
    const r = await client(m.fetch).run({ language_id: 71, source_code: "print('hi')" }, { onProgress: (s) => progress.push(s.id) });
    expect(r.stdout).toBe("hi\n");
    expect(r.status.description).toBe("Accepted");
    expect(progress).toEqual([1, 1, 2]);

    const post = m.calls[0]!;
    expect(post.init.method).toBe("POST");
    const postUrl = new URL(post.url);
    expect(postUrl.pathname).toBe("/submissions");
    expect(postUrl.searchParams.get("base64_encoded")).toBe("true");
    expect(postUrl.searchParams.get("wait")).toBe("false");
    expect((post.init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    expect(JSON.parse(post.init.body as string)).toEqual({ language_id: 71, source_code: encodeBase64("print('hi')") });

    const get = new URL(m.calls[1]!.url);
    expect(get.pathname).toBe("/submissions/abc");
    expect(get.searchParams.get("base64_encoded")).toBe("true");
    expect(m.calls[1]!.url).toMatch(/fields=token,status,/);
    const fields = get.searchParams.get("fields")!;
    expect(fields).not.toContain(" ");
    expect(fields.split(",")).toEqual(expect.arrayContaining([...RESULT_FIELDS, "tests", "memory_limit_exceeded"]));
  });

  it("with wait=true, one POST returns the result", async () => {
    const m = mockFetch([json(201, { token: "t", stdout: encodeBase64("ok"), status: { id: 3, description: "Accepted" } })]);
    const r = await client(m.fetch).run({ language_id: 71, source_code: "" }, { wait: true });
    expect(r.stdout).toBe("ok");
    expect(m.calls).toHaveLength(1);
    const u = new URL(m.calls[0]!.url);
    expect(u.searchParams.get("wait")).toBe("true");
    expect(u.searchParams.get("fields")).toContain("stdout");
  });

  it("keeps polling when wait=true answers an unfinished submission", async () => {
    const m = mockFetch([
      json(201, { token: "w", status: { id: 2, description: "Processing" } }),
      json(200, { token: "w", status: { id: 5, description: "Time Limit Exceeded" }, time: "5.0" }),
    ]);
    const r = await client(m.fetch).run({ language_id: 71, source_code: "" }, { wait: true });
    expect(r.status.id).toBe(5);
    expect(m.calls).toHaveLength(2);
    expect(new URL(m.calls[1]!.url).pathname).toBe("/submissions/w");
  });

  it("falls back to polling when wait is not allowed", async () => {
    const m = mockFetch([
      json(400, { error: "wait not allowed" }),
      json(201, { token: "t" }),
      json(200, { token: "t", status: { id: 3, description: "Accepted" } }),
    ]);
    const r = await client(m.fetch).run({ language_id: 71, source_code: "" }, { wait: true });
    expect(r.status.id).toBe(3);
    expect(new URL(m.calls[1]!.url).searchParams.get("wait")).toBe("false");
  });

  it("drops the extension fields for a plain Judge0", async () => {
    const m = mockFetch([
      json(400, { error: "invalid fields: [memory_limit_exceeded, tests]" }),
      json(200, { token: "t", status: { id: 3, description: "Accepted" } }),
      json(200, { token: "t", status: { id: 3, description: "Accepted" } }),
    ]);
    const c = client(m.fetch);
    await c.get("t");
    await c.get("t");
    expect(new URL(m.calls[1]!.url).searchParams.get("fields")).toBe(RESULT_FIELDS.join(","));
    expect(new URL(m.calls[2]!.url).searchParams.get("fields")).toBe(RESULT_FIELDS.join(","));
  });

  it("maps 422 to field errors", async () => {
    const m = mockFetch([json(422, { language_id: ["can't be blank", "language with id  doesn't exist"], compiler_options: ["is too long (maximum is 512 characters)"] })]);
    const e = (await client(m.fetch).create({ language_id: 0, source_code: "" }).catch((x) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.kind).toBe("validation");
    expect(e.status).toBe(422);
    expect(e.fieldErrors).toEqual({
      language_id: ["can't be blank", "language with id  doesn't exist"],
      compiler_options: ["is too long (maximum is 512 characters)"],
    });
    expect(e.message).toContain("language_id: can't be blank");
  });

  it("maps 429 with Retry-After", async () => {
    const m = mockFetch([json(429, { error: "rate limited" }, { "Retry-After": "7" })]);
    const e = (await client(m.fetch).create({ language_id: 71, source_code: "" }).catch((x) => x)) as ApiError;
    expect(e.kind).toBe("rate_limited");
    expect(e.retryAfter).toBe(7);
    expect(e.message).toMatch(/wait 7 s/);
  });

  it("maps 503 queue full and maintenance", async () => {
    const m = mockFetch([json(503, { error: "queue is full" }), json(503, { error: "Judge0 is currently in maintenance." })]);
    const c = client(m.fetch);
    const e1 = (await c.create({ language_id: 71, source_code: "" }).catch((x) => x)) as ApiError;
    expect(e1.kind).toBe("unavailable");
    expect(e1.message).toContain("queue is full");
    expect(e1.message).toMatch(/try again/i);
    const e2 = (await c.create({ language_id: 71, source_code: "" }).catch((x) => x)) as ApiError;
    expect(e2.message).toContain("maintenance");
  });

  it("maps 401 with an empty body", async () => {
    const m = mockFetch([new Response("", { status: 401 })]);
    const e = (await client(m.fetch).languages().catch((x) => x)) as ApiError;
    expect(e.kind).toBe("unauthorized");
  });

  it("maps a network failure", async () => {
    const m = mockFetch([new TypeError("fetch failed")]);
    const e = (await client(m.fetch).languages().catch((x) => x)) as ApiError;
    expect(e.kind).toBe("network");
    expect(e.message).toMatch(/Cannot reach the coderunner API at http:\/\/api\.test/);
  });

  it("maps an answer that is not JSON", async () => {
    const m = mockFetch([new Response("<html>", { status: 200 })]);
    const e = (await client(m.fetch).languages().catch((x) => x)) as ApiError;
    expect(e.kind).toBe("server");
  });

  it("maps 500", async () => {
    const m = mockFetch([json(500, { error: "boom" })]);
    const e = (await client(m.fetch).languages().catch((x) => x)) as ApiError;
    expect(e.kind).toBe("server");
    expect(e.message).toContain("500");
  });

  it("times out when the result never comes, with the token", async () => {
    const queued = () => json(200, { token: "slow", status: { id: 2, description: "Processing" } });
    const m = mockFetch([json(201, { token: "slow" }), ...Array.from({ length: 100 }, () => queued)]);
    const e = (await client(m.fetch, { timeoutMs: 5_000, pollIntervalMs: 100, maxPollIntervalMs: 1_000 })
      .run({ language_id: 71, source_code: "" })
      .catch((x) => x)) as ApiError;
    expect(e.kind).toBe("timeout");
    expect(e.token).toBe("slow");
    expect(e.message).toContain("slow");
    // backoff: 100, 150, 225, ... capped at 1000; stops at 5 s
    expect(m.calls.length).toBeGreaterThan(3);
    expect(m.calls.length).toBeLessThan(15);
  });

  it("can be cancelled", async () => {
    const ac = new AbortController();
    const m = mockFetch([json(201, { token: "t" })]);
    const c = new Judge0Client({ baseUrl: "", fetch: m.fetch, pollIntervalMs: 10_000 });
    const p = c.run({ language_id: 71, source_code: "" }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    const e = (await p.catch((x) => x)) as ApiError;
    expect(e.kind).toBe("aborted");
  });

  it("sends extra headers (an auth token)", async () => {
    const m = mockFetch([json(200, [])]);
    await new Judge0Client({ baseUrl: "", fetch: m.fetch, headers: { "X-Auth-Token": "k" } }).languages();
    expect((m.calls[0]!.init.headers as Record<string, string>)["X-Auth-Token"]).toBe("k");
  });
});
