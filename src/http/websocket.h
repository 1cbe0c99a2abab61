/* SPDX-License-Identifier: MIT */
#pragma once

/* WebSocket (RFC 6455): the opening handshake's accept key and the frames, of the server
 * side and (for a proxy, the gateway) of the client side. Pure functions over bytes (the
 * socket is the caller's): every frame is decoded as hostile input (a fuzz target covers
 * the parser). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum WsOpcode {
        WS_CONTINUATION = 0x0,
        WS_TEXT = 0x1,
        WS_BINARY = 0x2,
        WS_CLOSE = 0x8,
        WS_PING = 0x9,
        WS_PONG = 0xA,
} WsOpcode;

/* The close codes of RFC 6455 we send. */
enum {
        WS_CLOSE_NORMAL = 1000,
        WS_CLOSE_GOING_AWAY = 1001,
        WS_CLOSE_PROTOCOL_ERROR = 1002,
        WS_CLOSE_UNSUPPORTED = 1003,
        WS_CLOSE_TOO_BIG = 1009,
};

#define WS_MAX_HEADER 14 /* with a mask */
#define WS_MAX_CONTROL_PAYLOAD 125
#define WS_ACCEPT_LEN 28

typedef struct WsFrame {
        bool fin;
        WsOpcode opcode;
        uint8_t *payload; /* inside the parsed buffer, unmasked in place */
        size_t len;
} WsFrame;

/* One client frame at the start of buf[0..len). A client's frames must be masked; the
 * payload is unmasked in place. Returns the bytes the frame takes (> 0), 0 when more bytes
 * are needed, -EPROTO for a frame that breaks the protocol (not masked, reserved bits set,
 * an unknown opcode, a control frame fragmented or longer than 125 bytes, a length with its
 * top bit set), -EMSGSIZE when the payload is longer than max_payload. *ret is written
 * when > 0 is returned. */
int ws_frame_parse(uint8_t *buf, size_t len, size_t max_payload, WsFrame *ret);

/* One server frame, for a client: as ws_frame_parse(), but the frame must not be masked. */
int ws_server_frame_parse(uint8_t *buf, size_t len, size_t max_payload, WsFrame *ret);

/* XOR payload with the mask (masking and unmasking are the same). */
void ws_mask(uint8_t *payload, size_t len, const uint8_t mask[static 4]);

/* The header of a client frame (final, masked with mask: the payload is sent masked with
 * ws_mask()); returns its size (6, 8 or 14). */
size_t ws_client_frame_header(
        uint8_t hdr[static WS_MAX_HEADER], WsOpcode op, uint64_t payload_len, const uint8_t mask[static 4]);

/* The header of a server frame (final, unmasked) of payload_len bytes into hdr; returns its
 * size (2, 4 or 10). */
size_t ws_frame_header(uint8_t hdr[static WS_MAX_HEADER], WsOpcode op, uint64_t payload_len);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)),
 * NUL-terminated. -EINVAL unless key is the base64 of 16 bytes (24 characters). */
int ws_accept_key(const char *key, char ret[static WS_ACCEPT_LEN + 1]);
