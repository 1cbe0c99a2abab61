// Browser tests of the IDE's layout, accessibility and errors-in-the-editor against a REAL
// `coderunner serve` (IDE_URL, as for real.mjs): axe-core finds no violation (WCAG 2.1 A and
// AA, colour contrast included) in the light and the dark theme, before and after a run;
// the split between the editor and the panes moves by keyboard (an ARIA separator) and is
// kept; a C compile error puts a gutter marker and an underline on the line gcc names,
// gone after an edit; ?embed=1 shows the editor, stdin, Run and the result only.
// Screenshots in e2e/artifacts/real-markers.png and real-embed.png.
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { axe, setCode, until } from "./helpers.mjs";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const base = process.env.IDE_URL ?? "http://127.0.0.1:2358/";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const step = (name) => console.log(`- ${name}`);
let failed = false;

async function open(ctx, url = base) {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 60_000 });
  await page.waitForSelector(".cm-content", { timeout: 60_000 });
  return page;
}
async function pick(page, re) {
  const opts = await page.locator('[data-testid="language"] option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const found = opts.find(([, t]) => re.test(t));
  assert.ok(found, `no language matching ${re}`);
  await page.locator('[data-testid="language"]').selectOption(found[0]);
}
async function run(page) {
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="verdict"], [data-testid="error"]', { timeout: 60_000 });
}

try {
  for (const scheme of ["light", "dark"]) {
    step(`${scheme}: axe-core finds nothing, on the fresh page and after a C compile error (markers in the editor)`);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await open(ctx);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), scheme === "dark");
    await axe(page, `${scheme}, fresh page (Python)`);
    await pick(page, /^C \(GCC/);
    await setCode(page, "#include <stdio.h>\n/* a comment */\nint main(void) {\n    int x = 1\n    printf(\"%d\\n\", x);\n    return 0;\n}\n");
    await run(page);
    await page.waitForSelector(".cm-lint-marker-error");
    // Out of the editor, so the cursor's line is not the one checked.
    await page.locator("#result-title").click();
    await axe(page, `${scheme}, C with a compile error shown`);
    await ctx.close();
  }

  {
    step("a C compile error: a gutter marker and an underline on the line gcc names, cleared by an edit");
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await open(ctx);
    await pick(page, /^C \(GCC/);
    await setCode(page, "#include <stdio.h>\nint main(void) {\n    int x = 1\n    printf(\"%d\\n\", x);\n    return 0;\n}\n");
    await run(page);
    assert.match(await page.locator('[data-testid="compile-output"]').innerText(), /main\.c:4:5: error/);
    await page.waitForSelector(".cm-lintRange-error");
    // gcc: "main.c:4:5: error: expected ',' or ';' before 'printf'" -> line 4, the word at column 5.
    const marked = await page.evaluate(() => {
      const range = document.querySelector(".cm-lintRange-error");
      const lines = [...document.querySelectorAll(".cm-content .cm-line")];
      return { text: range.textContent, line: lines.findIndex((l) => l.contains(range)) + 1 };
    });
    assert.deepEqual(marked, { text: "printf", line: 4 });
    // The gutter's marker sits on the same row as line number 4.
    const rows = await page.evaluate(() => {
      const marker = document.querySelector(".cm-lint-marker-error").getBoundingClientRect();
      const numbers = [...document.querySelectorAll(".cm-lineNumbers .cm-gutterElement")];
      const four = numbers.find((n) => n.textContent === "4").getBoundingClientRect();
      return { marker: marker.top + marker.height / 2, top: four.top, bottom: four.bottom };
    });
    assert.ok(rows.marker >= rows.top && rows.marker <= rows.bottom, `marker at ${rows.marker}, line 4 at ${rows.top}-${rows.bottom}`);
    await page.screenshot({ path: `${ART}real-markers.png` });
    // Hovering the marker tells the message.
    await page.locator(".cm-lint-marker-error").hover();
    await until(async () => /expected/.test(await page.locator(".cm-tooltip").first().innerText()), 5_000, "the marker's message");
    // By keyboard: Ctrl+Shift+M lists them in a panel, which Escape closes.
    await page.locator(".cm-content").focus();
    await page.keyboard.press("Control+Shift+M");
    await until(async () => /expected/.test(await page.locator(".cm-panel-lint").innerText()), 5_000, "the diagnostics panel");
    await page.keyboard.press("Escape");
    await until(async () => (await page.locator(".cm-panel-lint").count()) === 0, 5_000, "the panel closed");
    // An edit clears them (the lines may no longer be the ones gcc named).
    await page.locator(".cm-content .cm-line").nth(2).click();
    await page.keyboard.press("End");
    await page.keyboard.type(";");
    await until(async () => (await page.locator(".cm-lint-marker-error, .cm-lintRange-error").count()) === 0, 5_000, "markers cleared by an edit");
    // ...and the corrected program runs without any.
    await run(page);
    assert.match(await page.locator('[data-testid="verdict"]').innerText(), /Accepted/);
    assert.equal(await page.locator(".cm-lint-marker-error").count(), 0);
    await ctx.close();
  }

  {
    step("the split between the editor and the panes: reached by Tab, moved by keys, kept over a reload");
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await open(ctx);
    const sep = page.getByRole("separator", { name: /Resize the editor/ });
    const width = async () => (await page.locator("#editor-pane").boundingBox()).width;
    assert.equal(await sep.getAttribute("aria-valuenow"), "50");
    const before = await width();
    // Tab from the editor (not editing) goes to the separator, without touching the code.
    const code = await page.locator(".cm-content").innerText();
    await page.locator('[data-testid="language"]').focus();
    await until(async () => {
      await page.keyboard.press("Tab");
      return page.evaluate(() => document.activeElement?.getAttribute("role") === "separator");
    }, 10_000, "Tab reaching the separator");
    assert.equal(await page.locator(".cm-content").innerText(), code, "tabbing changed the code");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await sep.getAttribute("aria-valuenow"), "60");
    const wider = await width();
    assert.ok(wider > before + 60, `editor ${before}px -> ${wider}px after two steps right`);
    await page.keyboard.press("Home");
    assert.equal(await sep.getAttribute("aria-valuenow"), "25");
    assert.ok((await width()) < before - 200);
    await page.keyboard.press("End");
    assert.equal(await sep.getAttribute("aria-valuenow"), "75");
    await page.keyboard.press("ArrowLeft");
    assert.equal(await sep.getAttribute("aria-valuenow"), "70");
    await page.reload();
    await page.waitForSelector(".cm-content");
    await until(async () => (await sep.getAttribute("aria-valuenow")) === "70", 5_000, "the split kept over a reload");
    await page.keyboard.press("Enter"); // nothing focused: no change
    assert.equal(await sep.getAttribute("aria-valuenow"), "70");
    await sep.focus();
    await page.keyboard.press("Enter");
    assert.equal(await sep.getAttribute("aria-valuenow"), "50");
    // The pointer drags it too.
    const box = await sep.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 50);
    await page.mouse.down();
    await page.mouse.move(box.x - 256, box.y + 50, { steps: 4 });
    await page.mouse.up();
    const dragged = Number(await sep.getAttribute("aria-valuenow"));
    assert.ok(dragged >= 25 && dragged <= 35, `dragged to ${dragged}%`);
    await ctx.close();

    step("phone width: no separator, the panes stacked");
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await open(phone);
    assert.equal(await p.getByRole("separator").count(), 0);
    const e = await p.locator("#editor-pane").boundingBox();
    const i = await p.locator("#stdin").boundingBox();
    assert.ok(i.y > e.y + e.height - 1, "the input is below the editor");
    await phone.close();
  }

  {
    step("?embed=1: the editor, stdin, Run and the result; no history, account, share or settings");
    const ctx = await browser.newContext({ viewport: { width: 800, height: 600 } });
    // The full page first: the reader's own program, and a link to an exercise.
    const full = await open(ctx);
    await pick(full, /^Python/);
    const exercise = 'import sys\nprint("Hi, " + sys.stdin.readline().strip())\n';
    await setCode(full, exercise);
    await full.getByRole("button", { name: "Share" }).click();
    const link = await full.locator("#share-url").inputValue();
    await setCode(full, 'print("mine")\n');
    await full.close();

    const page = await open(ctx, `${base}?embed=1${new URL(link).hash}`);
    // The link's program, at once: nothing of the reader's is replaced, so nothing to ask.
    await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("Hi, "));
    for (const gone of ['button:has-text("Share")', "#theme", "text=History", "text=Settings", "footer", '[data-testid="mode-tests"]', "#args", '[data-testid="share-ask"]', '[data-testid="share-opened"]', '[data-testid="file-open"]', '[data-testid="zip-upload"]'])
      assert.equal((await page.locator(gone).count()) > 0 && (await page.locator(gone).first().isVisible()), false, `${gone} shown in embed mode`);
    await page.locator('[data-testid="stdin"]').fill("Ada");
    await run(page);
    assert.match(await page.locator('[data-testid="verdict"]').innerText(), /Accepted/);
    assert.equal(await page.locator('[data-testid="stdout"]').innerText(), "Hi, Ada\n");
    await axe(page, "embed mode");
    await page.screenshot({ path: `${ART}real-embed.png`, fullPage: true });
    // A reload shows the link's program again (the embed keeps nothing, the link stays).
    await setCode(page, "print('changed in the embed')\n");
    await page.reload();
    await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("Hi, "));
    assert.doesNotMatch(await page.locator(".cm-content").innerText(), /changed in the embed/);
    // The full page's work and history are untouched by the embed.
    const back = await open(ctx);
    await back.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes('print("mine")'));
    await back.waitForSelector('[data-testid="history"]');
    assert.equal(await back.locator('[data-testid="history-item"]').count(), 0, "the embed's run went into the page's history");
    await ctx.close();
  }
  console.log("ok");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
