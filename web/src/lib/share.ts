// Share links: everything that defines a run (program, language, stdin, test cases,
// command-line arguments, compiler options) in the URL's hash, never sent to any server.
// Format: #s=<base64url of UTF-8 JSON {"v":1,"l":id,"n":name,"c":code,"i":stdin,
// "t":[[stdin,expected],...],"a":args,"o":compiler options}>; "n", "i", "t", "a" and "o"
// may be absent (links made before they existed have only "l", "n", "c" and "i").
// Version 2 adds the program's extra files, "f":[[name,text],...] ([name,base64,1] for a
// binary file), and "m", a multi-file program's main file name; a link is made version 2
// only when it has them, so links without files still open in an IDE that predates them.
// Links are made compressed when that is shorter: #z=<base64url of the same JSON,
// deflate-raw compressed> (6 KB of real source code: 3.1 KB of link instead of 8.3 KB).

import { base64UrlToBytes, bytesToBase64Url, decodeBase64Url, encodeBase64Url } from "./base64";
import { parseFiles, type SourceFile } from "./files";
import type { TestCase } from "./judge0";
import { readStream } from "./streams";

export interface SharedProgram {
  languageId: number;
  /** The language's name when shared, to find it again if ids differ between servers. */
  languageName?: string;
  code: string;
  stdin: string;
  tests?: TestCase[];
  args?: string;
  compilerOptions?: string;
  /** The extra files (absent: none). */
  files?: SourceFile[];
  /** A multi-file program's main file name. */
  mainName?: string;
}

export const SHARE_PREFIX = "#s=";
export const SHARE_Z_PREFIX = "#z=";
/** A short link (behind a gateway): #share=<id>, the id of the long hash kept by the gateway. */
export const SHARE_SHORT_PREFIX = "#share=";

/** The id of a short link's hash, or null when the hash is not one. */
export function shortShareId(hash: string): string | null {
  if (!hash.startsWith(SHARE_SHORT_PREFIX)) return null;
  const id = hash.slice(SHARE_SHORT_PREFIX.length);
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : "";
}

/** The short form of a full link made by shareUrl: the same page, #share=<id>. */
export function shortShareUrl(pageUrl: string, id: string): string {
  return pageUrl.replace(/#.*$/, "") + SHARE_SHORT_PREFIX + id;
}
/** A compressed link never inflates to more than this (a link is not a way to fill memory). */
export const SHARE_MAX_CHARS = 4 * 1024 * 1024;

function payloadOf(p: SharedProgram): string {
  const payload: Record<string, unknown> = { v: 1, l: p.languageId, c: p.code, i: p.stdin };
  if (p.languageName) payload.n = p.languageName;
  if (p.tests && p.tests.length > 0) payload.t = p.tests.map((t) => [t.stdin, t.expected_output]);
  if (p.args) payload.a = p.args;
  if (p.compilerOptions) payload.o = p.compilerOptions;
  if (p.files && p.files.length > 0) payload.f = p.files.map((f) => (f.binary ? [f.name, f.content, 1] : [f.name, f.content]));
  if (p.mainName) payload.m = p.mainName;
  if (payload.f || payload.m) payload.v = 2;
  return JSON.stringify(payload);
}

/** The plain form (#s=...). */
export function encodeShare(p: SharedProgram): string {
  return SHARE_PREFIX + encodeBase64Url(payloadOf(p));
}

function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, max: number): Promise<Uint8Array | null> {
  return readStream(new Blob([new Uint8Array(bytes)]).stream().pipeThrough(stream), max);
}

/** The shorter of the plain and the compressed form (plain where the browser cannot compress). */
export async function encodeShareShortest(p: SharedProgram): Promise<string> {
  const plain = encodeShare(p);
  if (typeof CompressionStream === "undefined") return plain;
  const packed = await pipe(new TextEncoder().encode(payloadOf(p)), new CompressionStream("deflate-raw"), Infinity);
  const z = packed ? SHARE_Z_PREFIX + bytesToBase64Url(packed) : plain;
  return z.length < plain.length ? z : plain;
}

/** A full link: the page's URL without its hash, plus the shortest share hash. */
export async function shareUrl(pageUrl: string, p: SharedProgram): Promise<string> {
  return pageUrl.replace(/#.*$/, "") + (await encodeShareShortest(p));
}

export type ShareResult = { kind: "none" } | { kind: "ok"; program: SharedProgram } | { kind: "broken"; reason: string };

const DAMAGED = "the link is cut short or damaged (its data cannot be decoded); copy the whole link again";

/** What a hash holds, plain or compressed: see readShare. */
export async function readShareAny(hash: string): Promise<ShareResult> {
  if (!hash.startsWith(SHARE_Z_PREFIX)) return readShare(hash);
  if (typeof DecompressionStream === "undefined") return { kind: "broken", reason: "this browser cannot open compressed links; try a current browser" };
  let text: string;
  try {
    const bytes = await pipe(base64UrlToBytes(hash.slice(SHARE_Z_PREFIX.length)), new DecompressionStream("deflate-raw"), SHARE_MAX_CHARS);
    if (!bytes) return { kind: "broken", reason: `the link unpacks to more than ${SHARE_MAX_CHARS / (1024 * 1024)} MB` };
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "broken", reason: DAMAGED };
  }
  return parsePayload(text);
}

/** What a plain hash holds: no share at all, a program, or a share link that cannot be read (and why). */
export function readShare(hash: string): ShareResult {
  if (!hash.startsWith(SHARE_PREFIX)) return { kind: "none" };
  let text: string;
  try {
    text = decodeBase64Url(hash.slice(SHARE_PREFIX.length));
  } catch {
    return { kind: "broken", reason: DAMAGED };
  }
  return parsePayload(text);
}

function parsePayload(text: string): ShareResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: "broken", reason: DAMAGED };
  }
  if (!v || typeof v !== "object") return { kind: "broken", reason: "the link holds no program" };
  const o = v as Record<string, unknown>;
  if (o.v !== 1 && o.v !== 2) return { kind: "broken", reason: "the link was made by a newer or unknown version of the IDE" };
  if (typeof o.l !== "number" || !Number.isInteger(o.l) || typeof o.c !== "string") return { kind: "broken", reason: "the link's program or language is missing" };
  const p: SharedProgram = {
    languageId: o.l,
    languageName: typeof o.n === "string" ? o.n : undefined,
    code: o.c,
    stdin: typeof o.i === "string" ? o.i : "",
  };
  if (Array.isArray(o.t)) {
    const tests = o.t.filter((t): t is [string, string] => Array.isArray(t) && typeof t[0] === "string" && typeof t[1] === "string");
    if (tests.length !== o.t.length) return { kind: "broken", reason: "the link's test cases are damaged" };
    if (tests.length > 0) p.tests = tests.map(([stdin, expected_output]) => ({ stdin, expected_output }));
  }
  if (typeof o.a === "string" && o.a) p.args = o.a;
  if (typeof o.o === "string" && o.o) p.compilerOptions = o.o;
  if (o.f !== undefined) {
    const files = Array.isArray(o.f)
      ? parseFiles(o.f.map((f: unknown) => (Array.isArray(f) ? { name: f[0], content: f[1], binary: f[2] === 1 } : null)))
      : null;
    if (!files) return { kind: "broken", reason: "the link's files are damaged" };
    if (files.length > 0) p.files = files;
  }
  if (o.m !== undefined) {
    if (typeof o.m !== "string" || !parseFiles([{ name: o.m, content: "" }])) return { kind: "broken", reason: "the link's main file name is damaged" };
    p.mainName = o.m;
  }
  return { kind: "ok", program: p };
}

/** The program in a hash ("#s=..."), or null if the hash is not a valid share. */
export function decodeShare(hash: string): SharedProgram | null {
  const r = readShare(hash);
  return r.kind === "ok" ? r.program : null;
}
