// Share links: the program, its language and stdin, in the URL's hash (never sent to any
// server). Format: #s=<base64url of UTF-8 JSON {"v":1,"l":id,"n":name,"c":code,"i":stdin}>.

import { decodeBase64Url, encodeBase64Url } from "./base64";

export interface SharedProgram {
  languageId: number;
  /** The language's name when shared, to find it again if ids differ between servers. */
  languageName?: string;
  code: string;
  stdin: string;
}

export const SHARE_PREFIX = "#s=";

export function encodeShare(p: SharedProgram): string {
  const payload: Record<string, unknown> = { v: 1, l: p.languageId, c: p.code, i: p.stdin };
  if (p.languageName) payload.n = p.languageName;
  return SHARE_PREFIX + encodeBase64Url(JSON.stringify(payload));
}

/** A full link: the page's URL without its hash, plus the share hash. */
export function shareUrl(pageUrl: string, p: SharedProgram): string {
  return pageUrl.replace(/#.*$/, "") + encodeShare(p);
}

/** The program in a hash ("#s=..."), or null if the hash is not a valid share. */
export function decodeShare(hash: string): SharedProgram | null {
  if (!hash.startsWith(SHARE_PREFIX)) return null;
  try {
    const v: unknown = JSON.parse(decodeBase64Url(hash.slice(SHARE_PREFIX.length)));
    if (!v || typeof v !== "object") return null;
    const o = v as Record<string, unknown>;
    if (o.v !== 1 || typeof o.l !== "number" || !Number.isInteger(o.l) || typeof o.c !== "string") return null;
    return {
      languageId: o.l,
      languageName: typeof o.n === "string" ? o.n : undefined,
      code: o.c,
      stdin: typeof o.i === "string" ? o.i : "",
    };
  } catch {
    return null;
  }
}
