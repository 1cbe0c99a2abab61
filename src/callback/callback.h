/* SPDX-License-Identifier: MIT */
#pragma once

/* Callbacks (webhooks): after a submission is judged, an HTTP PUT of its JSON to the
 * submission's callback_url, as Judge0 does, from
 * one sender thread so that no worker waits on a slow receiver, through httpc/ (which
 * keeps its connection alive between callbacks).
 *
 * Beyond Judge0: no redirects; only http and https; a connection to a loopback, private,
 * link-local, multicast or otherwise non-public address is refused unless allow_private
 * (checked on the address actually connected, so DNS cannot be used to get around it);
 * retries back off (0.5 s, 1 s, 2 s...); optionally an X-Coderunner-Signature header,
 * "sha256=" and the hex HMAC-SHA256 of the body with a shared secret. As in Judge0, any HTTP
 * response counts as delivered; only transport errors are retried. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CallbackConfig {
        uint32_t max_tries; /* >= 1 */
        uint64_t timeout_usec; /* each try, connection included */
        bool allow_private;
        const char *secret; /* NULL or "" = no signature; copied */
        size_t max_pending; /* callbacks waiting to be sent; more are dropped (logged) */
} CallbackConfig;

typedef struct CallbackSender CallbackSender;

/* Start the sender thread. *ret is the caller's: callback_sender_stop(). */
int callback_sender_start(const CallbackConfig *cfg, CallbackSender **ret);
/* Send what is pending (each try still bounded), then stop and free. Accepts NULL. */
CallbackSender *callback_sender_stop(CallbackSender *s);

/* Queue a PUT of body (JSON, malloc'd: taken over whatever happens) to url (copied);
 * token is for the log. -EAGAIN when max_pending are waiting, -ENOMEM. */
int callback_send(CallbackSender *s, const char *url, const char *token, char *body);

/* Whether an address may be called back without allow_private (exposed for tests):
 * family AF_INET or AF_INET6, addr the in_addr or in6_addr. */
bool callback_address_is_public(int family, const void *addr);
