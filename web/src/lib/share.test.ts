import { describe, expect, it } from "vitest";
import { decodeShare, encodeShare, readShare, shareUrl, SHARE_PREFIX } from "./share";
import { encodeBase64Url } from "./base64";

describe("share links", () => {
  const p = { languageId: 71, languageName: "Python (3.11.2)", code: "print('héllo あ 🎉')\n# + / = ?&#", stdin: "1 2\n" };

  it("round-trips program, language and stdin", () => {
    expect(decodeShare(encodeShare(p))).toEqual(p);
  });

  it("is URL-safe (no +, /, = or spaces)", () => {
    const h = encodeShare(p);
    expect(h.startsWith(SHARE_PREFIX)).toBe(true);
    expect(h.slice(SHARE_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]*$/);
  });

  it("survives a round trip through a URL", () => {
    const url = shareUrl("http://localhost:2358/?x=1#old", p);
    expect(url.startsWith("http://localhost:2358/?x=1#s=")).toBe(true);
    expect(decodeShare(new URL(url).hash)).toEqual(p);
  });

  it("works without a language name or stdin", () => {
    const q = { languageId: 50, code: "int main(){}", stdin: "" };
    expect(decodeShare(encodeShare(q))).toEqual({ ...q, languageName: undefined });
  });

  it("rejects what is not a share", () => {
    expect(decodeShare("")).toBeNull();
    expect(decodeShare("#other")).toBeNull();
    expect(decodeShare("#s=!!!")).toBeNull();
    expect(decodeShare("#s=" + encodeBase64Url("not json"))).toBeNull();
    expect(decodeShare("#s=" + encodeBase64Url(JSON.stringify({ v: 2, l: 1, c: "" })))).toBeNull();
    expect(decodeShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, l: "71", c: "" })))).toBeNull();
    expect(decodeShare("#s=" + btoa("\xff\xfe"))).toBeNull();
  });

  it("carries test cases, arguments and compiler options", () => {
    const full = { ...p, tests: [{ stdin: "1 2", expected_output: "3" }], args: "-v", compilerOptions: "-O2" };
    expect(decodeShare(encodeShare(full))).toEqual(full);
  });

  it("says why a link is broken", () => {
    expect(readShare("#s=abc")).toMatchObject({ kind: "broken", reason: expect.stringMatching(/cut short or damaged/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 2, l: 1, c: "" })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/newer/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, c: "" })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/missing/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, l: 71, c: "", t: [["1", 2]] })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/test cases/) });
    expect(readShare("#other")).toEqual({ kind: "none" });
  });
});
