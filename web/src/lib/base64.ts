// UTF-8 <-> base64, without Node's Buffer (runs in the browser).

/** Base64 of the UTF-8 bytes of text. */
export function encodeBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * Decode base64 to text. Judge0 (Ruby's Base64.encode64) puts a newline every 60
 * characters, so whitespace is ignored. Bytes that are not UTF-8 become U+FFFD: a
 * program's output is shown even when it is not text.
 */
export function decodeBase64(b64: string): string {
  return new TextDecoder("utf-8").decode(base64ToBytes(b64));
}

export function base64ToBytes(b64: string): Uint8Array {
  const clean = b64.replace(/[\s]/g, "");
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** URL-safe base64 without padding (RFC 4648 §5). */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const pad = b64.length % 4 === 0 ? "" : "=".repeat(4 - (b64.length % 4));
  return base64ToBytes(b64 + pad);
}

/** URL-safe base64 without padding, of UTF-8 text. */
export function encodeBase64Url(text: string): string {
  return bytesToBase64Url(new TextEncoder().encode(text));
}

/** The UTF-8 text in URL-safe base64; throws on anything that is not UTF-8. */
export function decodeBase64Url(s: string): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(base64UrlToBytes(s));
}
