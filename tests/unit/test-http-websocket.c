/* SPDX-License-Identifier: MIT */
/* WebSocket frames and the accept key against RFC 6455's own examples, and every refusal. */
#include <errno.h>
#include <string.h>

#include "http/websocket.h"
#include "tests.h"

static void test_accept_key(void) {
        char a[WS_ACCEPT_LEN + 1];
        ASSERT_EQ(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", a), 0); /* RFC 6455, 1.3 */
        ASSERT_TRUE(strcmp(a, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
        ASSERT_EQ(ws_accept_key(NULL, a), -EINVAL);
        ASSERT_EQ(ws_accept_key("", a), -EINVAL);
        ASSERT_EQ(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", a), -EINVAL); /* 23 characters */
        ASSERT_EQ(ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!==", a), -EINVAL); /* not base64 */
        ASSERT_EQ(ws_accept_key("dGhlIHNhbXBsZSBub25jZXg=", a), -EINVAL); /* 17 bytes */
}

static void test_parse(void) {
        /* RFC 6455, 5.7: a masked "Hello". */
        uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
        WsFrame f;
        for (size_t n = 0; n < sizeof hello; n++) /* every prefix: more bytes needed */
                ASSERT_EQ(ws_frame_parse(hello, n, 100, &f), 0);
        ASSERT_EQ(ws_frame_parse(hello, sizeof hello, 100, &f), (int) sizeof hello);
        ASSERT_TRUE(f.fin && f.opcode == WS_TEXT && f.len == 5 && memcmp(f.payload, "Hello", 5) == 0);

        /* The same unmasked (the RFC's server example) is refused from a client. */
        uint8_t plain[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
        ASSERT_EQ(ws_frame_parse(plain, sizeof plain, 100, &f), -EPROTO);
        /* Reserved bits, an unknown opcode, a fragmented or long control frame. */
        uint8_t rsv[] = {0xC1, 0x80, 0, 0, 0, 0};
        ASSERT_EQ(ws_frame_parse(rsv, sizeof rsv, 100, &f), -EPROTO);
        uint8_t op3[] = {0x83, 0x80, 0, 0, 0, 0};
        ASSERT_EQ(ws_frame_parse(op3, sizeof op3, 100, &f), -EPROTO);
        uint8_t ping_frag[] = {0x09, 0x80, 0, 0, 0, 0};
        ASSERT_EQ(ws_frame_parse(ping_frag, sizeof ping_frag, 100, &f), -EPROTO);
        uint8_t ping_long[] = {0x89, 0xFE, 0x00, 0x7E};
        ASSERT_EQ(ws_frame_parse(ping_long, sizeof ping_long, 1000, &f), -EPROTO);
        /* 16- and 64-bit lengths; the ceiling; a length with its top bit set. */
        static uint8_t big[4 + 4 + 300];
        big[0] = 0x82;
        big[1] = 0xFE;
        big[2] = 0x01;
        big[3] = 0x2C; /* 300 */
        ASSERT_EQ(ws_frame_parse(big, sizeof big, 300, &f), (int) sizeof big);
        ASSERT_TRUE(f.opcode == WS_BINARY && f.len == 300);
        ASSERT_EQ(ws_frame_parse(big, sizeof big, 299, &f), -EMSGSIZE);
        uint8_t huge[] = {0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
        ASSERT_EQ(ws_frame_parse(huge, sizeof huge, 100, &f), -EPROTO);
        uint8_t wide[] = {0x81, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        ASSERT_EQ(ws_frame_parse(wide, sizeof wide, 100, &f), -EMSGSIZE);
        /* Two frames back to back: the first's length, then the second. */
        uint8_t two[] = {0x89, 0x80, 1, 2, 3, 4, 0x8A, 0x81, 0, 0, 0, 0, 'x'};
        ASSERT_EQ(ws_frame_parse(two, sizeof two, 100, &f), 6);
        ASSERT_TRUE(f.opcode == WS_PING && f.len == 0);
        ASSERT_EQ(ws_frame_parse(two + 6, sizeof two - 6, 100, &f), 7);
        ASSERT_TRUE(f.opcode == WS_PONG && f.len == 1 && f.payload[0] == 'x');
}

static void test_header(void) {
        uint8_t h[WS_MAX_HEADER];
        ASSERT_EQ(ws_frame_header(h, WS_TEXT, 5), 2u);
        ASSERT_TRUE(h[0] == 0x81 && h[1] == 5);
        ASSERT_EQ(ws_frame_header(h, WS_CLOSE, 125), 2u);
        ASSERT_TRUE(h[0] == 0x88 && h[1] == 125);
        ASSERT_EQ(ws_frame_header(h, WS_TEXT, 126), 4u);
        ASSERT_TRUE(h[1] == 126 && h[2] == 0 && h[3] == 126);
        ASSERT_EQ(ws_frame_header(h, WS_TEXT, 65535), 4u);
        ASSERT_EQ(ws_frame_header(h, WS_BINARY, 65536), 10u);
        ASSERT_TRUE(h[0] == 0x82 && h[1] == 127 && h[7] == 1 && h[8] == 0 && h[9] == 0);
}

/* The client side (the gateway's relay): masked frames out, unmasked ones in. */
static void test_client_side(void) {
        static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
        for (size_t len = 0; len < 70000; len = len * 3 + 7) {
                static uint8_t frame[WS_MAX_HEADER + 70000], payload[70000];
                for (size_t i = 0; i < len; i++)
                        payload[i] = (uint8_t) (i * 7);
                size_t h = ws_client_frame_header(frame, WS_TEXT, len, mask);
                ASSERT_EQ(h, len < 126 ? 6u : len <= 0xFFFF ? 8u : 14u);
                memcpy(frame + h, payload, len);
                ws_mask(frame + h, len, mask);
                WsFrame f;
                /* What a server reads is what was sent; a client refuses a masked frame. */
                ASSERT_EQ(ws_server_frame_parse(frame, h + len, 70000, &f), -EPROTO);
                ASSERT_EQ(ws_frame_parse(frame, h + len, 70000, &f), (int) (h + len));
                ASSERT_TRUE(f.fin && f.opcode == WS_TEXT && f.len == len &&
                            memcmp(f.payload, payload, len) == 0);
        }
        /* A server's frame: unmasked, which a server would refuse. */
        uint8_t hello[] = {0x81, 5, 'h', 'e', 'l', 'l', 'o'};
        WsFrame f;
        ASSERT_EQ(ws_server_frame_parse(hello, 6, 100, &f), 0); /* incomplete */
        ASSERT_EQ(ws_server_frame_parse(hello, sizeof hello, 4, &f), -EMSGSIZE);
        ASSERT_EQ(ws_server_frame_parse(hello, sizeof hello, 100, &f), (int) sizeof hello);
        ASSERT_TRUE(f.len == 5 && memcmp(f.payload, "hello", 5) == 0);
        ASSERT_EQ(ws_frame_parse(hello, sizeof hello, 100, &f), -EPROTO);
}

int main(void) {
        test_accept_key();
        test_parse();
        test_header();
        test_client_side();
        return 0;
}
