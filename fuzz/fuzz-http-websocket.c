/* SPDX-License-Identifier: MIT */
/* Fuzz target for the WebSocket frame parser (src/http/websocket.c): a client's frames come
 * from anyone who can reach /api/v2/connect. The input is a byte stream parsed frame after
 * frame as a session does, with a small payload ceiling so that -EMSGSIZE is reached too:
 *   - a frame never claims more bytes than there are, nor a payload outside them;
 *   - its payload is at most the ceiling, a control frame's at most 125 bytes and final;
 *   - parsing the same bytes again (masked again) gives the same frame;
 *   - the same bytes read as a server's frames (the gateway's relay reads an API node's):
 *     the same bounds, and the payload is the bytes as they came (nothing unmasked);
 *   - ws_accept_key() on the input as a key never overruns and gives 28 characters. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/websocket.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

#define MAX_PAYLOAD 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *buf = malloc(size ? size : 1), *again = malloc(size ? size : 1);
        CHECK(buf && again);
        memcpy(buf, data, size);
        memcpy(again, data, size);
        size_t off = 0;
        for (;;) {
                WsFrame f;
                int n = ws_frame_parse(buf + off, size - off, MAX_PAYLOAD, &f);
                CHECK(n == 0 || n == -EPROTO || n == -EMSGSIZE || n > 0);
                if (n <= 0)
                        break;
                CHECK((size_t) n <= size - off);
                CHECK(f.payload >= buf + off && f.payload + f.len == buf + off + n);
                CHECK(f.len <= MAX_PAYLOAD);
                CHECK(f.opcode < WS_CLOSE || (f.fin && f.len <= WS_MAX_CONTROL_PAYLOAD));
                WsFrame g;
                CHECK(ws_frame_parse(again + off, size - off, MAX_PAYLOAD, &g) == n);
                CHECK(g.len == f.len && g.opcode == f.opcode && g.fin == f.fin &&
                        memcmp(g.payload, f.payload, f.len) == 0);
                off += (size_t) n;
        }
        memcpy(buf, data, size);
        for (off = 0;;) {
                WsFrame f;
                int n = ws_server_frame_parse(buf + off, size - off, MAX_PAYLOAD, &f);
                CHECK(n == 0 || n == -EPROTO || n == -EMSGSIZE || n > 0);
                if (n <= 0)
                        break;
                CHECK((size_t) n <= size - off);
                CHECK(f.payload >= buf + off && f.payload + f.len == buf + off + n);
                CHECK(f.len <= MAX_PAYLOAD && memcmp(f.payload, data + (f.payload - buf), f.len) == 0);
                CHECK(f.opcode < WS_CLOSE || (f.fin && f.len <= WS_MAX_CONTROL_PAYLOAD));
                off += (size_t) n;
        }
        char key[32], accept[WS_ACCEPT_LEN + 1];
        size_t k = size < sizeof key - 1 ? size : sizeof key - 1;
        memcpy(key, data, k);
        key[k] = '\0';
        if (ws_accept_key(key, accept) == 0)
                CHECK(strlen(accept) == WS_ACCEPT_LEN);
        free(buf);
        free(again);
        return 0;
}
