// What the browser tests share: typing into the editor, picking a language, waiting for a
// condition with a deadline, and whether an element is on screen.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

let axeSource = null;

/** Replace the editor's whole text. */
export async function setCode(page, text) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** Switch to test-case mode and add one test case per [input, expected output] pair. */
export async function addTests(page, pairs) {
  await page.locator('[data-testid="mode-tests"]').check();
  for (let i = 0; i < pairs.length; i++) await page.locator('[data-testid="add-test"]').click();
  for (const [i, [input, expected]] of pairs.entries()) {
    await page.locator(`[data-testid="test-${i}-in"]`).fill(input);
    await page.locator(`[data-testid="test-${i}-out"]`).fill(expected);
  }
}

/** Wait for `check` to be true (a throw counts as not yet, unless the error is `fatal`), with a deadline. */
export async function until(check, ms = 10_000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      if (e?.fatal) throw e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether the top of the element (40 px of it at least) is inside the viewport. */
export async function inView(page, selector) {
  const b = await page.locator(selector).boundingBox();
  return !!b && b.y >= 0 && b.y + Math.min(b.height, 40) <= (await page.evaluate(() => window.innerHeight));
}

/** After a run at phone width: the verdict was brought into view, and Run is still on screen. */
export async function checkVerdictInView(page) {
  await until(() => inView(page, '[data-testid="verdict"]'), 10_000, "the verdict brought into view");
  if (!(await inView(page, '[data-testid="run"]'))) throw new Error("Run is off screen");
}

/** Run a browser test's body: "ok" and exit 0, or the error and exit 1; the browser closed either way. */
export async function runSuite(browser, art, body) {
  let failed = false;
  try {
    await body();
    console.log(`ok: screenshots in ${art}`);
  } catch (e) {
    failed = true;
    console.error(e);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

/** Choose the first language whose name matches `re`; returns its id. */
export async function pick(page, re) {
  const opts = await page.locator('[data-testid="language"] option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const found = opts.find(([, t]) => re.test(t));
  assert.ok(found, `no language matching ${re}`);
  await page.locator('[data-testid="language"]').selectOption(found[0]);
  return found[0];
}

/** axe-core on the whole page: WCAG 2.1 A and AA rules (contrast among them). */
export async function axe(page, what) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  // The highlighted tokens arrive with the language's mode: wait for them, so they are checked.
  await page.waitForSelector(".cm-content span[class]");
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => `${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(1).join(" ")}`).join("\n")}`);
  });
  assert.deepEqual(violations, [], `axe-core, ${what}:\n${violations.join("\n")}`);
}
