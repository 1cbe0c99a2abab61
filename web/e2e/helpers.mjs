// What the browser tests share: typing into the editor, picking a language, waiting for a
// condition with a deadline, and whether an element is on screen.
import assert from "node:assert/strict";

/** Replace the editor's whole text. */
export async function setCode(page, text) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
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

/** Choose the first language whose name matches `re`; returns its id. */
export async function pick(page, re) {
  const opts = await page.locator('[data-testid="language"] option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const found = opts.find(([, t]) => re.test(t));
  assert.ok(found, `no language matching ${re}`);
  await page.locator('[data-testid="language"]').selectOption(found[0]);
  return found[0];
}
