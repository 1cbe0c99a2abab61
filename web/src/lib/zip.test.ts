import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { crc32, readZip, writeZip, ZipError, type ZipEntry } from "./zip";

const enc = new TextEncoder();
const LIMITS = { maxFiles: 100, maxBytes: 1 << 20 };
const entries: ZipEntry[] = [
  { name: "main.c", data: enc.encode('#include "util.h"\nint main(void) { return 0; }\n') },
  { name: "lib/ünïcode é.h", data: enc.encode("/* あ */\n") },
  { name: "run", data: enc.encode("./main\n"), mode: 0o755 },
  { name: "empty", data: new Uint8Array(0) },
  { name: "bytes.bin", data: Uint8Array.from({ length: 256 }, (_, i) => i) },
];

/** Python's zipfile on the bytes of `zip`: what it reads, after its own CRC check (testzip). */
function python(script: string, input?: Uint8Array): string {
  return execFileSync("python3", ["-c", script], { input: input ? Buffer.from(input) : undefined }).toString();
}

describe("zip", () => {
  it("computes the zip CRC-32", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("writes what Python's zipfile reads back exactly (names, bytes, modes, CRCs)", () => {
    const zip = writeZip(entries);
    const out = python(
      `import sys, zipfile, io, json, hashlib
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
assert z.testzip() is None
print(json.dumps([[i.filename, i.compress_type, i.external_attr >> 16, i.flag_bits, hashlib.sha256(z.read(i)).hexdigest(), i.date_time] for i in z.infolist()]))`,
      zip,
    );
    const got = JSON.parse(out) as [string, number, number, number, string, number[]][];
    const sha = (b: Uint8Array) => execFileSync("sha256sum", { input: Buffer.from(b) }).toString().split(" ")[0];
    expect(got.map((g) => g[0])).toEqual(entries.map((e) => e.name));
    got.forEach((g, i) => {
      expect(g[1]).toBe(0); // stored
      expect(g[2]).toBe(0o100000 | (entries[i]!.mode ?? 0o644));
      expect(g[3] & 0x800).toBe(0x800); // UTF-8 names
      expect(g[4]).toBe(sha(entries[i]!.data));
      expect(g[5]).toEqual([1980, 1, 1, 0, 0, 0]);
    });
  });

  it("makes the same bytes for the same files (the server's compile cache hashes them)", () => {
    expect(writeZip(entries)).toEqual(writeZip(entries.map((e) => ({ ...e, data: e.data.slice() }))));
    // The stored layout: local header, name, data; the end record points at the directory.
    const one = writeZip([{ name: "a", data: enc.encode("hi") }]);
    const v = new DataView(one.buffer);
    expect(v.getUint32(0, true)).toBe(0x04034b50);
    expect(v.getUint16(8, true)).toBe(0); // method: stored
    expect(v.getUint32(14, true)).toBe(crc32(enc.encode("hi")));
    expect(new TextDecoder().decode(one.subarray(30, 33))).toBe("ahi");
    expect(one.length).toBe(30 + 1 + 2 + 46 + 1 + 22);
    expect(v.getUint32(one.length - 22, true)).toBe(0x06054b50);
    expect(v.getUint32(one.length - 6, true)).toBe(33); // the directory's offset
  });

  it("reads its own zips back", async () => {
    const back = await readZip(writeZip(entries), LIMITS);
    expect(back.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    back.forEach((e, i) => expect(e.data).toEqual(entries[i]!.data));
    expect(back.find((e) => e.name === "run")!.mode).toBe(0o755);
  });

  it("reads deflated zips that Python's zipfile writes, skipping directories", async () => {
    const zip = python(
      `import sys, zipfile, io
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("dir/", "")
    z.writestr("dir/a.py", "print('a')\\n" * 1000)
    z.writestr("b.txt", "stored", compress_type=zipfile.ZIP_STORED)
    z.comment = b"a comment"
sys.stdout.write(b.getvalue().hex())`,
    );
    const back = await readZip(Uint8Array.from(Buffer.from(zip, "hex")), LIMITS);
    expect(back.map((e) => e.name)).toEqual(["dir/a.py", "b.txt"]);
    expect(new TextDecoder().decode(back[0]!.data)).toBe("print('a')\n".repeat(1000));
    expect(new TextDecoder().decode(back[1]!.data)).toBe("stored");
  });

  it("refuses what it cannot read, saying why", async () => {
    const zip = writeZip([{ name: "a.txt", data: enc.encode("hello") }]);
    await expect(readZip(enc.encode("not a zip at all, just text"), LIMITS)).rejects.toThrow(/not a zip/);
    // A flipped data byte: the CRC does not match.
    const flipped = zip.slice();
    flipped[30 + 5]! ^= 1;
    await expect(readZip(flipped, LIMITS)).rejects.toThrow(/checksum/);
    // Encrypted (flag bit 0 in the directory entry), another method, Zip64 sizes.
    const cd = zip.length - 22 - 46 - 5;
    const patch = (at: number, value: number, bytes = 2) => {
      const z = zip.slice();
      const v = new DataView(z.buffer);
      if (bytes === 2) v.setUint16(at, value, true);
      else v.setUint32(at, value, true);
      return z;
    };
    await expect(readZip(patch(cd + 8, 0x0801), LIMITS)).rejects.toThrow(/encrypted/);
    await expect(readZip(patch(cd + 10, 12), LIMITS)).rejects.toThrow(/method other than deflate \(12\)/);
    await expect(readZip(patch(cd + 24, 0xffffffff, 4), LIMITS)).rejects.toThrow(/Zip64/);
    // The directory's offset past the end.
    await expect(readZip(patch(zip.length - 6, 0x7fff, 4), LIMITS)).rejects.toThrow(/damaged/);
    // Cut short.
    await expect(readZip(zip.subarray(0, 20), LIMITS)).rejects.toThrow(ZipError);
  });

  it("stops at its bounds, even when the headers lie about sizes (a bomb)", async () => {
    const many = writeZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: enc.encode("x") })));
    await expect(readZip(many, { maxFiles: 4, maxBytes: 100 })).rejects.toThrow(/more than 4 files/);
    await expect(readZip(writeZip([{ name: "big", data: new Uint8Array(200) }]), { maxFiles: 4, maxBytes: 100 })).rejects.toThrow(/more than 100 bytes/);
    // 4 MB of zeros deflated to a few KB, its header claiming 10 bytes: inflating stops at the bound.
    const bomb = python(
      `import sys, zipfile, io, struct
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bomb", b"\\0" * (4 << 20))
data = bytearray(b.getvalue())
cd = data.rindex(b"PK\\x01\\x02")
struct.pack_into("<I", data, cd + 24, 10)
sys.stdout.write(data.hex())`,
    );
    const bytes = Uint8Array.from(Buffer.from(bomb, "hex"));
    expect(bytes.length).toBeLessThan(10_000);
    await expect(readZip(bytes, { maxFiles: 4, maxBytes: 1 << 20 })).rejects.toThrow(/more than 1048576 bytes/);
  });
});
