import { describe, expect, it } from "vitest";
import { decodeShare, encodeShare, encodeShareShortest, readShare, readShareAny, shareUrl, SHARE_MAX_CHARS, SHARE_PREFIX, SHARE_Z_PREFIX, shortShareId, shortShareUrl } from "./share";
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

  it("survives a round trip through a URL", async () => {
    const url = await shareUrl("http://localhost:2358/?x=1#old", p);
    expect(url.startsWith("http://localhost:2358/?x=1#s=")).toBe(true);
    expect(decodeShare(new URL(url).hash)).toEqual(p);
  });

  it("compresses when that is shorter: a 6 KB program makes a link well under 6 KB", async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `    total += values[${i % 17}] * ${i}  # accumulate`);
    const big = { languageId: 71, code: ["def f(values):", "    total = 0", ...lines, "    return total", ""].join("\n"), stdin: "" };
    expect(big.code.length).toBeGreaterThan(6000);
    const h = await encodeShareShortest(big);
    expect(h.startsWith(SHARE_Z_PREFIX)).toBe(true);
    expect(h.slice(SHARE_Z_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]*$/);
    expect(h.length).toBeLessThan(big.code.length / 2);
    expect(await readShareAny(h)).toEqual({ kind: "ok", program: { ...big, languageName: undefined } });
    // A tiny program stays plain, where compression would not pay.
    expect((await encodeShareShortest({ languageId: 71, code: "1", stdin: "" })).startsWith(SHARE_PREFIX)).toBe(true);
    expect(await readShareAny(encodeShare(p))).toEqual({ kind: "ok", program: p });
  });

  it("refuses a damaged or oversized compressed link", async () => {
    const h = await encodeShareShortest({ languageId: 71, code: "x = 1\n".repeat(500), stdin: "" });
    expect(await readShareAny(h.slice(0, h.length - 10))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/cut short or damaged/) });
    // A bomb: megabytes of zeros packed small.
    const zeros = new Uint8Array(SHARE_MAX_CHARS + 1024);
    const packed = new Uint8Array(await new Response(new Blob([zeros]).stream().pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer());
    const bomb = SHARE_Z_PREFIX + Buffer.from(packed).toString("base64url");
    expect(bomb.length).toBeLessThan(20_000);
    expect(await readShareAny(bomb)).toMatchObject({ kind: "broken", reason: expect.stringMatching(/unpacks to more than 4 MB/) });
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
    expect(decodeShare("#s=" + encodeBase64Url(JSON.stringify({ v: 3, l: 1, c: "" })))).toBeNull();
    expect(decodeShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, l: "71", c: "" })))).toBeNull();
    expect(decodeShare("#s=" + btoa("\xff\xfe"))).toBeNull();
  });

  it("carries test cases, arguments and compiler options", () => {
    const full = { ...p, tests: [{ stdin: "1 2", expected_output: "3" }], args: "-v", compilerOptions: "-O2" };
    expect(decodeShare(encodeShare(full))).toEqual(full);
  });

  it("says why a link is broken", () => {
    expect(readShare("#s=abc")).toMatchObject({ kind: "broken", reason: expect.stringMatching(/cut short or damaged/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 3, l: 1, c: "" })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/newer/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, c: "" })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/missing/) });
    expect(readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 1, l: 71, c: "", t: [["1", 2]] })))).toMatchObject({ kind: "broken", reason: expect.stringMatching(/test cases/) });
    expect(readShare("#other")).toEqual({ kind: "none" });
  });

  describe("with files (version 2)", () => {
    const files = [
      { name: "util.c", content: '#include "util.h"\nvoid greet(void) {}\n' },
      { name: "util.h", content: "void greet(void);\n" },
      { name: "data/blob.bin", content: "AAEC/w==", binary: true },
    ];
    const multi = { languageId: 89, languageName: "Multi-file program", code: "int main(void) { greet(); }\n", stdin: "", files, mainName: "prog.c" };

    it("round-trips the files and the main file's name, plain and compressed", async () => {
      expect(decodeShare(encodeShare(multi))).toEqual(multi);
      expect(await readShareAny(await encodeShareShortest(multi))).toEqual({ kind: "ok", program: multi });
      const payload = JSON.parse(new TextDecoder().decode(Buffer.from(encodeShare(multi).slice(SHARE_PREFIX.length), "base64url")));
      expect(payload).toMatchObject({ v: 2, m: "prog.c", f: [["util.c", files[0]!.content], ["util.h", files[1]!.content], ["data/blob.bin", "AAEC/w==", 1]] });
    });

    it("stays version 1 without files, so older pages still open it", () => {
      const payload = JSON.parse(new TextDecoder().decode(Buffer.from(encodeShare(p).slice(SHARE_PREFIX.length), "base64url")));
      expect(payload.v).toBe(1);
      expect(payload.f).toBeUndefined();
    });

    it("refuses damaged files rather than opening part of a program", () => {
      const bad = (o: unknown) => readShare("#s=" + encodeBase64Url(JSON.stringify({ v: 2, l: 89, c: "", ...(o as object) })));
      expect(bad({ f: [["../etc/passwd", "x"]] })).toMatchObject({ kind: "broken", reason: expect.stringMatching(/files are damaged/) });
      expect(bad({ f: [["a.c", 5]] })).toMatchObject({ kind: "broken", reason: expect.stringMatching(/files are damaged/) });
      expect(bad({ f: [["a.c", ""], ["a.c", ""]] })).toMatchObject({ kind: "broken", reason: expect.stringMatching(/files are damaged/) });
      expect(bad({ f: "a.c" })).toMatchObject({ kind: "broken", reason: expect.stringMatching(/files are damaged/) });
      expect(bad({ m: "/abs" })).toMatchObject({ kind: "broken", reason: expect.stringMatching(/main file name/) });
      expect(bad({ f: [["ok.c", "x"]] })).toMatchObject({ kind: "ok", program: { files: [{ name: "ok.c", content: "x" }] } });
    });
  });
  it("makes and reads short links", () => {
    expect(shortShareUrl("https://ide.example/path?x=1#z=abc", "Ab3xY9kQ2m_-")).toBe("https://ide.example/path?x=1#share=Ab3xY9kQ2m_-");
    expect(shortShareId("#share=Ab3xY9kQ2m_-")).toBe("Ab3xY9kQ2m_-");
    expect(shortShareId("#share=bad/id")).toBe("");
    expect(shortShareId("#share=")).toBe("");
    expect(shortShareId("#z=abc")).toBeNull();
  });
});
