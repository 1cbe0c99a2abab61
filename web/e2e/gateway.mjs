// End-to-end test of the IDE in cluster mode against a REAL gateway (no mock): a real
// `coderunner serve` as the API node (refusing whatever lacks the gateway's credential), a
// real `coderunner gateway` in front of it with a SQLite metadata store, and `next start`
// (the server build, CODERUNNER_WEB_MODE=server) in front of the gateway. Debian's Chromium
// via playwright-core; screenshots in e2e/artifacts/gateway-*.png.
//
// Checks: the session cookie (only it, HttpOnly) reaches the browser through the proxy; the
// operator's notice, language list and default language from client-config; a run appears
// in History and clicking it brings back code, language and stdin (and a run's extra files); another browser (another
// session) sees neither the run nor its token; register, sign out, sign in (and a wrong
// password) with accounts on, the history following the user to a third browser; delete;
// load more; an ended session replaced; key mode (one shared key: no cookie, the history
// in the browser) and a key set without key mode refused.
//
// Needs root (serve runs the sandbox; the gateway then becomes `nobody`), chromium and
// build/coderunner. CODERUNNER=path to the binary; SKIP_BUILD=1 to use the server build
// already in .next/ (otherwise `next build` runs first, in server mode).
import { chromium } from "playwright-core";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { setCode, until } from "./helpers.mjs";

const WEB = fileURLToPath(new URL("../", import.meta.url));
const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const BIN = process.env.CODERUNNER ?? join(WEB, "..", "build", "coderunner");
const INTERNAL = "e2e-internal-secret-0123456789";
const NOTICE = "Maintenance on Sunday 10:00 UTC (e2e notice)";
const step = (name) => console.log(`- ${name}`);

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** `until`, failing at once if `proc` exits meanwhile. */
const untilAlive = (proc, what, check, ms) =>
  until(
    async () => {
      if (proc.exitCode !== null) throw Object.assign(new Error(`${what}: the process exited with ${proc.exitCode}`), { fatal: true });
      return check();
    },
    ms,
    what,
  );

const tmp = mkdtempSync(join(tmpdir(), "coderunner-web-gateway-"));
// The gateway's user (nobody) must reach its store inside.
chmodSync(tmp, 0o711);
const procs = [];
function start(name, cmd, args, opts = {}) {
  const log = openSync(join(tmp, `${name}.log`), "w");
  // Its own process group, so that stopping it stops what it started (next start's workers).
  const p = spawn(cmd, args, { stdio: ["ignore", log, log], detached: true, ...opts });
  p.logName = name;
  procs.push(p);
  return p;
}
function stopAll() {
  for (const p of procs.reverse()) {
    if (p.exitCode === null) {
      try {
        process.kill(-p.pid, "SIGTERM");
      } catch {
        /* gone already */
      }
    }
  }
}
const logOf = (name) => {
  try {
    return readFileSync(join(tmp, `${name}.log`), "utf8");
  } catch {
    return "";
  }
};

let failed = false;
let browser;
const pages = [];
try {
  if (process.env.SKIP_BUILD !== "1") {
    step("next build (server mode)");
    execFileSync("npx", ["--no-install", "next", "build"], {
      cwd: WEB,
      env: { ...process.env, CODERUNNER_WEB_MODE: "server", NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "ignore", "inherit"],
    });
  }

  const [servePort, gwPort, webPort] = [await freePort(), await freePort(), await freePort()];
  step(`coderunner serve on ${servePort} (the API node), refusing what lacks the gateway's credential`);
  mkdirSync(join(tmp, "serve"));
  const serve = start("serve", BIN, [
    "serve",
    `--port=${servePort}`,
    "--bind=127.0.0.1",
    `--data-dir=${join(tmp, "serve")}`,
    "--authn-header=X-Coderunner-Internal",
    `--authn-token=${INTERNAL}`,
    "--authz-header=X-Coderunner-Admin",
    `--authz-token=${INTERNAL}`,
  ]);
  await untilAlive(serve, "serve's /health", async () => (await fetch(`http://127.0.0.1:${servePort}/health`, { headers: { "X-Coderunner-Internal": INTERNAL } })).ok, 60_000);

  step(`coderunner gateway on ${gwPort}, SQLite metadata, accounts on, client-config set`);
  // The gateway becomes `nobody`: its store lives in a directory of nobody's.
  const metaDir = join(tmp, "meta");
  mkdirSync(metaDir);
  const uid = Number(execFileSync("id", ["-u", "nobody"]).toString());
  const gid = Number(execFileSync("id", ["-g", "nobody"]).toString());
  chownSync(metaDir, uid, gid);
  const meta = `--meta=sqlite:${join(metaDir, "meta.db")}`;
  for (const [k, v] of [
    ["notice", NOTICE],
    ["languages", "71,50"],
    ["default_language_id", "50"],
    ["editor.tab_size", "2"],
  ]) {
    const r = spawnSync(BIN, ["gateway", "config", "set", k, v, meta], { uid, gid, encoding: "utf8" });
    assert.equal(r.status, 0, `gateway config set ${k}: ${r.stderr}`);
  }
  const gateway = start("gateway", BIN, [
    "gateway",
    `--port=${gwPort}`,
    "--bind=127.0.0.1",
    `--upstream=http://127.0.0.1:${servePort}`,
    meta,
    "--user=nobody",
    `--internal-secret=${INTERNAL}`,
    "--session-secret=e2e-session-secret-0123456789",
    "--accounts=true",
    // The code-client is the proxy whose X-Forwarded-For names the browser.
    "--trusted-proxies=127.0.0.1",
    "--health-interval=0.2",
    "--key-cache=0",
    // One browser here runs in seconds what a person does in minutes.
    "--session-rate=200",
    "--session-burst=400",
    "--ip-rate=400",
    "--ip-burst=800",
  ]);
  await untilAlive(gateway, "the gateway's /health", async () => (await fetch(`http://127.0.0.1:${gwPort}/health`)).ok, 30_000);

  step(`next start on ${webPort}, in front of the gateway`);
  const web = start("next", join(WEB, "node_modules", ".bin", "next"), ["start", "-p", String(webPort), "-H", "127.0.0.1"], {
    cwd: WEB,
    env: { ...process.env, CODERUNNER_WEB_MODE: "server", CODERUNNER_GATEWAY_URL: `http://127.0.0.1:${gwPort}`, NEXT_TELEMETRY_DISABLED: "1" },
  });
  const base = `http://127.0.0.1:${webPort}/`;
  await untilAlive(web, "next start", async () => (await fetch(base)).ok, 60_000);

  // What the proxy lets through and what it does not, straight over HTTP first.
  step("the proxy: the gateway's routes yes, admin routes and foreign cookies no");
  const anon = await fetch(`${base}api/session`);
  assert.equal(anon.status, 401, "no session yet");
  const made = await fetch(`${base}api/session`, { method: "POST" });
  assert.equal(made.status, 201);
  const cookies = made.headers.getSetCookie();
  assert.equal(cookies.length, 1, `one cookie: ${cookies}`);
  assert.match(cookies[0], /^coderunner_session=[^;]+; .*HttpOnly/i);
  const jar = cookies[0].split(";")[0];
  assert.equal((await fetch(`${base}api/session`, { headers: { cookie: `${jar}; theme=dark` } })).status, 200);
  assert.equal((await fetch(`${base}api/workers`, { headers: { cookie: jar } })).status, 404);
  assert.equal((await fetch(`${base}api/metrics`)).status, 404);
  const cfg = await (await fetch(`${base}api/client-config`)).json();
  assert.equal(cfg.notice, NOTICE);

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const a = await ctxA.newPage();
  pages.push(a);
  const consoleErrors = [];
  a.on("pageerror", (e) => consoleErrors.push(String(e)));
  await a.goto(base);

  step("client-config: the notice, the enabled languages, the default language, the tab size");
  await a.waitForSelector('[data-testid="notice"]');
  assert.equal(await a.locator('[data-testid="notice"]').innerText(), NOTICE);
  await a.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 20_000 });
  const offered = await a.locator('[data-testid="language"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered.sort(), ["50", "71"]);
  assert.equal(await a.locator('[data-testid="language"]').inputValue(), "50", "the operator's default language");
  await a.locator("summary", { hasText: "Settings" }).click();
  assert.equal(await a.locator('[data-testid="tab-size"]').inputValue(), "2");
  assert.equal(await a.getByText("API key (X-Auth-Token").count(), 0, "no API key field: the proxy sends no browser's key on");

  step("a session cookie, HttpOnly, and no other cookie");
  await until(async () => (await ctxA.cookies()).some((c) => c.name === "coderunner_session"), 10_000, "the session");
  const jarA = await ctxA.cookies();
  assert.deepEqual(jarA.map((c) => c.name), ["coderunner_session"]);
  assert.equal(jarA[0].httpOnly, true);
  assert.equal(await a.locator('[data-testid="history"]').getByText("No runs yet.").count(), 1);

  async function run(page) {
    const before = await page.locator('[data-testid="verdict"]').count();
    await page.locator('[data-testid="run"]').click();
    await page.waitForSelector('[data-testid="progress"], [data-testid="verdict"]');
    await page.waitForSelector('[data-testid="verdict"], [data-testid="error"]', { timeout: 60_000 });
    if ((await page.locator('[data-testid="error"]').count()) > 0) throw new Error(await page.locator('[data-testid="error"]').innerText());
    return before;
  }

  async function stdoutOf(page) {
    if ((await page.locator('[data-testid="stdout"]').count()) === 0)
      throw new Error(`no output; the verdict: ${await page.locator('[data-testid="verdict"]').innerText()}`);
    return page.locator('[data-testid="stdout"]').innerText();
  }

  step("a run appears in History with its language, verdict, time and date; it was followed live through the proxy");
  const liveStreams = [];
  a.on("response", (r) => {
    if (/\/api\/submissions\/[^/?]+\/events/.test(r.url())) liveStreams.push([r.status(), r.headers()["content-type"] ?? ""]);
  });
  await a.locator('[data-testid="language"]').selectOption("71");
  const program = 'import sys\nprint("hello " + sys.stdin.readline().strip())\n';
  await setCode(a, program);
  await a.locator('[data-testid="stdin"]').fill("Ada");
  await run(a);
  assert.ok(liveStreams.some(([st, ct]) => st === 200 && ct.startsWith("text/event-stream")), `live events through next start: ${JSON.stringify(liveStreams)}`);
  assert.match(await a.locator('[data-testid="verdict"]').innerText(), /Accepted/);
  assert.equal(await stdoutOf(a), "hello Ada\n");
  await a.waitForSelector('[data-testid="history-item"]');
  const entry = a.locator('[data-testid="history-item"]').first();
  const token = await entry.getAttribute("data-token");
  await until(async () => /Python[\s\S]*Accepted/.test(await entry.innerText()), 10_000, "the entry's verdict");
  assert.match(await entry.innerText(), /\d/, "time and date");

  step("clicking it brings back code, language and stdin (and the replaced code stays one click away)");
  await a.locator('[data-testid="language"]').selectOption("50");
  await setCode(a, "int main(void) { return 0; }\n");
  await a.locator('[data-testid="stdin"]').fill("something else");
  await entry.locator("button").first().click();
  await until(async () => (await a.locator('[data-testid="language"]').inputValue()) === "71", 10_000, "the restored program");
  await a.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes('print("hello "'));
  assert.equal(await a.locator('[data-testid="stdin"]').inputValue(), "Ada");
  await a.locator('[data-testid="back-to-previous"]').click();
  await until(async () => (await a.locator('[data-testid="language"]').inputValue()) === "50", 10_000, "back to the C program");
  assert.equal(await a.locator('[data-testid="stdin"]').inputValue(), "something else");
  await a.screenshot({ path: `${ART}gateway-history.png`, fullPage: true });

  step("a run with an extra file: its entry brings the file back (kept in this browser beside the gateway's history), then is deleted");
  await a.locator('[data-testid="language"]').selectOption("71");
  await setCode(a, "import helper\nprint(helper.X)\n");
  await a.locator('[data-testid="file-new"]').click();
  await a.locator('[data-testid="file-name"]').fill("helper.py");
  await a.locator('[data-testid="file-name"]').press("Enter");
  await a.waitForSelector('[data-testid="file-tab"][aria-selected="true"]:text-is("helper.py")');
  await setCode(a, "X = 'from the helper'\n");
  await a.locator('[data-testid="stdin"]').fill("");
  await run(a);
  assert.equal(await stdoutOf(a), "from the helper\n");
  await until(async () => (await a.locator('[data-testid="history-item"]').count()) === 2, 10_000, "the run with a file in History");
  const filesToken = await a.locator('[data-testid="history-item"]').first().getAttribute("data-token");
  await a.locator('[data-testid="file-delete"]').click();
  await a.locator('[data-testid="confirm-delete"]').click();
  await until(async () => (await a.locator('[data-testid="file-tab"]').count()) === 1, 10_000, "helper.py deleted");
  await a.locator(`[data-testid="history-item"][data-token="${filesToken}"] button`).first().click();
  await a.waitForSelector('[data-testid="file-tab"]:text-is("helper.py")');
  await a.locator(`[data-testid="history-item"][data-token="${filesToken}"] button[aria-label^="Delete"]`).click();
  await until(async () => (await a.locator(`[data-testid="history-item"][data-token="${filesToken}"]`).count()) === 0, 10_000, "the entry to go");

  step("the history is the server's: a reload shows it again");
  await a.reload();
  await a.waitForSelector(`[data-testid="history-item"][data-token="${token}"]`);

  step("another browser (another session) sees neither the run nor its token");
  const ctxB = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const b = await ctxB.newPage();
  pages.push(b);
  await b.goto(base);
  await b.waitForSelector('[data-testid="history"]');
  await until(async () => (await b.locator('[data-testid="history"]').getByText("No runs yet.").count()) === 1, 20_000, "B's history");
  assert.equal(await b.locator(`[data-testid="history-item"]`).count(), 0);
  const other = await ctxB.request.get(`${base}api/submissions/${token}?base64_encoded=true`);
  assert.equal(other.status(), 404, "another session's token is not found");
  const mine = await ctxA.request.get(`${base}api/submissions/${token}?base64_encoded=true`);
  assert.equal(mine.status(), 200, "the owner's session reads it");

  step("a share link is short behind the gateway, and opens in a browser with another session");
  await a.locator('[data-testid="language"]').selectOption("71");
  await setCode(a, 'print("shared through the gateway")\n');
  await a.locator('[data-testid="stdin"]').fill("shared stdin");
  await a.getByRole("button", { name: "Share" }).click();
  await until(async () => /#share=/.test(await a.locator("#share-url").inputValue()), 10_000, "the short link");
  const short = await a.locator("#share-url").inputValue();
  assert.match(short, /#share=[A-Za-z0-9_-]{12}$/);
  const ctxS = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const s = await ctxS.newPage();
  pages.push(s);
  await s.goto(short);
  await s.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("shared through the gateway"), null, { timeout: 30_000 });
  assert.equal(await s.locator('[data-testid="language"]').inputValue(), "71");
  assert.equal(await s.locator('[data-testid="stdin"]').inputValue(), "shared stdin");
  step("a short link the gateway does not know says so");
  await s.goto(base + "#share=AAAAAAAAAAAA");
  await until(async () => /no such link/.test(await s.locator("body").innerText()), 20_000, "the broken-link notice");
  await ctxS.close();

  step("accounts: register, the run is the user's, sign out, a wrong password, sign in");
  const user = `ann${Date.now() % 100000}`;
  const password = "correct horse battery";
  await b.locator("summary", { hasText: "Sign in or register" }).click();
  await b.locator('input[name="username"]').fill(user);
  await b.locator('input[name="password"]').fill(password);
  await b.getByRole("button", { name: "Register" }).click();
  await b.waitForSelector('[data-testid="account-name"]');
  assert.equal(await b.locator('[data-testid="account-name"]').innerText(), user);
  await b.locator('[data-testid="language"]').selectOption("71");
  await setCode(b, 'print("from ann")\n');
  await run(b);
  await b.waitForSelector('[data-testid="history-item"]');
  const annToken = await b.locator('[data-testid="history-item"]').first().getAttribute("data-token");
  await b.getByRole("button", { name: "Sign out" }).click();
  await b.waitForSelector("text=Sign in or register");
  await until(async () => (await b.locator('[data-testid="history-item"]').count()) === 0, 20_000, "B's anonymous history");
  await b.locator("summary", { hasText: "Sign in or register" }).click();
  await b.locator('input[name="username"]').fill(user);
  await b.locator('input[name="password"]').fill("not the password");
  await b.getByRole("button", { name: "Sign in" }).click();
  await b.waitForSelector('[data-testid="account-error"]');
  assert.match(await b.locator('[data-testid="account-error"]').innerText(), /wrong username or password/i);
  await b.locator('input[name="password"]').fill(password);
  await b.getByRole("button", { name: "Sign in" }).click();
  await b.waitForSelector('[data-testid="account-name"]');
  await b.waitForSelector(`[data-testid="history-item"][data-token="${annToken}"]`);
  await b.screenshot({ path: `${ART}gateway-account.png`, fullPage: true });

  step("the history follows the user to a third browser; A still sees only its own");
  const ctxC = await browser.newContext();
  const c = await ctxC.newPage();
  await c.goto(base);
  await c.locator("summary", { hasText: "Sign in or register" }).click();
  await c.locator('input[name="username"]').fill(user);
  await c.locator('input[name="password"]').fill(password);
  await c.getByRole("button", { name: "Sign in" }).click();
  await c.waitForSelector(`[data-testid="history-item"][data-token="${annToken}"]`);
  assert.equal(await c.locator(`[data-testid="history-item"][data-token="${token}"]`).count(), 0);
  await a.reload();
  await a.waitForSelector(`[data-testid="history-item"][data-token="${token}"]`);
  assert.equal(await a.locator(`[data-testid="history-item"][data-token="${annToken}"]`).count(), 0);

  step("delete an entry: gone, and still gone after a reload");
  await a.locator(`[data-testid="history-item"][data-token="${token}"] button[aria-label^="Delete"]`).click();
  await until(async () => (await a.locator(`[data-testid="history-item"][data-token="${token}"]`).count()) === 0, 10_000, "the entry to go");
  await a.reload();
  await a.waitForSelector('[data-testid="history"]');
  await until(async () => (await a.locator('[data-testid="history"]').getByText("No runs yet.").count()) === 1, 20_000, "A's empty history");

  step("load more: 21 more runs, a first page of 20, then the rest from the cursor");
  for (let i = 0; i < 21; i++) {
    const r = await ctxA.request.post(`${base}api/submissions?base64_encoded=false&wait=false`, {
      data: { language_id: 71, source_code: `print(${i})\n` },
    });
    assert.equal(r.status(), 201, await r.text());
  }
  await a.reload();
  await a.waitForSelector('[data-testid="history-more"]');
  assert.equal(await a.locator('[data-testid="history-item"]').count(), 20);
  await a.locator('[data-testid="history-more"]').click();
  await until(async () => (await a.locator('[data-testid="history-item"]').count()) === 21, 10_000, "the second page");
  assert.equal(await a.locator('[data-testid="history-more"]').count(), 0, "nothing more to load");

  step("a session that ended is replaced, and the page says so");
  await ctxA.clearCookies();
  await a.locator('[data-testid="language"]').selectOption("71");
  await setCode(a, 'print("after")\n');
  await a.locator('[data-testid="run"]').click();
  await a.waitForSelector('[data-testid="note"]');
  assert.match(await a.locator('[data-testid="note"]').innerText(), /session .* had ended; a new one has started/);
  await until(async () => (await ctxA.cookies()).some((c) => c.name === "coderunner_session"), 10_000, "a new session cookie");
  await until(async () => (await a.locator('[data-testid="history"]').getByText("No runs yet.").count()) === 1, 20_000, "the new session's empty history");
  await run(a);
  assert.equal(await stdoutOf(a), "after\n");

  step("key mode: one server-held key, no cookie, the history in the browser");
  const made_key = spawnSync(BIN, ["gateway", "keys", "create", "--name=web-e2e", "--scope=submit,read", meta], { uid, gid, encoding: "utf8" });
  assert.equal(made_key.status, 0, made_key.stderr);
  const key = made_key.stdout.trim();
  const [keyPort, badPort] = [await freePort(), await freePort()];
  const nextEnv = { ...process.env, CODERUNNER_WEB_MODE: "server", CODERUNNER_GATEWAY_URL: `http://127.0.0.1:${gwPort}`, NEXT_TELEMETRY_DISABLED: "1" };
  const nextBin = join(WEB, "node_modules", ".bin", "next");
  const webKey = start("next-key", nextBin, ["start", "-p", String(keyPort), "-H", "127.0.0.1"], {
    cwd: WEB,
    env: { ...nextEnv, CODERUNNER_WEB_AUTH: "key", CODERUNNER_API_KEY: key },
  });
  const keyBase = `http://127.0.0.1:${keyPort}/`;
  await untilAlive(webKey, "next start (key mode)", async () => (await fetch(keyBase)).ok, 60_000);
  assert.equal((await fetch(`${keyBase}api/session`, { method: "POST" })).status, 404, "no per-browser sessions with one key");
  assert.equal((await fetch(`${keyBase}api/history`)).status, 404);
  const ctxK = await browser.newContext();
  const k = await ctxK.newPage();
  pages.push(k);
  await k.goto(keyBase);
  await k.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 20_000 });
  await k.locator('[data-testid="language"]').selectOption("71");
  await setCode(k, 'print("with the key")\n');
  await run(k);
  assert.equal(await stdoutOf(k), "with the key\n");
  await k.waitForSelector('[data-testid="history-item"]');
  assert.match(await k.locator('[data-testid="history"]').innerText(), /kept in this browser only/);
  assert.deepEqual(await ctxK.cookies(), [], "no cookie in key mode");
  assert.equal(await k.locator('[data-testid="account"]').count(), 0, "no accounts in key mode");

  step("a key without CODERUNNER_WEB_AUTH=key is refused, naming the variable");
  const webBad = start("next-bad", nextBin, ["start", "-p", String(badPort), "-H", "127.0.0.1"], { cwd: WEB, env: { ...nextEnv, CODERUNNER_API_KEY: key } });
  const badBase = `http://127.0.0.1:${badPort}/`;
  await untilAlive(webBad, "next start (misconfigured)", async () => (await fetch(badBase)).ok, 60_000);
  const refused = await fetch(`${badBase}api/languages`);
  assert.equal(refused.status, 503);
  assert.match((await refused.json()).error, /CODERUNNER_API_KEY is set but CODERUNNER_WEB_AUTH is not "key"/);

  step("what next start sends a gateway and passes back, seen by a recording one");
  const seen = [];
  const recorder = createHttpServer((req, res) => {
    seen.push(req.headers);
    res.setHeader("content-type", "application/json");
    res.setHeader("set-cookie", ["coderunner_session=abc; Path=/; HttpOnly; Domain=gw.internal", "upstream_affinity=n1; Path=/"]);
    res.setHeader("x-upstream", "n1");
    res.setHeader("ratelimit-remaining", "7");
    res.end("{}");
  });
  await new Promise((r) => recorder.listen(0, "127.0.0.1", r));
  try {
    const recPort = await freePort();
    const webRec = start("next-rec", nextBin, ["start", "-p", String(recPort), "-H", "127.0.0.1"], {
      cwd: WEB,
      env: { ...nextEnv, CODERUNNER_GATEWAY_URL: `http://127.0.0.1:${recorder.address().port}` },
    });
    const recBase = `http://127.0.0.1:${recPort}/`;
    await untilAlive(webRec, "next start (recording gateway)", async () => (await fetch(recBase)).ok, 60_000);
    const r = await fetch(`${recBase}api/session`, {
      headers: {
        cookie: "theme=dark; coderunner_session=s1",
        // A client's own claim, then what the edge proxy appended.
        "x-forwarded-for": "203.0.113.66, 198.18.0.9",
        authorization: "Bearer stolen",
        "x-auth-token": "cr_from_the_browser",
        "x-coderunner-internal": "forged",
      },
    });
    assert.equal(r.status, 200);
    const h = seen[seen.length - 1];
    assert.equal(h.cookie, "coderunner_session=s1");
    assert.equal(h["x-forwarded-for"], "198.18.0.9");
    for (const name of ["authorization", "x-auth-token", "x-coderunner-internal"]) assert.equal(h[name], undefined, name);
    assert.deepEqual(r.headers.getSetCookie(), ["coderunner_session=abc; Path=/; HttpOnly"]);
    assert.equal(r.headers.get("x-upstream"), null);
    assert.equal(r.headers.get("ratelimit-remaining"), "7");
    // Without a header of its own, the address is the connection's.
    await fetch(`${recBase}api/session`);
    assert.match(seen[seen.length - 1]["x-forwarded-for"], /^(::ffff:)?127\.0\.0\.1$/);
  } finally {
    recorder.close();
  }

  assert.deepEqual(consoleErrors, [], "no errors in the page");
  console.log(`ok: screenshots in ${ART}`);
} catch (e) {
  failed = true;
  console.error(e);
  for (const p of procs) console.error(`--- ${p.logName} (last lines)\n${logOf(p.logName).slice(-4000)}`);
  for (const [i, pg] of pages.entries()) {
    await pg.screenshot({ path: `${ART}gateway-failed-${i}.png`, fullPage: true }).catch(() => {});
    console.error(`--- page ${i}: ${await pg.locator("main").innerText().catch(() => "?")}`);
  }
} finally {
  await browser?.close();
  stopAll();
  await Promise.all(
    procs.map((p) =>
      p.exitCode === null && p.signalCode === null
        ? new Promise((resolve) => {
            const kill = setTimeout(() => {
              try {
                process.kill(-p.pid, "SIGKILL");
              } catch {
                /* gone */
              }
            }, 30_000);
            p.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
          })
        : null,
    ),
  );
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
