// Live, interactive and recovered runs in the IDE against a REAL `coderunner serve` (no
// mock): test cases reported as they finish, a program driven by typed input in the
// interactive terminal (its output shown before it ends, end of input, Stop keeping what
// was printed), Cancel of a normal run (its result still shows), and a run brought back
// after a reload and after the connection dropped. IDE_URL is the page served by
// `coderunner serve` (the static export). Debian's Chromium via playwright-core;
// screenshots in e2e/artifacts/live-*.png. No timing assertions: every wait is for a
// condition, with a deadline; the sleeping programs only keep a run going while the page
// is looked at.
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { addTests, axe, runSuite, setCode, until } from "./helpers.mjs";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const base = process.env.IDE_URL ?? "http://127.0.0.1:2358/";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const step = (name) => console.log(`- ${name}`);

const text = (page, id) => page.locator(`[data-testid="${id}"]`).innerText();
const termText = (page) => text(page, "terminal-output");

async function python(page) {
  await page.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 20_000 });
  await page.locator('[data-testid="language"]').selectOption("71");
}
async function run(page) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+Enter");
}
async function verdict(page) {
  await page.waitForSelector('[data-testid="verdict"], [data-testid="error"]', { timeout: 60_000 });
  return page.locator('[data-testid="verdict"], [data-testid="error"]').first().innerText();
}

await runSuite(browser, ART, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  await page.goto(base);
  await python(page);

  step("test cases reported as they finish: a verdict shown while the run is still Processing");
  // Each case sleeps (not measured: it only keeps the run going while the page looks; a case
  // that ends before the live stream opens is in the result only), the last one longest.
  await setCode(page, "import time\nx = input()\ntime.sleep(6 if x == '4' else 2)\nprint(x)\n");
  await addTests(page, [["1", "1"], ["2", "2"], ["3", "3"], ["4", "4"]]);
  await run(page);
  await page.waitForSelector('[data-testid^="live-test-"][data-state="done"]', { timeout: 60_000 });
  assert.equal(await page.locator('[data-testid="progress"]').getAttribute("data-status-id"), "2", "the run is still Processing");
  assert.equal(await page.locator('[data-testid="live-test-3"]').getAttribute("data-state"), "pending");
  const doneRow = page.locator('[data-testid^="live-test-"][data-state="done"]').first();
  assert.match(await doneRow.innerText(), /Test \d: .*Accepted/);
  assert.equal(await page.locator('[data-testid="connection"]').getAttribute("data-connection"), "live");
  await page.screenshot({ path: `${ART}live-tests.png`, fullPage: true });
  assert.match(await verdict(page), /Accepted/);
  await page.waitForSelector('[data-testid="tests-table"]');
  await page.locator('input[name="mode"]').first().check();

  step("interactive: the toggle by keyboard; output shown before the program ends; typed input answered");
  await setCode(page, 'print("What is your name?", flush=True)\nname = input()\nprint("hello " + name)\n');
  await page.locator('[data-testid="interactive-toggle"]').focus();
  await page.keyboard.press("Space");
  assert.equal(await page.locator('[data-testid="interactive-toggle"]').isChecked(), true);
  await run(page);
  await until(async () => (await termText(page)).includes("What is your name?"), 60_000, "the first line");
  // The program is waiting for its input: it has not ended.
  assert.equal(await page.locator('[data-testid="terminal"]').getAttribute("data-phase"), "running");
  assert.equal(await page.locator('[data-testid="terminal-exit-run"]').count(), 0);
  await until(async () => (await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))) === "terminal-input", 5_000, "focus in the terminal");
  await page.keyboard.type("Ada");
  await page.keyboard.press("Enter");
  await until(async () => (await termText(page)).includes("hello Ada"), 30_000, "the answer");
  await page.waitForSelector('[data-testid="terminal-exit-run"]', { timeout: 30_000 });
  assert.match(await text(page, "terminal-exit-run"), /finished \(exit code 0\)/);
  assert.equal(await termText(page), "What is your name?\nAda\nhello Ada\n");
  assert.equal(await page.locator('[data-testid="terminal"]').getAttribute("data-phase"), "ended");
  assert.equal(await page.locator('[data-testid="terminal-error"]').count(), 0);
  await page.screenshot({ path: `${ART}live-interactive.png`, fullPage: true });
  await axe(page, "the terminal after an interactive run");

  step("interactive: end of input (Ctrl+D) lets a program that reads to the end finish");
  await setCode(page, "import sys\nwords = sys.stdin.read().split()\nprint(len(words), 'words')\n");
  await run(page);
  await until(async () => (await page.locator('[data-testid="terminal"]').getAttribute("data-phase")) === "running", 60_000, "running");
  await page.locator('[data-testid="terminal-input"]').fill("one two");
  await page.keyboard.press("Enter");
  await page.locator('[data-testid="terminal-input"]').fill("three");
  await page.keyboard.press("Control+D");
  await until(async () => (await termText(page)).includes("3 words"), 30_000, "the count after end of input");
  assert.match(await text(page, "terminal-exit-run"), /exit code 0/);

  step("interactive: Stop keeps what was printed");
  await setCode(page, 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(0.05)\n');
  await run(page);
  await until(async () => (await termText(page)).includes("started"), 60_000, "the first line");
  await page.locator('[data-testid="terminal-stop"]').click();
  await page.waitForSelector('[data-testid="terminal-exit-run"]', { timeout: 30_000 });
  assert.match(await text(page, "terminal-exit-run"), /stopped by SIGKILL/);
  assert.equal(await termText(page), "started\n");
  await axe(page, "the terminal after Stop");

  step("interactive: arguments split as a shell would; a refused run explained in words");
  await setCode(page, "import sys\nprint(sys.argv[1:])\n");
  await page.locator("#args").fill(`"hello world" x`);
  await run(page);
  await until(async () => (await termText(page)).includes("['hello world', 'x']"), 60_000, "the arguments");
  await page.locator("#args").fill("a$b");
  await run(page);
  await page.waitForSelector('[data-testid="terminal-error"]', { timeout: 60_000 });
  assert.match(await text(page, "terminal-error"), /^The server refused the run \(args\[0\] holds one of .*\)\.$/);
  await page.locator("#args").fill("");

  step("interactive: a C program compiled, then driven");
  await page.locator('[data-testid="language"]').selectOption("50");
  await setCode(page, '#include <stdio.h>\nint main(void) { int a; printf("a?\\n"); fflush(stdout); if (scanf("%d", &a) != 1) return 1; printf("%d\\n", a * 2); return 0; }\n');
  await run(page);
  await until(async () => (await termText(page)).includes("a?"), 90_000, "the prompt after compiling");
  await page.locator('[data-testid="terminal-input"]').fill("21");
  await page.keyboard.press("Enter");
  await until(async () => (await termText(page)).includes("42"), 30_000, "the answer");
  assert.match(await text(page, "terminal-exit-compile"), /finished/);
  await python(page);
  await page.locator('[data-testid="interactive-toggle"]').uncheck();

  step("Cancel of a normal run: it goes on on the server, and its result still shows");
  await setCode(page, 'import time\ntime.sleep(3)\nprint("finished anyway")\n');
  await run(page);
  await page.waitForSelector('[data-testid="progress"] >> text=Token:', { timeout: 30_000 });
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.waitForSelector('[data-testid="detached"]');
  assert.equal(await page.locator('[data-testid="run"]').isEnabled(), true, "Run is free after Cancel");
  assert.match(await verdict(page), /Accepted/);
  assert.equal(await text(page, "stdout"), "finished anyway\n");

  step("a reload mid-run: the run is brought back and its result shown");
  await setCode(page, 'import time\ntime.sleep(4)\nprint("survived a reload")\n');
  await run(page);
  await page.waitForSelector('[data-testid="progress"] >> text=Token:', { timeout: 30_000 });
  const token = (await text(page, "progress")).match(/Token: (\S+)/)[1];
  await page.reload();
  await page.waitForSelector('[data-testid="recovered"]', { timeout: 20_000 });
  assert.match(await text(page, "progress"), new RegExp(`Token: ${token}`));
  await page.screenshot({ path: `${ART}live-recovering.png`, fullPage: true });
  await axe(page, "a run brought back after a reload");
  assert.match(await verdict(page), /Accepted/);
  assert.equal(await text(page, "stdout"), "survived a reload\n");
  // It is in History, and not brought back a second time.
  await page.waitForSelector('[data-testid="history"] >> text=Accepted', { timeout: 10_000 }).catch(() => {});
  assert.equal(await page.evaluate(() => localStorage.getItem("coderunner.pending-run.v1")), null);
  await page.reload();
  await python(page);
  assert.equal(await page.locator('[data-testid="progress"]').count(), 0);
  // The saved test cases put the page back in test-case mode: this run uses stdin.
  await page.locator('input[name="mode"]').first().check();

  step("the connection dropped mid-run: reconnecting, then the result");
  await setCode(page, 'import time\ntime.sleep(4)\nprint("survived going offline")\n');
  await run(page);
  await until(async () => (await page.locator('[data-testid="connection"]').getAttribute("data-connection")) === "live", 30_000, "following live");
  await ctx.setOffline(true);
  await until(async () => (await page.locator('[data-testid="connection"]').getAttribute("data-connection")) === "reconnecting", 30_000, "reconnecting shown");
  await page.screenshot({ path: `${ART}live-offline.png`, fullPage: true });
  await ctx.setOffline(false);
  assert.match(await verdict(page), /Accepted/);
  assert.equal(await text(page, "stdout"), "survived going offline\n");

  step("dark theme: the terminal with output, errors and input passes axe-core");
  {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
    const d = await dark.newPage();
    await d.goto(base);
    await python(d);
    await d.locator('[data-testid="interactive-toggle"]').check();
    await setCode(d, 'import sys\nprint("to stdout", flush=True)\nprint("to stderr", file=sys.stderr, flush=True)\nprint(input())\nsys.exit(2)\n');
    await run(d);
    await until(async () => (await termText(d)).includes("to stderr"), 60_000, "both streams");
    await d.locator('[data-testid="terminal-input"]').fill("typed");
    await d.keyboard.press("Enter");
    await d.waitForSelector('[data-testid="terminal-exit-run"]', { timeout: 30_000 });
    assert.match(await text(d, "terminal-exit-run"), /ended with an error \(exit code 2\)/);
    assert.equal(await d.locator('[data-testid="terminal-output"] [data-kind="stderr"]').innerText(), "to stderr\n");
    await axe(d, "the dark terminal");
    await d.screenshot({ path: `${ART}live-dark.png`, fullPage: true });
    await dark.close();
  }

  // The dropped connection logs network errors of its own; anything else is a fault.
  const unexpected = consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/.test(e));
  assert.deepEqual(unexpected, [], "console errors");
  await ctx.close();
});
