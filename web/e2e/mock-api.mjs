// MOCK API FOR UI TESTS ONLY. This is not coderunner and runs no code: it serves the
// static export (out/) and answers just enough of the Judge0 API shape, with fixed canned
// answers chosen by markers in the source code, so the browser test can drive every pane
// of the UI without a real `coderunner serve`. The real end-to-end tests (issue 5) run
// against `coderunner serve` once it exists.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = fileURLToPath(new URL("../out/", import.meta.url));
const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s) => (s ? Buffer.from(s, "base64").toString("utf8") : "");

const LANGUAGES = [
  { id: 50, name: "C (GCC 12.2.0) [mock]" },
  { id: 54, name: "C++ (GCC 12.2.0) [mock]" },
  { id: 62, name: "Java (OpenJDK 17) [mock]" },
  { id: 63, name: "JavaScript (Node.js 18) [mock]" },
  { id: 71, name: "Python (3.11) [mock]" },
  { id: 73, name: "Rust (1.63) [mock]" },
  { id: 44, name: "Executable [mock]" },
];
const STATUS = (id, description) => ({ id, description });

const submissions = new Map();
let counter = 0;

// Canned answers, picked by a marker in the source. Nothing is executed.
function cannedResult(body) {
  const src = unb64(body.source_code);
  const base = { time: "0.012", wall_time: "0.020", memory: 3400, exit_code: 0, exit_signal: null, stderr: null, compile_output: null, message: null };
  if (body.tests) {
    return {
      ...base,
      status: STATUS(4, "Wrong Answer"),
      memory_limit_exceeded: false,
      tests: body.tests.map((t, i) => ({
        stdin: t.stdin ?? null,
        expected_output: t.expected_output ?? null,
        stdout: b64(i === 0 ? unb64(t.expected_output) : "canned wrong output\n"),
        time: "0.010",
        memory: 3300,
        stderr: null,
        exit_code: 0,
        exit_signal: null,
        message: null,
        wall_time: "0.015",
        status: i === 0 ? STATUS(3, "Accepted") : STATUS(4, "Wrong Answer"),
        memory_limit_exceeded: false,
      })),
    };
  }
  if (src.includes("MOCK_COMPILE_ERROR"))
    return { ...base, time: null, wall_time: null, memory: null, exit_code: null, status: STATUS(6, "Compilation Error"), compile_output: b64("main.c:1:1: error: expected ';' (canned)\n") };
  if (src.includes("MOCK_TLE"))
    return { ...base, time: "5.001", exit_code: 0, status: STATUS(5, "Time Limit Exceeded"), message: b64("Time limit exceeded") };
  if (src.includes("MOCK_SIGXFSZ"))
    return { ...base, exit_code: null, exit_signal: 25, status: STATUS(8, "Runtime Error (SIGXFSZ)"), stdout: b64("x".repeat(100)) };
  if (src.includes("MOCK_MLE"))
    return { ...base, exit_code: null, exit_signal: 9, memory: 262144, status: STATUS(12, "Runtime Error (Other)"), memory_limit_exceeded: true };
  if (src.includes("MOCK_NZEC")) return { ...base, exit_code: 3, status: STATUS(11, "Runtime Error (NZEC)"), stderr: b64("Traceback (canned)\n") };
  return { ...base, status: STATUS(3, "Accepted"), stdout: b64("canned output from the mock API\n"), stderr: b64("canned stderr\n") };
}

function send(res, status, obj, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(obj === undefined ? "" : JSON.stringify(obj));
}

async function serveStatic(res, path) {
  let p = normalize(decodeURIComponent(path)).replace(/^(\.\.[/\\])+/, "");
  if (p.endsWith("/")) p += "index.html";
  let file = join(OUT, p);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, "index.html");
  } catch {
    file = join(OUT, "404.html");
  }
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".ico": "image/x-icon", ".svg": "image/svg+xml" };
  try {
    const data = await readFile(file);
    res.writeHead(file.endsWith("404.html") ? 404 : 200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
    res.end(data);
  } catch {
    res.writeHead(404).end();
  }
}

export function startMock(port = 0) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    let raw = "";
    for await (const c of req) raw += c;
    if (url.pathname === "/languages") return send(res, 200, LANGUAGES);
    if (url.pathname === "/statuses") return send(res, 200, [STATUS(1, "In Queue"), STATUS(2, "Processing"), STATUS(3, "Accepted")]);
    if (url.pathname === "/submissions" && req.method === "POST") {
      const body = JSON.parse(raw || "{}");
      const src = unb64(body.source_code);
      if (src.includes("MOCK_422"))
        return send(res, 422, { compiler_options: ["setting compiler options is only allowed for compiled languages"], language_id: ["can't be blank"] });
      if (src.includes("MOCK_503")) return send(res, 503, { error: "queue is full" });
      const token = `mock-${++counter}`;
      // MOCK_NEVER: the result never comes (stays "Processing"), for the timeout message.
      if (src.includes("MOCK_NEVER")) {
        submissions.set(token, { polls: -1e9, result: null });
        return send(res, 201, { token });
      }
      submissions.set(token, { polls: 0, result: cannedResult(body) });
      return send(res, 201, { token });
    }
    const m = url.pathname.match(/^\/submissions\/([\w-]+)$/);
    if (m && req.method === "GET") {
      const s = submissions.get(m[1]);
      if (!s) return send(res, 404, { status: 404, error: "Not Found" });
      s.polls++;
      // "In Queue", then "Processing", then the canned result: the UI's progress shows.
      if (s.polls === 1 && s.result) return send(res, 200, { token: m[1], status: STATUS(1, "In Queue") });
      if (s.polls === 2 || !s.result) return send(res, 200, { token: m[1], status: STATUS(2, "Processing") });
      return send(res, 200, { token: m[1], ...s.result });
    }
    return serveStatic(res, url.pathname);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startMock(Number(process.env.PORT ?? 2358));
  console.log(`MOCK API (UI tests only) and the static export at http://127.0.0.1:${server.address().port}/`);
}
