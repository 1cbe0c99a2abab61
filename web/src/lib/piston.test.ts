import { describe, expect, it } from "vitest";
import {
  InteractiveSession,
  closeExplanation,
  connectUrl,
  exitSummary,
  parseFrame,
  parseRuntimes,
  refusalExplanation,
  runtimeFor,
  splitArgs,
  versionOf,
  type ServerFrame,
  type SocketLike,
} from "./piston";
import { LANGUAGES, RUNTIMES } from "./piston.fixture";

const runtimes = parseRuntimes(RUNTIMES);

describe("the runtime for a language", () => {
  it("reads versions as the server does", () => {
    expect(versionOf("C (GCC 12.2.0)")).toBe("12.2.0");
    expect(versionOf("Common Lisp (SBCL 2.2.9.debian)")).toBe("2.2.9.debian");
    expect(versionOf("Plain Text")).toBe("0.0.0");
  });

  it("selects exactly one runtime on the server for every catalogue language but the multi-file program", () => {
    for (const lang of LANGUAGES) {
      const rt = runtimeFor(lang, runtimes);
      if (lang.id === 89) {
        expect(rt).toBeNull();
        continue;
      }
      expect(rt, lang.name).not.toBeNull();
      // The server's selection: language or alias, and the exact version.
      const matches = runtimes.filter((r) => (r.language === rt!.language || r.aliases.includes(rt!.language)) && r.version === rt!.version);
      expect(matches.length, `${lang.name} -> ${JSON.stringify(rt)}`).toBe(1);
    }
  });

  it("tells apart runtimes of one version and one language", () => {
    const pick = (id: number) => runtimeFor(LANGUAGES.find((l) => l.id === id)!, runtimes);
    expect(pick(50)).toEqual({ language: "gcc", version: "12.2.0" }); // C (GCC), not C++, D, Fortran or Objective-C
    expect(pick(75)).toEqual({ language: "clang", version: "14.0.6" });
    expect(pick(54)).toEqual({ language: "cpp", version: "12.2.0" });
    expect(pick(76)).toEqual({ language: "clang++", version: "14.0.6" });
    expect(pick(79)).toEqual({ language: "objective-c", version: "12.2.0" });
    expect(pick(59)).toEqual({ language: "f90", version: "12.2.0" });
    expect(pick(71)).toEqual({ language: "py", version: "3.11.2" });
    expect(pick(43)).toEqual({ language: "plain-text", version: "0.0.0" });
    expect(runtimeFor({ id: 999, name: "Brainfuck (1.0)" }, runtimes)).toBeNull();
  });

  it("keeps only well-formed runtimes", () => {
    expect(parseRuntimes({})).toEqual([]);
    expect(parseRuntimes([null, { language: "x" }, { language: "y", version: "1", aliases: [1, "z"], runtime: 3 }])).toEqual([
      { language: "y", version: "1", aliases: ["z"], runtime: null },
    ]);
  });
});

describe("command-line arguments", () => {
  it("splits as a shell would, quotes keeping blanks", () => {
    expect(splitArgs("")).toEqual([]);
    expect(splitArgs("  a  b\tc ")).toEqual(["a", "b", "c"]);
    expect(splitArgs(`"hello world" 'it''s' x"y z"w ""`)).toEqual(["hello world", "its", "xy zw", ""]);
    expect(splitArgs(`"open`)).toEqual({ error: "the command-line arguments have an unclosed double quote" });
    expect(splitArgs(`it's`)).toEqual({ error: "the command-line arguments have an unclosed single quote" });
  });
});

describe("the connection", () => {
  it("has a WebSocket address for every API base", () => {
    const http = { protocol: "http:", host: "127.0.0.1:2358" };
    expect(connectUrl("", http)).toBe("ws://127.0.0.1:2358/api/v2/connect");
    expect(connectUrl("/api/", { protocol: "https:", host: "ide.example" })).toBe("wss://ide.example/api/api/v2/connect");
    expect(connectUrl("https://api.example/base/", http)).toBe("wss://api.example/base/api/v2/connect");
    expect(connectUrl("http://api.example", http)).toBe("ws://api.example/api/v2/connect");
  });

  it("explains every close code the server uses, and a normal end as none", () => {
    expect(closeExplanation(4999, "Job Completed", true)).toBeNull();
    for (const code of [4000, 4001, 4002, 4003, 4004, 4005, 1000, 1001, 1002, 1003, 1009]) {
      const text = closeExplanation(code, "why", true);
      expect(text, String(code)).toMatch(/\w/);
      expect(text).not.toMatch(/^The connection to the server was lost/);
    }
    expect(closeExplanation(4002, "queue is full", true)).toBe("The server refused the run (queue is full).");
    expect(closeExplanation(1006, "", true)).toMatch(/connection to the server was lost \(1006\).*kept/);
    expect(closeExplanation(1006, "", false)).toMatch(/Could not connect/);
  });

  it("says why a connection was refused, from the route's plain answer", () => {
    expect(refusalExplanation(501, "interactive runs (/api/v2/connect) are served by coderunner serve only")).toMatch(/single coderunner server.*serve only/);
    expect(refusalExplanation(401, null)).toMatch(/API key.*WebSocket/);
    expect(refusalExplanation(404, null)).toMatch(/does not offer interactive runs/);
    expect(refusalExplanation(null, null)).toMatch(/Could not reach/);
    expect(refusalExplanation(503, "too many sessions")).toMatch(/busy.*too many sessions/);
  });
});

describe("frames", () => {
  it("parses the server's frames and ignores anything else", () => {
    expect(parseFrame('{"type":"runtime","language":"python","version":"3.11.2"}')).toEqual({ type: "runtime", language: "python", version: "3.11.2" });
    expect(parseFrame('{"type":"data","stream":"stdout","data":"hi\\n"}')).toEqual({ type: "data", stream: "stdout", data: "hi\n" });
    expect(parseFrame('{"type":"exit","stage":"run","code":3,"signal":null,"status":"RE","message":"x"}')).toEqual({
      type: "exit",
      stage: "run",
      code: 3,
      signal: null,
      status: "RE",
      message: "x",
    });
    for (const bad of ["{", "[]", '{"type":"data","stream":"stdin","data":"x"}', '{"type":"data","stream":"stdout"}', '{"type":"stage"}', '{"type":"nope"}'])
      expect(parseFrame(bad), bad).toBeNull();
  });

  it("says how a stage ended in plain words", () => {
    const x = { stage: "run", code: 0, signal: null, status: null, message: null };
    expect(exitSummary(x)).toEqual({ text: "The program finished (exit code 0).", ok: true });
    expect(exitSummary({ ...x, code: 3, status: "RE" }).text).toBe("The program ended with an error (exit code 3).");
    expect(exitSummary({ ...x, stage: "compile", code: 1, status: "RE" }).text).toBe("Did not compile (exit code 1).");
    expect(exitSummary({ ...x, code: null, signal: "SIGKILL", status: "SG", message: "killed on request (signal 9)" }).text).toBe(
      "The program was stopped by SIGKILL (killed on request (signal 9)).",
    );
    expect(exitSummary({ ...x, code: null, status: "TO" }).ok).toBe(false);
  });
});

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closed: [number | undefined, string | undefined] | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close(code?: number, reason?: string) {
    this.closed = [code, reason];
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code: number, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

function session() {
  let sock: FakeSocket | null = null;
  const frames: ServerFrame[] = [];
  const ends: [string | null, number, boolean][] = [];
  const s = new InteractiveSession(
    "ws://x/api/v2/connect",
    { language: "py", version: "3.11.2", files: [{ name: "main", content: "print(input())" }], args: ["a"] },
    { onFrame: (f) => frames.push(f), onEnd: (e, c, o) => ends.push([e, c, o]) },
    (u) => (sock = new FakeSocket(u)),
  );
  return { s, sock: sock! as FakeSocket, frames, ends };
}

describe("an interactive session", () => {
  it("sends the program on open, then input, end of input and a signal; a normal end explains nothing", () => {
    const { s, sock, frames, ends } = session();
    expect(s.sendInput("early\n")).toBe(false); // not open yet: nothing sent
    sock.open();
    expect(sock.sent[0]).toEqual({ type: "init", language: "py", version: "3.11.2", files: [{ name: "main", content: "print(input())" }], args: ["a"] });
    sock.frame({ type: "runtime", language: "python", version: "3.11.2" });
    sock.frame({ type: "stage", stage: "run" });
    expect(s.sendInput("Ada\n")).toBe(true);
    expect(s.sendEof()).toBe(true);
    expect(s.stop()).toBe(true);
    expect(sock.sent.slice(1)).toEqual([
      { type: "data", stream: "stdin", data: "Ada\n" },
      { type: "data", stream: "stdin", data: "", eof: true },
      { type: "signal", signal: "SIGKILL" },
    ]);
    sock.frame({ type: "data", stream: "stdout", data: "Ada\n" });
    sock.onmessage?.({ data: new ArrayBuffer(2) }); // binary: ignored
    sock.frame({ type: "exit", stage: "run", code: 0, signal: null, status: null, message: null });
    sock.serverClose(4999, "Job Completed");
    expect(frames.map((f) => f.type)).toEqual(["runtime", "stage", "data", "exit"]);
    expect(ends).toEqual([[null, 4999, true]]);
    expect(s.sendInput("late\n")).toBe(false);
  });

  it("a refusal is explained; a lost connection mid-run says the output is kept; the end is told once", () => {
    const a = session();
    a.sock.open();
    a.sock.frame({ type: "error", message: "queue is full" });
    a.sock.serverClose(4002, "Notified Error");
    expect(a.ends).toEqual([["The server refused the run (queue is full).", 4002, true]]);

    const b = session();
    b.sock.open();
    b.sock.frame({ type: "stage", stage: "run" });
    b.sock.serverClose(1006);
    b.sock.serverClose(1006);
    expect(b.ends.length).toBe(1);
    expect(b.ends[0]![0]).toMatch(/lost \(1006\).*kept/);

    const c = session();
    c.sock.serverClose(1006);
    expect(c.ends).toEqual([["Could not connect to the server for an interactive run.", 1006, false]]);
  });

  it("closing it ends the session at once and closes the socket", () => {
    const { s, sock, ends } = session();
    sock.open();
    s.close();
    expect(sock.closed).toEqual([1000, "closed by the user"]);
    expect(ends.length).toBe(1);
    expect(ends[0]![0]).toMatch(/session was closed/);
  });
});
