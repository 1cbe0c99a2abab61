/* SPDX-License-Identifier: MIT */
/* WebSocket frames and the handshake's accept key (RFC 6455), with the SHA-1 it needs
 * (RFC 3174; used for nothing else: it is the protocol's, not a security choice). */
#include <errno.h>
#include <string.h>

#include "base/base64.h"
#include "base/macro.h"
#include "http/websocket.h"

/* ---- SHA-1 ---- */

static uint32_t rol(uint32_t x, unsigned n) {
        return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t b[64]) {
        uint32_t w[80];
        for (size_t i = 0; i < 16; i++)
                w[i] = (uint32_t) b[4 * i] << 24 | (uint32_t) b[4 * i + 1] << 16 |
                       (uint32_t) b[4 * i + 2] << 8 | b[4 * i + 3];
        for (size_t i = 16; i < 80; i++)
                w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
        for (size_t i = 0; i < 80; i++) {
                uint32_t f, k;
                if (i < 20) {
                        f = (bb & c) | (~bb & d);
                        k = 0x5A827999;
                } else if (i < 40) {
                        f = bb ^ c ^ d;
                        k = 0x6ED9EBA1;
                } else if (i < 60) {
                        f = (bb & c) | (bb & d) | (c & d);
                        k = 0x8F1BBCDC;
                } else {
                        f = bb ^ c ^ d;
                        k = 0xCA62C1D6;
                }
                uint32_t t = rol(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = rol(bb, 30);
                bb = a;
                a = t;
        }
        h[0] += a;
        h[1] += bb;
        h[2] += c;
        h[3] += d;
        h[4] += e;
}

/* SHA-1 of a short message (at most 119 bytes: two blocks with the padding). */
static int sha1_short(const uint8_t *msg, size_t len, uint8_t ret[20]) {
        uint8_t buf[128] = {};
        if (len > sizeof buf - 9)
                return -EINVAL;
        memcpy(buf, msg, len);
        buf[len] = 0x80;
        size_t total = len + 9 <= 64 ? 64 : 128;
        uint64_t bits = (uint64_t) len * 8;
        for (size_t i = 0; i < 8; i++)
                buf[total - 1 - i] = (uint8_t) (bits >> (8 * i));
        uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
        for (size_t off = 0; off < total; off += 64)
                sha1_block(h, buf + off);
        for (size_t i = 0; i < 5; i++)
                for (size_t k = 0; k < 4; k++)
                        ret[4 * i + k] = (uint8_t) (h[i] >> (24 - 8 * k));
        return 0;
}

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int ws_accept_key(const char *key, char ret[static WS_ACCEPT_LEN + 1]) {
        if (!key || strlen(key) != 24)
                return -EINVAL;
        _cleanup_free_ char *raw = NULL;
        size_t raw_len;
        if (base64_decode(key, 24, &raw, &raw_len) < 0 || raw_len != 16)
                return -EINVAL;
        uint8_t msg[24 + sizeof WS_GUID - 1], digest[20];
        memcpy(msg, key, 24);
        memcpy(msg + 24, WS_GUID, sizeof WS_GUID - 1);
        int r = sha1_short(msg, sizeof msg, digest);
        if (r < 0)
                return r;
        _cleanup_free_ char *b64 = NULL;
        size_t n;
        r = base64_encode((const char *) digest, sizeof digest, &b64, &n);
        if (r < 0)
                return r;
        if (n == WS_ACCEPT_LEN + 1 && b64[WS_ACCEPT_LEN] == '\n') /* encode64 ends lines */
                n--;
        if (n != WS_ACCEPT_LEN)
                return -EINVAL;
        memcpy(ret, b64, WS_ACCEPT_LEN);
        ret[WS_ACCEPT_LEN] = '\0';
        return 0;
}

/* ---- frames ---- */

static bool opcode_known(unsigned op) {
        return op == WS_CONTINUATION || op == WS_TEXT || op == WS_BINARY || op == WS_CLOSE ||
               op == WS_PING || op == WS_PONG;
}

/* masked: the frame must be masked (a client's) or must not be (a server's). */
static int frame_parse(uint8_t *buf, size_t len, size_t max_payload, bool masked, WsFrame *ret) {
        if (len < 2)
                return 0;
        bool fin = buf[0] & 0x80;
        unsigned op = buf[0] & 0x0F;
        if ((buf[0] & 0x70) || !opcode_known(op))
                return -EPROTO;
        if (!(buf[1] & 0x80) != !masked)
                return -EPROTO; /* a client's frames are masked, a server's are not */
        uint64_t plen = buf[1] & 0x7F;
        size_t off = 2;
        if (plen == 126) {
                if (len < 4)
                        return 0;
                plen = (uint64_t) buf[2] << 8 | buf[3];
                off = 4;
        } else if (plen == 127) {
                if (len < 10)
                        return 0;
                plen = 0;
                for (size_t i = 0; i < 8; i++)
                        plen = plen << 8 | buf[2 + i];
                if (plen >> 63)
                        return -EPROTO;
                off = 10;
        }
        if (op >= WS_CLOSE && (!fin || plen > WS_MAX_CONTROL_PAYLOAD))
                return -EPROTO;
        if (plen > max_payload)
                return -EMSGSIZE;
        size_t mlen = masked ? 4 : 0;
        if (len - off < mlen || len - off - mlen < plen)
                return 0;
        uint8_t *p = buf + off + mlen;
        if (masked)
                ws_mask(p, (size_t) plen, buf + off);
        *ret = (WsFrame){.fin = fin, .opcode = (WsOpcode) op, .payload = p, .len = (size_t) plen};
        return (int) (off + mlen + plen);
}

int ws_frame_parse(uint8_t *buf, size_t len, size_t max_payload, WsFrame *ret) {
        return frame_parse(buf, len, max_payload, true, ret);
}

int ws_server_frame_parse(uint8_t *buf, size_t len, size_t max_payload, WsFrame *ret) {
        return frame_parse(buf, len, max_payload, false, ret);
}

void ws_mask(uint8_t *payload, size_t len, const uint8_t mask[static 4]) {
        for (size_t i = 0; i < len; i++)
                payload[i] ^= mask[i & 3];
}

size_t ws_client_frame_header(
        uint8_t hdr[static WS_MAX_HEADER], WsOpcode op, uint64_t payload_len, const uint8_t mask[static 4]) {
        size_t n = ws_frame_header(hdr, op, payload_len);
        hdr[1] |= 0x80;
        memcpy(hdr + n, mask, 4);
        return n + 4;
}

size_t ws_frame_header(uint8_t hdr[static WS_MAX_HEADER], WsOpcode op, uint64_t payload_len) {
        hdr[0] = (uint8_t) (0x80 | op);
        if (payload_len < 126) {
                hdr[1] = (uint8_t) payload_len;
                return 2;
        }
        if (payload_len <= 0xFFFF) {
                hdr[1] = 126;
                hdr[2] = (uint8_t) (payload_len >> 8);
                hdr[3] = (uint8_t) payload_len;
                return 4;
        }
        hdr[1] = 127;
        for (size_t i = 0; i < 8; i++)
                hdr[2 + i] = (uint8_t) (payload_len >> (56 - 8 * i));
        return 10;
}
