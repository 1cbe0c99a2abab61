// End-to-end test of the IDE against a REAL `coderunner serve` (no mock): real programs are
// compiled and run. IDE_URL is the page: the static export served by `coderunner serve`
// (http://127.0.0.1:2358/), or `npm start` (cluster mode) with CODERUNNER_GATEWAY_URL
// pointing at the server. Debian's Chromium via playwright-core; screenshots in
// e2e/artifacts/real-*.png.
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { addTests, checkVerdictInView, pick, runSuite, setCode } from "./helpers.mjs";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const base = process.env.IDE_URL ?? "http://127.0.0.1:2358/";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const step = (name) => console.log(`- ${name}`);

async function runAndWait(page, key = true) {
  if (key) {
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+Enter");
  } else await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="verdict"], [data-testid="error"]', { timeout: 60_000 });
  return page.locator('[data-testid="verdict"], [data-testid="error"]').first();
}

await runSuite(browser, ART, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 20_000 });

  step("Python: type a program, Ctrl+Enter, see its output");
  await pick(page, /^Python/);
  await setCode(page, 'print("héllo from", 6 * 7)\n');
  let v = await runAndWait(page);
  assert.match(await v.innerText(), /Accepted/);
  assert.equal(await page.locator('[data-testid="stdout"]').innerText(), "héllo from 42\n");
  await page.screenshot({ path: `${ART}real-python.png`, fullPage: true });

  step("stdin");
  await page.locator('[data-testid="stdin"]').fill("Ada");
  await setCode(page, 'import sys\nprint("Hello, " + sys.stdin.readline().strip() + "!")\n');
  v = await runAndWait(page, false);
  assert.match(await v.innerText(), /Accepted/);
  assert.match(await page.locator('[data-testid="stdout"]').innerText(), /Hello, Ada!/);

  step("C: a compilation error");
  await pick(page, /^C \(GCC/);
  await setCode(page, "int main(void) { return 0 }\n");
  v = await runAndWait(page);
  assert.match(await v.innerText(), /Compilation Error/);
  assert.match(await page.locator('[data-testid="verdict-plain"]').innerText(), /Did not compile/);
  assert.match(await page.locator('[data-testid="compile-output"]').innerText(), /error/);
  await page.screenshot({ path: `${ART}real-c-compile-error.png`, fullPage: true });

  step("a time limit");
  await pick(page, /^Python/);
  await setCode(page, "while True:\n    pass\n");
  v = await runAndWait(page);
  assert.match(await v.innerText(), /Time Limit Exceeded/);
  assert.match(await page.locator('[data-testid="verdict-plain"]').innerText(), /Took too long/);

  step("an error exit, in plain words with the exit code");
  await setCode(page, "import sys\nsys.exit(3)\n");
  v = await runAndWait(page);
  assert.match(await page.locator('[data-testid="verdict-technical"]').innerText(), /NZEC/);
  assert.match(await page.locator('[data-testid="verdict-plain"]').innerText(), /ended with an error \(exit code 3\)/);

  step("two test cases, one failing");
  await setCode(page, "a, b = map(int, input().split())\nprint(a + b)\n");
  await addTests(page, [["1 2", "3"], ["2 2", "5"]]);
  v = await runAndWait(page);
  await page.waitForSelector('[data-testid="tests-table"]');
  const table = await page.locator('[data-testid="tests-table"]').innerText();
  assert.match(table, /Accepted[\s\S]*Wrong Answer/);
  await page.locator('[data-testid="tests-table"] summary').nth(1).click();
  // Wrong Answer: expected against actual, line by line.
  assert.equal(await page.locator('[data-testid="diff-1"] pre').innerText(), "- 5\n+ 4");
  await page.screenshot({ path: `${ART}real-tests.png`, fullPage: true });

  step("reload keeps the code");
  await page.waitForTimeout(200);
  await page.reload();
  await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("map(int, input().split())"));

  step("a share link restores it, at phone width; the verdict brought into view, Run on screen");
  await page.locator('input[name="mode"]').first().check();
  await page.locator('[data-testid="stdin"]').fill("4 5");
  await page.getByRole("button", { name: "Share" }).click();
  const link = await page.locator("#share-url").inputValue();
  await ctx.close();
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phone = await phoneCtx.newPage();
  await phone.goto(link);
  await phone.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("map(int, input().split())"));
  assert.equal(await phone.locator('[data-testid="stdin"]').inputValue(), "4 5");
  await phone.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached" });
  await phone.locator('[data-testid="run"]').tap();
  await phone.waitForSelector('[data-testid="verdict"]', { timeout: 60_000 });
  assert.equal(await phone.locator('[data-testid="stdout"]').innerText(), "9\n");
  // The verdict is brought into view (it is below the editor and the inputs), and Run stays on screen.
  await checkVerdictInView(phone);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await phone.screenshot({ path: `${ART}real-phone.png`, fullPage: true });
  await phoneCtx.close();
});
