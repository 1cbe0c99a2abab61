// Browser smoke test of the static export (npm run build first), against the MOCK API in
// mock-api.mjs (canned answers, no code runs): it checks the UI's wiring, not coderunner.
// Debian's Chromium (apt-get install chromium), driven by playwright-core; no browser download.
// Screenshots go to e2e/artifacts/.
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { addTests, checkVerdictInView, runSuite, setCode, until } from "./helpers.mjs";
import { startMock } from "./mock-api.mjs";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const server = await startMock(0);
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const step = (name) => console.log(`- ${name}`);


await runSuite(browser, ART, async () => {
  for (const scheme of ["light", "dark"]) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await ctx.newPage();
    const external = [];
    const consoleErrors = [];
    // The mock has no live events: the page asks once (a 404, which the browser logs), then polls.
    const isEvents = (url) => /\/submissions\/[\w-]+\/events\?/.test(url ?? "");
    let eventsAsked = 0;
    page.on("console", (m) => {
      if (m.type() === "error" && !isEvents(m.location()?.url)) consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("response", (r) => {
      if (r.status() === 404 && isEvents(r.url())) eventsAsked++;
      else if (r.status() >= 400) consoleErrors.push(`${r.status()} ${r.url()}`);
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(base)) external.push(r.url());
    });
    await page.goto(base);
    step(`${scheme}: languages load from GET /languages`);
    await page.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached" });
    assert.equal(await page.locator('[data-testid="language"]').inputValue(), "71", "Python is the default");
    await page.waitForSelector(".cm-content");
    assert.match(await page.locator(".cm-content").innerText(), /print\(f"Hello/);

    step(`${scheme}: Ctrl+Enter runs, progress, then the verdict and panes`);
    await page.locator('[data-testid="stdin"]').fill("Ada");
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector('[data-testid="progress"]');
    await page.waitForSelector('[data-testid="verdict"]');
    assert.match(await page.locator('[data-testid="verdict"]').innerText(), /Accepted/);
    assert.match(await page.locator('[data-testid="stdout"]').innerText(), /canned output/);
    await page.screenshot({ path: `${ART}desktop-${scheme}.png`, fullPage: true });
    assert.deepEqual(external, [], "no request leaves the page's origin");
    assert.deepEqual(consoleErrors, [], "no errors in the console");
    // A second run does not ask for live events again.
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector('[data-testid="progress"]');
    await page.waitForSelector('[data-testid="verdict"]');
    assert.equal(eventsAsked, 1, "live events asked for once, then polling");
    await ctx.close();
  }

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.waitForSelector('[data-testid="language"] option[value="50"]', { state: "attached" });

  step("C: the template, then a compile error (canned)");
  await page.locator('[data-testid="language"]').selectOption("50");
  await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("#include <stdio.h>"));
  await setCode(page, "int main(void) { return 0 } // MOCK_COMPILE_ERROR\n");
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="verdict"][data-status-id="6"]');
  assert.match(await page.locator('[data-testid="compile-output"]').innerText(), /error/);

  step("422: messages by field");
  await setCode(page, "// MOCK_422\n");
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="error"]');
  const err = await page.locator('[data-testid="error"]').innerText();
  assert.match(err, /compiler_options/);
  assert.match(err, /language_id/);

  step("503: what to do");
  await setCode(page, "// MOCK_503\n");
  await page.locator('[data-testid="run"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.textContent?.includes("queue is full"));
  assert.match(await page.locator('[data-testid="error"]').innerText(), /Try again/);

  step("a result that never comes: the timeout message with the token");
  await page.locator("summary", { hasText: "Settings" }).click();
  await page.getByLabel("Give up after (s)").fill("5");
  await setCode(page, "// MOCK_NEVER\n");
  await page.locator("#stdin").click();
  await page.keyboard.press("Control+Enter"); // from outside the editor too
  await page.waitForSelector('[data-testid="progress"]');
  await page.waitForSelector('[data-testid="error"]', { timeout: 15_000 });
  assert.match(await page.locator('[data-testid="error"]').innerText(), /No result after \d+ s[\s\S]*mock-/);
  await page.getByLabel("Give up after (s)").fill("120");

  step("Vim keys can be switched on and off");
  await page.getByLabel("Vim keys").check();
  await page.waitForSelector(".cm-vim-panel, .cm-fat-cursor", { state: "attached" });
  await page.getByLabel("Vim keys").uncheck();

  step("reload keeps the code and language");
  await setCode(page, '#include <stdio.h>\nint main(void) { puts("kept"); return 0; }\n');
  await page.waitForTimeout(200);
  await page.reload();
  await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes('puts("kept")'));
  assert.equal(await page.locator('[data-testid="language"]').inputValue(), "50");

  step("API unreachable: a plain message and a retry");
  {
    const p2 = await ctx.newPage();
    await p2.route("**/languages", (route) => route.abort("connectionrefused"));
    await p2.goto(base);
    await p2.waitForSelector('[data-testid="error"]');
    assert.match(await p2.locator('[data-testid="error"]').innerText(), /cannot be reached[\s\S]*Try again/i);
    await p2.unroute("**/languages");
    await p2.getByRole("button", { name: "Try again" }).click();
    await p2.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached" });
    await p2.close();
  }

  step("Python back, two test cases, a per-test table");
  await page.locator('[data-testid="language"]').selectOption("71");
  await addTests(page, [["Ada", "Hello, Ada!"], ["Bob", "Hello, Bobby!"]]);
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="tests-table"]');
  assert.equal(await page.locator('[data-testid="tests-table"] tbody tr').count(), 2);
  assert.match(await page.locator('[data-testid="tests-table"]').innerText(), /Accepted[\s\S]*Wrong Answer/);
  await page.locator('[data-testid="tests-table"] summary').nth(1).click();
  // Wrong Answer: expected against actual, line by line.
  assert.equal(await page.locator('[data-testid="diff-1"] pre').innerText(), "- Hello, Bobby!\n+ canned wrong output");
  await page.screenshot({ path: `${ART}desktop-tests.png`, fullPage: true });

  step("a share link restores program, language and stdin in a fresh browser");
  await page.locator('input[name="mode"]').first().check();
  await page.locator('[data-testid="stdin"]').fill("shared stdin");
  await setCode(page, 'print("shared program")\n');
  await page.getByRole("button", { name: "Share" }).click();
  const link = await page.locator("#share-url").inputValue();
  assert.match(link, /#[sz]=[A-Za-z0-9_-]+$/);
  await ctx.close();
  const ctx2 = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phone = await ctx2.newPage();
  await phone.goto(link);
  await phone.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("shared program"));
  await phone.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached" });
  assert.equal(await phone.locator('[data-testid="language"]').inputValue(), "71");
  assert.equal(await phone.locator('[data-testid="stdin"]').inputValue(), "shared stdin");

  step("phone width: no horizontal scrolling, run works, the verdict brought into view, Run on screen");
  await phone.locator('[data-testid="run"]').tap();
  await phone.waitForSelector('[data-testid="verdict"]');
  // The verdict is brought into view (it is below the editor and the inputs), and Run stays on screen.
  await checkVerdictInView(phone);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await phone.screenshot({ path: `${ART}phone.png`, fullPage: true });
  await ctx2.close();

  const fresh = async () => {
    const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await c.newPage();
    await p.goto(base);
    await p.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached" });
    await p.waitForSelector(".cm-content");
    return [c, p];
  };
  const doc = (p) => p.evaluate(() => [...document.querySelectorAll(".cm-content .cm-line")].map((l) => l.textContent).join("\n"));
  const inEditor = (p) => p.evaluate(() => !!document.activeElement?.closest(".cm-editor"));
  const saved = (p, text) => p.waitForFunction((t) => (localStorage.getItem("coderunner.ide.v1") ?? "").includes(t), text);

  step("keyboard: Tab from the top of the page passes the editor without changing the code");
  {
    const [c, k] = await fresh();
    const before = await doc(k);
    let tabs = 0;
    while (!(await inEditor(k))) {
      assert.ok(++tabs < 40, "Tab never reached the editor");
      await k.keyboard.press("Tab");
    }
    assert.equal(await k.locator('[data-testid="editor-mode"]').getAttribute("data-mode"), "moving");
    assert.match(await k.locator('[data-testid="editor-mode"]').innerText(), /Tab moves on/);
    // CodeMirror marks itself focused (.cm-focused, which draws the ring) just after the focus event.
    await until(() => k.evaluate(() => getComputedStyle(document.querySelector(".cm-editor")).outlineStyle !== "none"), 5_000, "the focused editor showing a focus ring");
    await k.keyboard.press("Tab");
    assert.equal(await inEditor(k), false, "Tab moved on");
    assert.equal(await doc(k), before, "the code is unchanged");
    await k.keyboard.press("Shift+Tab");
    assert.equal(await inEditor(k), true);
    step("keyboard: Enter starts editing (inserting nothing), then Tab indents; Esc then Tab leaves");
    await k.keyboard.press("Enter");
    assert.equal(await k.locator('[data-testid="editor-mode"]').getAttribute("data-mode"), "editing");
    assert.equal(await doc(k), before, "Enter only started editing");
    await k.keyboard.press("Tab");
    assert.equal(await inEditor(k), true);
    const indented = await doc(k);
    assert.notEqual(indented, before, "Tab indents while editing");
    await k.keyboard.press("Escape");
    await k.keyboard.press("Tab");
    assert.equal(await inEditor(k), false, "Esc then Tab left the editor");
    assert.equal(await doc(k), indented);
    await k.screenshot({ path: `${ART}keyboard.png` });
    await c.close();
  }

  step("share link pasted into an open tab asks before replacing the user's code");
  {
    const [c, s] = await fresh();
    await s.locator('[data-testid="language"]').selectOption("71");
    await setCode(s, 'print("my own work")\n');
    await s.locator('[data-testid="stdin"]').fill("my input");
    await saved(s, "my own work");
    const payload = { v: 1, l: 71, n: "Python (3.11) [mock]", c: 'print("shared")\n', i: "", t: [["1", "1"]], a: "-x", o: "" };
    const hash = "#s=" + Buffer.from(JSON.stringify(payload)).toString("base64url");
    await s.evaluate((h) => (location.hash = h), hash);
    await s.waitForSelector('[data-testid="share-ask"]');
    assert.match(await doc(s), /my own work/, "nothing replaced before the user says so");
    await s.locator('[data-testid="share-keep"]').click();
    assert.equal(await s.locator('[data-testid="share-ask"]').count(), 0);
    assert.match(await doc(s), /my own work/);
    await s.evaluate((h) => (location.hash = h), hash);
    await s.locator('[data-testid="share-open"]').click();
    await s.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("shared"));
    assert.equal(await s.locator('[data-testid="test-0-in"]').inputValue(), "1", "the link's test cases");
    assert.equal(await s.locator("#args").inputValue(), "-x", "the link's arguments");
    await s.locator('[data-testid="back-to-mine"]').click();
    await s.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("my own work"));
    await s.locator('input[name="mode"]').first().check();
    assert.equal(await s.locator('[data-testid="stdin"]').inputValue(), "my input");

    step("a large program shares as a compressed link, shorter than the program, and opens");
    const bigCode = Array.from({ length: 150 }, (_, i) => `print("line ${i}", ${i} * 7)`).join("\n") + "\n";
    await setCode(s, bigCode);
    await s.getByRole("button", { name: "Share" }).click();
    const zlink = await s.locator("#share-url").inputValue();
    assert.match(zlink, /#z=[A-Za-z0-9_-]+$/);
    assert.ok(zlink.length < bigCode.length, `a ${zlink.length}-character link for ${bigCode.length} characters of code`);
    {
      const c2 = await browser.newContext();
      const t = await c2.newPage();
      await t.goto(zlink);
      await t.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("line 0"));
      await saved(t, "line 149");
      await c2.close();
    }

    step("a broken share link says so and leaves the code alone");
    await s.goto(base + "#s=eyJ2IjoxLCJsIjo3MSwiYyI6InByaW");
    await s.waitForSelector('[data-testid="share-broken"]');
    assert.match(await s.locator('[data-testid="share-broken"]').innerText(), /cannot be opened: .*cut short/);
    // The code is still the one typed last (the large program; the editor shows only part of it).
    await saved(s, "line 149");
    assert.match(await s.locator(".cm-content").innerText(), /line \d+/);
    await c.close();
  }

  step("compiler options are per language: C's -O2 is not sent with Python");
  {
    const [c, o] = await fresh();
    await o.locator('[data-testid="language"]').selectOption("50");
    await o.locator('[data-testid="copts"]').fill("-O2");
    await o.locator('[data-testid="language"]').selectOption("71");
    assert.equal(await o.locator('[data-testid="copts"]').inputValue(), "");
    await setCode(o, 'print("py")\n');
    const [req] = await Promise.all([
      o.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/submissions"),
      o.locator('[data-testid="run"]').click(),
    ]);
    assert.equal(req.postDataJSON().compiler_options, undefined);
    await o.waitForSelector('[data-testid="verdict"]');
    await o.locator('[data-testid="language"]').selectOption("50");
    assert.equal(await o.locator('[data-testid="copts"]').inputValue(), "-O2");
    await o.reload();
    await o.waitForSelector('[data-testid="language"] option[value="50"]', { state: "attached" });
    assert.equal(await o.locator('[data-testid="copts"]').inputValue(), "-O2");

    step("Executable starts with a script (a #! line) and offers Run");
    await o.locator('[data-testid="language"]').selectOption("44");
    await o.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.startsWith("#!/bin/sh"));
    assert.equal(await o.locator('[data-testid="run"]').isDisabled(), false);
    // An extra file goes as additional_files, a zip (base64), the script as source_code.
    await o.locator('[data-testid="file-new"]').click();
    await o.locator('[data-testid="file-name"]').fill("data.txt");
    await o.locator('[data-testid="file-name"]').press("Enter");
    const [exe] = await Promise.all([
      o.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/submissions"),
      o.locator('[data-testid="run"]').click(),
    ]);
    assert.match(exe.postDataJSON().additional_files, /^UEsDB/);
    assert.match(Buffer.from(exe.postDataJSON().source_code, "base64").toString(), /^#!\/bin\/sh/);
    await o.waitForSelector('[data-testid="verdict"]');
    await o.locator('[data-testid="file-delete"]').click();
    assert.deepEqual(await o.locator('[data-testid="file-tab"]').allInnerTexts(), ["a.out"], "an empty file goes without a question");

    step("verdicts in plain words, the technical name as detail");
    await o.locator('[data-testid="language"]').selectOption("71");
    for (const [marker, plain, technical] of [
      ["MOCK_SIGXFSZ", /more output than allowed/, /Runtime Error \(SIGXFSZ\)/],
      ["MOCK_MLE", /more memory than allowed/, /memory limit exceeded/],
      ["MOCK_NZEC", /ended with an error \(exit code 3\)/, /NZEC/],
    ]) {
      await setCode(o, `# ${marker}\n`);
      await o.locator('[data-testid="run"]').click();
      // Each verdict differs from the one before: waiting for it never matches the last run's
      // (the progress between them can come and go before it is looked for).
      await until(async () => plain.test(await o.locator('[data-testid="verdict-plain"]').innerText()), 10_000, `the verdict of ${marker}`);
      assert.match(await o.locator('[data-testid="verdict-technical"]').innerText(), technical);
    }
    await o.screenshot({ path: `${ART}verdict-plain.png` });

    step("history in the browser: runs listed, kept over a reload, click restores, delete");
    const items = o.locator('[data-testid="history-item"]');
    await until(async () => (await items.count()) >= 4);
    assert.match(await o.locator('[data-testid="history"]').innerText(), /kept in this browser only/);
    assert.match(await items.first().innerText(), /Python[\s\S]*Crashed|Error exit|Runtime Error \(NZEC\)/);
    await o.reload();
    await until(async () => (await items.count()) >= 4);
    const py = items.filter({ hasText: "Python" }).last();
    const pyToken = await py.getAttribute("data-token");
    await py.locator("button").first().click();
    await o.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes('print("py")'));
    await o.locator(`[data-testid="history-item"][data-token="${pyToken}"] button[aria-label^="Delete"]`).click();
    await until(async () => (await o.locator(`[data-testid="history-item"][data-token="${pyToken}"]`).count()) === 0);
    await o.reload();
    await until(async () => (await items.count()) >= 3);
    assert.equal(await o.locator(`[data-testid="history-item"][data-token="${pyToken}"]`).count(), 0);

    step("history in the browser: load more past the first 20");
    await o.evaluate(() => {
      const items = JSON.parse(localStorage.getItem("coderunner.history.v1"));
      for (let i = 0; i < 25; i++)
        items.push({ ...items[0], token: `seeded-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 25 - i)).toISOString() });
      localStorage.setItem("coderunner.history.v1", JSON.stringify(items));
    });
    await o.reload();
    await o.waitForSelector('[data-testid="history-more"]');
    const total = await o.evaluate(() => JSON.parse(localStorage.getItem("coderunner.history.v1")).length);
    assert.equal(await items.count(), 20);
    await o.locator('[data-testid="history-more"]').click();
    await until(async () => (await items.count()) === total);
    assert.equal(await o.locator('[data-testid="history-more"]').count(), 0);
    await c.close();
  }
});
