// The IDE's files against a REAL `coderunner serve` (like real.mjs; IDE_URL is the page):
// a multi-file C program from a fresh page, edited in its tabs; a Python program importing
// an extra file; Executable and Plain Text; the tabs by keyboard; zip download and upload
// (asking first, Back to previous code); opening a local file; a share link with files
// that asks before replacing the user's files. Screenshots in e2e/artifacts/files-*.png.
import { chromium } from "playwright-core";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { pick, setCode, until } from "./helpers.mjs";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
await mkdir(ART, { recursive: true });
const base = process.env.IDE_URL ?? "http://127.0.0.1:2358/";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const step = (name) => console.log(`- ${name}`);
let failed = false;

async function run(page) {
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="verdict"], [data-testid="error"]', { timeout: 60_000 });
  const v = await page.locator('[data-testid="verdict"], [data-testid="error"]').first().innerText();
  assert.match(v, /Accepted/, `${v}\n${await page.locator('[data-testid="compile-output"], [data-testid="stderr"]').allInnerTexts()}`);
  return page.locator('[data-testid="stdout"]').innerText();
}
const tabNames = (page) => page.locator('[data-testid="file-tab"]').allInnerTexts();
const tab = (page, name) => page.locator('[data-testid="file-tab"]', { hasText: new RegExp(`^${name.replace(/\./g, "\\.")}$`) });
const editorText = (page) => page.evaluate(() => [...document.querySelectorAll(".cm-line")].map((l) => l.textContent).join("\n"));
async function openTab(page, name) {
  await tab(page, name).click();
  await until(async () => (await tab(page, name).getAttribute("aria-selected")) === "true", 5000, `tab ${name} selected`);
}
async function newFile(page, name, text) {
  await page.locator('[data-testid="file-new"]').click();
  await page.locator('[data-testid="file-name"]').fill(name);
  await page.locator('[data-testid="file-name"]').press("Enter");
  await until(async () => (await tab(page, name).getAttribute("aria-selected")) === "true", 5000, `new tab ${name}`);
  await setCode(page, text);
}
/** The zip's files as Python's zipfile reads them: {name: text}. */
function unzip(path) {
  const out = execFileSync("python3", ["-c", "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))", path]);
  return JSON.parse(out.toString());
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(base);
  await page.waitForSelector('[data-testid="language"] option[value="89"]', { state: "attached", timeout: 20_000 });

  step("Multi-file program from a fresh page: main.c, util.c, util.h, compile, run; it runs");
  await pick(page, /^Multi-file program/);
  await until(async () => (await tabNames(page)).join(" ") === "main.c util.c util.h compile run", 5000, "the starting tabs");
  await page.locator('[data-testid="stdin"]').fill("Ada");
  assert.equal(await run(page), "Hello, Ada!\n");

  step("an edit in util.c is what runs");
  await openTab(page, "util.c");
  await setCode(page, '#include <stdio.h>\n#include "util.h"\n\nvoid greet(const char *name) {\n    printf("Hi there, %s!\\n", name);\n}\n');
  assert.equal(await run(page), "Hi there, Ada!\n");
  await page.screenshot({ path: `${ART}files-multi.png`, fullPage: true });

  step("a compile error in util.c is marked in util.c's tab, not in main.c's");
  const fixed = '#include <stdio.h>\n#include "util.h"\n\nvoid greet(const char *name) {\n    printf("Hi there, %s!\\n", name);\n}\n';
  await setCode(page, fixed.replace("name);", "nam);"));
  await page.locator('[data-testid="run"]').click();
  await page.waitForSelector('[data-testid="verdict"]', { timeout: 60_000 });
  assert.match(await page.locator('[data-testid="verdict"]').innerText(), /Compilation Error/);
  assert.match(await page.locator('[data-testid="compile-output"]').innerText(), /util\.c:5:/);
  await page.waitForSelector(".cm-lintRange-error");
  assert.equal(await page.locator(".cm-lintRange-error").first().innerText(), "nam");
  await openTab(page, "main.c");
  await until(async () => (await editorText(page)).includes("int main(void)"), 5000, "main.c in the editor");
  assert.equal(await page.locator(".cm-lint-marker-error, .cm-lintRange-error").count(), 0, "no markers in main.c");
  await openTab(page, "util.c");
  await page.waitForSelector(".cm-lintRange-error");
  await setCode(page, fixed);
  assert.equal(await run(page), "Hi there, Ada!\n");

  step("the tabs by keyboard: arrows move and select, one tab stop, aria roles");
  await tab(page, "util.c").focus();
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "util.h");
  assert.equal(await tab(page, "util.h").getAttribute("aria-selected"), "true");
  assert.equal(await page.locator('[role="tab"][tabindex="0"]').count(), 1);
  await until(async () => (await editorText(page)).includes("void greet(const char *name);"), 5000, "util.h in the editor");
  await page.keyboard.press("Home");
  assert.equal(await tab(page, "main.c").getAttribute("aria-selected"), "true");
  await page.keyboard.press("End");
  assert.equal(await tab(page, "run").getAttribute("aria-selected"), "true");
  const panel = await page.locator('[role="tabpanel"]').getAttribute("aria-labelledby");
  assert.equal(await page.locator(`#${panel}`).innerText(), "run");

  step("F2 renames a tab (the first one too, in a multi-file program); a taken name is refused");
  await tab(page, "main.c").focus();
  await page.keyboard.press("F2");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("util.c");
  await page.keyboard.press("Enter");
  assert.match(await page.locator('[data-testid="file-name-problem"]').innerText(), /already a file named util\.c/);
  await page.keyboard.press("Control+A");
  await page.keyboard.type("prog.c");
  await page.keyboard.press("Enter");
  await until(async () => (await tabNames(page))[0] === "prog.c", 5000, "main.c renamed");
  await openTab(page, "compile");
  await setCode(page, "gcc -std=c17 -O2 -Wall -o main prog.c util.c\n");
  assert.equal(await run(page), "Hi there, Ada!\n");
  await tab(page, "prog.c").focus();
  await page.keyboard.press("F2");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("main.c");
  await page.keyboard.press("Enter");
  await openTab(page, "compile");
  await setCode(page, "gcc -std=c17 -O2 -Wall -o main main.c util.c\n");

  step("zip download holds every file; an upload asks, replaces, and Back to previous code undoes it");
  const [dl] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="zip-download"]').click()]);
  const zipPath = `${ART}files-program.zip`;
  await dl.saveAs(zipPath);
  const files = unzip(zipPath);
  assert.deepEqual(Object.keys(files), ["main.c", "util.c", "util.h", "compile", "run"]);
  assert.match(files["util.c"], /Hi there/);
  await openTab(page, "util.c");
  await setCode(page, "this is my newer work\n");
  await page.locator('[data-testid="zip-upload-input"]').setInputFiles(zipPath);
  await page.waitForSelector('[data-testid="files-question"]');
  assert.match(await page.locator('[data-testid="files-question"]').innerText(), /holds 5 files[\s\S]*replacing util\.c/);
  await page.locator('[data-testid="files-cancel"]').click();
  await openTab(page, "util.c");
  assert.equal(await editorText(page), "this is my newer work\n");
  await page.locator('[data-testid="zip-upload-input"]').setInputFiles(zipPath);
  await page.locator('[data-testid="zip-replace"]').click();
  await openTab(page, "util.c");
  await until(async () => (await editorText(page)).includes("Hi there"), 5000, "util.c from the zip");
  assert.equal(await run(page), "Hi there, Ada!\n");
  await page.getByRole("button", { name: /Back to/ }).click();
  await openTab(page, "util.c");
  await until(async () => (await editorText(page)) === "this is my newer work\n", 5000, "my work back");
  await page.getByRole("button", { name: /Back to/ }).click();

  step("a zip from elsewhere (deflated, in a folder-less layout) adds a file after asking");
  const extraZip = `${ART}files-extra.zip`;
  execFileSync("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED); z.writestr('notes/README.txt', 'notes ' * 100); z.close()", extraZip]);
  await page.locator('[data-testid="zip-upload-input"]').setInputFiles(extraZip);
  await page.locator('[data-testid="zip-merge"]').click();
  await until(async () => (await tabNames(page)).join(" ") === "main.c util.c util.h compile run notes/README.txt", 5000, "the added file");

  step("deleting a file asks first");
  await openTab(page, "notes/README.txt");
  await page.locator('[data-testid="file-delete"]').click();
  await page.locator('[data-testid="confirm-delete"]').click();
  await until(async () => !(await tabNames(page)).includes("notes/README.txt"), 5000, "the file deleted");

  step("Python: the main file imports a helper module from an extra file");
  await pick(page, /^Python/);
  assert.deepEqual(await tabNames(page), ["script.py"]);
  await setCode(page, "import helper\nprint(helper.twice(21))\n");
  await newFile(page, "helper.py", "def twice(x):\n    return 2 * x\n");
  // A name taken by the server's main file is refused, saying why.
  await page.locator('[data-testid="file-new"]').click();
  await page.locator('[data-testid="file-name"]').fill("script.py");
  await page.locator('[data-testid="file-name"]').press("Enter");
  assert.match(await page.locator('[data-testid="file-name-problem"]').innerText(), /main file's name/);
  await page.locator('[data-testid="file-name"]').press("Escape");
  await page.locator('[data-testid="stdin"]').fill("");
  assert.equal(await run(page), "42\n");

  step("open a local file into a new tab, save a file");
  const local = `${ART}files-local.py`;
  await writeFile(local, "NAME = 'from disk'\n");
  await page.locator('[data-testid="file-open-input"]').setInputFiles(local);
  await until(async () => (await tabNames(page)).includes("files-local.py"), 5000, "the opened file's tab");
  const [saved] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="file-save"]').click()]);
  assert.equal(saved.suggestedFilename(), "files-local.py");
  await saved.saveAs(`${ART}files-saved.py`);
  assert.equal(await readFile(`${ART}files-saved.py`, "utf8"), "NAME = 'from disk'\n");
  await openTab(page, "files-local.py");
  await page.keyboard.press("Delete");
  await page.locator('[data-testid="confirm-delete"]').click();

  step("the files survive a reload");
  await page.reload();
  await page.waitForSelector('[data-testid="language"] option[value="71"]', { state: "attached", timeout: 20_000 });
  await until(async () => (await tabNames(page)).join(" ") === "script.py helper.py", 5000, "tabs after reload");

  step("a share link carries the files; opening it asks before replacing mine, and Back brings mine back");
  await page.getByRole("button", { name: "Share" }).click();
  const link = await page.locator("#share-url").inputValue();
  assert.match(link, /#[sz]=/);
  await openTab(page, "helper.py");
  await setCode(page, "def twice(x):\n    return 'mine'\n");
  const other = await ctx.newPage();
  await other.goto(link);
  await other.waitForSelector('[data-testid="share-ask"]', { timeout: 20_000 });
  assert.match(await other.locator('[data-testid="share-ask"]').innerText(), /Python .* program with 1 more file\./);
  await other.locator('[data-testid="share-keep"]').click();
  await openTab(other, "helper.py");
  await until(async () => (await editorText(other)).includes("'mine'"), 5000, "my helper kept");
  await other.goto(link);
  await other.waitForSelector('[data-testid="share-ask"]', { timeout: 20_000 });
  await other.locator('[data-testid="share-open"]').click();
  await openTab(other, "helper.py");
  await until(async () => (await editorText(other)).includes("return 2 * x"), 5000, "the shared helper");
  assert.equal(await run(other), "42\n");
  await other.locator('[data-testid="back-to-mine"]').click();
  await openTab(other, "helper.py");
  await until(async () => (await editorText(other)).includes("'mine'"), 5000, "my helper back");
  await other.screenshot({ path: `${ART}files-share.png`, fullPage: true });

  step("?embed=1 with a shared multi-file program: its tabs, no file actions, and it runs");
  {
    const embedCtx = await browser.newContext({ viewport: { width: 800, height: 700 } });
    const e = await embedCtx.newPage();
    await e.goto(base);
    await e.waitForSelector('[data-testid="language"] option[value="89"]', { state: "attached", timeout: 20_000 });
    await pick(e, /^Multi-file program/);
    await until(async () => (await tabNames(e)).length === 5, 5000, "the starting tabs");
    await e.getByRole("button", { name: "Share" }).click();
    const multiLink = await e.locator("#share-url").inputValue();
    await embedCtx.close();
    const embedCtx2 = await browser.newContext({ viewport: { width: 800, height: 700 } });
    const em = await embedCtx2.newPage();
    await em.goto(multiLink.replace("/#", "/?embed=1#"));
    await until(async () => (await tabNames(em)).join(" ") === "main.c util.c util.h compile run", 20_000, "the shared program's tabs in embed mode");
    for (const gone of ['[data-testid="file-open"]', '[data-testid="zip-download"]', '[data-testid="file-new"]', '[data-testid="file-delete"]'])
      assert.equal(await em.locator(gone).count(), 0, `${gone} in embed mode`);
    await em.locator('[data-testid="stdin"]').fill("Ada");
    assert.equal(await run(em), "Hello, Ada!\n");
    // A one-file program in embed mode shows no tab bar.
    await pick(em, /^Python/);
    await until(async () => (await em.locator('[data-testid="file-tabs"]').count()) === 0, 5000, "no tabs for one file");
    await embedCtx2.close();
  }

  step("history restores a run's files");
  await other.locator('[data-testid="history-item"] button').first().click();
  await openTab(other, "helper.py");
  await until(async () => (await editorText(other)).includes("return 2 * x"), 5000, "the run's helper from history");

  step("Executable runs a script; Plain Text prints itself");
  await pick(other, /^Executable/);
  await other.locator('[data-testid="stdin"]').fill("Ada");
  assert.equal(await run(other), "Hello, Ada!\n");
  step("Executable runs a compiled binary opened from the disk (kept executable), from its a.out script");
  const bin = `${ART}files-hello-bin`;
  execFileSync("gcc", ["-O2", "-o", bin, "-x", "c", "-"], { input: '#include <stdio.h>\nint main(int c, char **v) { printf("binary says %s\\n", c > 1 ? v[1] : "hi"); return 0; }\n' });
  await other.locator('[data-testid="file-open-input"]').setInputFiles(bin);
  await until(async () => (await tabNames(other)).includes("files-hello-bin (binary)"), 5000, "the binary's tab");
  assert.match(await other.locator('[data-testid="binary-file"]').innerText(), /binary file \(\d+ bytes\)/);
  await openTab(other, "a.out");
  await setCode(other, '#!/bin/sh\nexec ./files-hello-bin "$@"\n');
  await other.locator("#args").fill("there");
  assert.equal(await run(other), "binary says there\n");
  await other.locator("#args").fill("");
  await pick(other, /^Plain Text/);
  assert.equal(await run(other), "Hello, world!\n");

  step("a browser that refuses to keep the program says so");
  await other.evaluate(() => {
    Storage.prototype.setItem = () => {
      throw new DOMException("full", "QuotaExceededError");
    };
  });
  await setCode(other, "Too big to keep\n");
  await other.waitForSelector('[data-testid="files-unsaved"]', { timeout: 5000 });

  step("at phone width the file bar and tabs wrap, nothing wider than the screen");
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phone = await phoneCtx.newPage();
  await phone.goto(base);
  await phone.waitForSelector('[data-testid="language"] option[value="89"]', { state: "attached", timeout: 20_000 });
  await pick(phone, /^Multi-file program/);
  await until(async () => (await tabNames(phone)).length === 5, 5000, "the tabs at phone width");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await phone.screenshot({ path: `${ART}files-phone.png` });
  await phoneCtx.close();

  assert.deepEqual(errors, [], "no console errors");
  console.log(`ok: screenshots in ${ART}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
