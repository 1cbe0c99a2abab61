// Zip archives in the browser, with no dependency: a writer that stores (no compression:
// the files are small source files, and the same files always make the same bytes, which
// keeps the server's compile cache warm) and a reader for what people upload (stored or
// deflated entries, the deflate undone by the browser's DecompressionStream).
// Format: PKWARE APPNOTE.TXT 6.3.10, sections 4.3.7 (local header), 4.3.12 (central
// directory), 4.3.16 (end of central directory). No Zip64, no encryption.

import { readStream } from "./streams";

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** Unix permission bits (0o644 when absent; 0o755 for scripts). */
  mode?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, the zip one). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time of `d` (local fields, two-second steps); 1980-01-01 00:00 before 1980. */
function dosDateTime(d: Date): [number, number] {
  if (d.getFullYear() < 1980) return [(1 << 5) | 1, 0];
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  return [date, time];
}

/** Past this, a field would need Zip64, which neither side here speaks. */
const ZIP32_MAX = 0xfffffffe;

/**
 * A zip of `entries`, stored (method 0), names in UTF-8 (flag bit 11). `when` is every
 * entry's time: the default (1980-01-01) makes the bytes depend on the files alone.
 */
export function writeZip(entries: ZipEntry[], when: Date = new Date(1980, 0, 1)): Uint8Array {
  if (entries.length > 0xfffe) throw new Error("too many files for a zip without Zip64");
  const enc = new TextEncoder();
  const [date, time] = dosDateTime(when);
  const names = entries.map((e) => enc.encode(e.name));
  let size = 22;
  entries.forEach((e, i) => (size += 30 + 46 + 2 * names[i]!.length + e.data.length));
  if (size > ZIP32_MAX) throw new Error("the files are too large for a zip without Zip64");
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  const u16 = (x: number) => {
    v.setUint16(at, x, true);
    at += 2;
  };
  const u32 = (x: number) => {
    v.setUint32(at, x >>> 0, true);
    at += 4;
  };
  const bytes = (b: Uint8Array) => {
    out.set(b, at);
    at += b.length;
  };
  const offsets: number[] = [];
  const crcs = entries.map((e) => crc32(e.data));
  /** What the local header and the directory entry both say, from "version needed" to the name's length. */
  const common = (i: number) => {
    u16(10); // version needed: 1.0, stored
    u16(0x0800); // UTF-8 names
    u16(0); // stored
    u16(time);
    u16(date);
    u32(crcs[i]!);
    u32(entries[i]!.data.length);
    u32(entries[i]!.data.length);
    u16(names[i]!.length);
  };
  entries.forEach((e, i) => {
    offsets.push(at);
    u32(0x04034b50);
    common(i);
    u16(0); // extra
    bytes(names[i]!);
    bytes(e.data);
  });
  const cdStart = at;
  entries.forEach((e, i) => {
    u32(0x02014b50);
    u16((3 << 8) | 20); // made by: Unix, 2.0 (so the mode below is read)
    common(i);
    u16(0); // extra
    u16(0); // comment
    u16(0); // disk
    u16(0); // internal attributes
    u32(((0o100000 | (e.mode ?? 0o644)) << 16) >>> 0); // external: a regular file and its mode
    u32(offsets[i]!);
    bytes(names[i]!);
  });
  const cdSize = at - cdStart;
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(entries.length);
  u16(entries.length);
  u32(cdSize);
  u32(cdStart);
  u16(0);
  return out;
}

export interface ReadZipLimits {
  /** At most this many files (directories are not counted)... */
  maxFiles: number;
  /** ...holding at most this many bytes in all, once unpacked. */
  maxBytes: number;
}

/** A zip that cannot be read here, with the reason in plain words. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipError";
  }
}

async function inflate(data: Uint8Array, max: number): Promise<Uint8Array | null> {
  if (typeof DecompressionStream === "undefined") throw new ZipError("this browser cannot unpack compressed zips; try a current browser");
  const stream = new Blob([new Uint8Array(data)]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return readStream(stream, max);
}

/**
 * The files of a zip, in the order of its central directory; directories are left out.
 * Stored and deflated entries are read; anything else (encrypted entries, Zip64, other
 * methods, a damaged archive, a CRC that does not match, more than `limits`) is a ZipError.
 */
export async function readZip(zip: Uint8Array, limits: ReadZipLimits): Promise<ZipEntry[]> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const damaged = (what: string) => new ZipError(`the zip is damaged (${what})`);
  // The end record is the last 22 bytes, or before a comment of up to 65535 bytes.
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--)
    if (v.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) throw new ZipError("this is not a zip file");
  const count = v.getUint16(end + 10, true);
  const cdSize = v.getUint32(end + 12, true);
  let at = v.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError("Zip64 archives are not supported");
  if (at + cdSize > end) throw damaged("its directory is out of bounds");
  const dec = new TextDecoder("utf-8");
  const out: ZipEntry[] = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > end || v.getUint32(at, true) !== 0x02014b50) throw damaged("a directory entry is missing");
    const flags = v.getUint16(at + 8, true);
    const method = v.getUint16(at + 10, true);
    const crc = v.getUint32(at + 16, true);
    const csize = v.getUint32(at + 20, true);
    const usize = v.getUint32(at + 24, true);
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const madeBy = v.getUint16(at + 4, true) >> 8;
    const external = v.getUint32(at + 38, true);
    const local = v.getUint32(at + 42, true);
    if (at + 46 + nameLen > end) throw damaged("a name is out of bounds");
    const name = dec.decode(zip.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith("/")) continue;
    if (flags & 1) throw new ZipError(`${name} is encrypted`);
    if (csize === 0xffffffff || usize === 0xffffffff || local === 0xffffffff) throw new ZipError("Zip64 archives are not supported");
    if (method !== 0 && method !== 8) throw new ZipError(`${name} is compressed with a method other than deflate (${method})`);
    if (out.length >= limits.maxFiles) throw new ZipError(`the zip holds more than ${limits.maxFiles} files`);
    if (total + usize > limits.maxBytes) throw new ZipError(`the zip unpacks to more than ${limits.maxBytes} bytes`);
    if (local + 30 > zip.length || v.getUint32(local, true) !== 0x04034b50) throw damaged(`${name}'s header is missing`);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + csize > zip.length) throw damaged(`${name} is cut short`);
    const raw = zip.subarray(start, start + csize);
    let data: Uint8Array | null;
    try {
      data = method === 0 ? raw.slice() : await inflate(raw, limits.maxBytes - total);
    } catch (e) {
      if (e instanceof ZipError) throw e;
      throw damaged(`${name} cannot be unpacked`);
    }
    if (!data) throw new ZipError(`the zip unpacks to more than ${limits.maxBytes} bytes`);
    if (data.length !== usize || crc32(data) !== crc) throw damaged(`${name}'s checksum does not match`);
    total += data.length;
    const mode = madeBy === 3 ? (external >>> 16) & 0o777 : undefined;
    out.push(mode ? { name, data, mode } : { name, data });
  }
  return out;
}
