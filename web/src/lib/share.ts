// Share links: everything that defines a run (program, language, stdin, test cases,
// command-line arguments, compiler options) in the URL's hash, never sent to any server.
// Format: #s=<base64url of UTF-8 JSON {"v":1,"l":id,"n":name,"c":code,"i":stdin,
// "t":[[stdin,expected],...],"a":args,"o":compiler options}>; "n", "i", "t", "a" and "o"
// may be absent (links made before they existed have only "l", "n", "c" and "i").

import { decodeBase64Url, encodeBase64Url } from "./base64";
import type { TestCase } from "./judge0";

export interface SharedProgram {
  languageId: number;
  /** The language's name when shared, to find it again if ids differ between servers. */
  languageName?: string;
  code: string;
  stdin: string;
  tests?: TestCase[];
  args?: string;
  compilerOptions?: string;
}

export const SHARE_PREFIX = "#s=";

export function encodeShare(p: SharedProgram): string {
  const payload: Record<string, unknown> = { v: 1, l: p.languageId, c: p.code, i: p.stdin };
  if (p.languageName) payload.n = p.languageName;
  if (p.tests && p.tests.length > 0) payload.t = p.tests.map((t) => [t.stdin, t.expected_output]);
  if (p.args) payload.a = p.args;
  if (p.compilerOptions) payload.o = p.compilerOptions;
  return SHARE_PREFIX + encodeBase64Url(JSON.stringify(payload));
}

/** A full link: the page's URL without its hash, plus the share hash. */
export function shareUrl(pageUrl: string, p: SharedProgram): string {
  return pageUrl.replace(/#.*$/, "") + encodeShare(p);
}

export type ShareResult = { kind: "none" } | { kind: "ok"; program: SharedProgram } | { kind: "broken"; reason: string };

/** What a hash holds: no share at all, a program, or a share link that cannot be read (and why). */
export function readShare(hash: string): ShareResult {
  if (!hash.startsWith(SHARE_PREFIX)) return { kind: "none" };
  let v: unknown;
  try {
    v = JSON.parse(decodeBase64Url(hash.slice(SHARE_PREFIX.length)));
  } catch {
    return { kind: "broken", reason: "the link is cut short or damaged (its data cannot be decoded); copy the whole link again" };
  }
  if (!v || typeof v !== "object") return { kind: "broken", reason: "the link holds no program" };
  const o = v as Record<string, unknown>;
  if (o.v !== 1) return { kind: "broken", reason: "the link was made by a newer or unknown version of the IDE" };
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
  return { kind: "ok", program: p };
}

/** The program in a hash ("#s=..."), or null if the hash is not a valid share. */
export function decodeShare(hash: string): SharedProgram | null {
  const r = readShare(hash);
  return r.kind === "ok" ? r.program : null;
}
