// Benchmark (not a test): how long the IDE takes, on a mobile profile, until the editor is
// usable, and the size of its JavaScript. The profile: 1.6 Mbps down, 750 kbps up, 150 ms
// round trip (Chrome DevTools' network throttling), CPU slowed 4x, a 390x844 phone screen.
// "Usable": the editor's content is editable and holds the starting program, with its
// language's highlighting on (the lazily loaded mode included); "editable" (the same
// without the highlighting) is printed too.
//
//   IDE_URL=http://127.0.0.1:2358/ node e2e/bench-mobile.mjs [runs]
//
// Against `coderunner serve` (the static export and the API on one origin). Each run is a
// cold load (empty cache); a warm reload (the cache kept) is measured after each as well.
// Prints every run and the medians; also the largest JS file of out/_next/static.
import { chromium } from "playwright-core";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const base = process.env.IDE_URL ?? "http://127.0.0.1:2358/";
const runs = Number(process.argv[2] ?? 3);
const PROFILE = { latency: 150, downloadThroughput: (1.6e6 / 8) | 0, uploadThroughput: (750e3 / 8) | 0, cpu: 4 };

async function* jsFiles(dir) {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* jsFiles(p);
    else if (e.name.endsWith(".js")) yield p;
  }
}

async function largestChunk() {
  const dir = fileURLToPath(new URL("../out/_next/static/", import.meta.url));
  let best = { path: "-", size: 0 };
  for await (const p of jsFiles(dir)) {
    const { size } = await stat(p);
    if (size > best.size) best = { path: p.slice(dir.length), size };
  }
  return best;
}

/** Milliseconds from navigation start until the editor is editable and usable, and the bytes that crossed the network. */
async function load(page, cdp, reload) {
  let bytes = 0;
  const onDone = (e) => (bytes += e.encodedDataLength);
  cdp.on("Network.loadingFinished", onDone);
  if (reload) await page.reload({ waitUntil: "commit" });
  else await page.goto(base, { waitUntil: "commit" });
  // Polled inside the page every 20 ms: the times are the page's own clock.
  const [editable, ms] = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        let editable = null;
        const check = () => {
          const c = document.querySelector(".cm-content");
          if (editable === null && c && c.getAttribute("contenteditable") === "true" && c.textContent.length > 0) editable = performance.now();
          // A highlighted token: the language mode (loaded on demand) is in place.
          if (editable !== null && c?.querySelector("span[class]")) resolve([editable, performance.now()]);
          else if (performance.now() > 120_000) reject(new Error(`the editor was not usable within 120 s (editable: ${editable})`));
          else setTimeout(check, 20);
        };
        check();
      }),
  );
  cdp.off("Network.loadingFinished", onDone);
  return { ms, editable, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const cold = [],
  warm = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, ...PROFILE });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: PROFILE.cpu });
    const c = await load(page, cdp, false);
    const w = await load(page, cdp, true);
    cold.push(c);
    warm.push(w);
    console.log(
      `run ${i + 1}: cold ${(c.ms / 1000).toFixed(2)} s (editable ${(c.editable / 1000).toFixed(2)} s, ${(c.bytes / 1024).toFixed(0)} KB), ` +
        `warm ${(w.ms / 1000).toFixed(2)} s (${(w.bytes / 1024).toFixed(0)} KB)`,
    );
    await ctx.close();
  }
} finally {
  await browser.close();
}
const big = await largestChunk();
console.log(
  `mobile profile (1.6 Mbps, 150 ms RTT, CPU 4x), editor usable: cold ${(median(cold.map((r) => r.ms)) / 1000).toFixed(2)} s ` +
    `(editable ${(median(cold.map((r) => r.editable)) / 1000).toFixed(2)} s), ` +
    `warm ${(median(warm.map((r) => r.ms)) / 1000).toFixed(2)} s (medians of ${runs}); ` +
    `cold transfer ${(median(cold.map((r) => r.bytes)) / 1024).toFixed(0)} KB; largest JS chunk ${(big.size / 1024).toFixed(0)} KB (${big.path})`,
);
