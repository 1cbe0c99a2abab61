// After `next build` (static export): write a gzip sibling NAME.gz next to every text asset
// of out/ that compresses, which `coderunner serve` sends as Content-Encoding: gzip to the
// browsers that accept it (src/http/http.c). Level 9: done once per build, read many times.
import { readdir, readFile, writeFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const TEXT = /\.(html|js|css|json|svg|txt|map)$/;
/** Below this, the gzip header and a round trip's worth of bytes are not worth it. */
const MIN_BYTES = 1024;

async function* files(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

const out = fileURLToPath(new URL("../out/", import.meta.url));
let n = 0,
  before = 0,
  after = 0;
for await (const p of files(out)) {
  if (p.endsWith(".gz")) {
    await unlink(p); // a stale sibling from an older build must never be served
    continue;
  }
  if (!TEXT.test(p)) continue;
  const body = await readFile(p);
  if (body.length < MIN_BYTES) continue;
  const gz = gzipSync(body, { level: 9 });
  if (gz.length >= body.length) continue;
  await writeFile(`${p}.gz`, gz);
  n++;
  before += body.length;
  after += gz.length;
}
console.log(`compress-export: ${n} files, ${(before / 1024).toFixed(0)} KB -> ${(after / 1024).toFixed(0)} KB gzip`);
