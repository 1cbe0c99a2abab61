/* SPDX-License-Identifier: MIT */
#pragma once

/* The network of networked runs (BoxSpec.share_net): a namespace of the slot's own with
 * egress only.
 *
 * The namespace is made once per context (on its first networked run) and reused by the
 * slot's later runs, like the empty namespace of the other runs. Inside it:
 *   - pasta (Debian's passt) is the only way out: it answers the namespace's traffic with
 *     ordinary sockets of the supervisor's namespace (user-mode networking: no veth, no
 *     routing or NAT on the host, nothing the host must forward), maps no port in either
 *     direction, and does not map the gateway's address to the host's loopback;
 *   - an nftables table decides, before a packet can reach pasta, by the first match:
 *     the supervisor host's own addresses are refused, then the operator's deny list,
 *     then the operator's allow list is let through, then the built-in deny list
 *     (loopback, private, link-local, metadata, multicast, reserved, documentation and
 *     benchmark ranges) is refused; the rest is the internet;
 *   - abstract unix sockets and the loopback are the namespace's own, so neither the
 *     host's nor another slot's are reachable. */

#include <stdbool.h>
#include <stddef.h>

typedef struct NetBox NetBox;

/* Make the namespace, load the filter, start pasta. allow and deny: NULL-terminated CIDR
 * lists of the operator (NULL = none), already checked with box_net_check_cidr(). On
 * failure errbuf says what failed. *ret owns the namespace and pasta. */
int netbox_new(const char *const *allow, const char *const *deny, NetBox **ret, char *errbuf, size_t errlen);
/* Whether pasta still runs (a namespace whose pasta died has no way out: make another). */
bool netbox_alive(const NetBox *n);
/* The namespace to setns() into; owned by the NetBox. */
int netbox_fd(const NetBox *n);
/* Kill pasta (reaped only if already gone: see net.c) and close the namespace. */
NetBox *netbox_free(NetBox *n);

/* A fresh, empty network namespace (loopback down), as an O_RDONLY fd. The calling thread
 * stays in its own namespace. */
int net_make_netns(void);

/* The nftables ruleset for the lists (exposed for the unit test). host: the supervisor's
 * own addresses, always refused. Returns the length written, or -ENOBUFS / -EINVAL. */
int net_ruleset(
        const char *const *allow, const char *const *deny, const char *const *host, char *buf, size_t size);
