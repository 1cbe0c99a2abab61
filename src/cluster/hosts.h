/* SPDX-License-Identifier: MIT */
#pragma once

/* `coderunner cluster up --hosts`: each role on a "host" of its own, a network namespace
 * joined to the cluster's bridge, with an address in 198.18.0.0/24 and an nftables filter
 * that lets exactly the flows of cluster_flows[] through.
 *
 * Nothing is added to the machine's own network namespace: the bridge lives in a namespace
 * of its own (the "switch"), so two clusters never share a bridge, a link name or an
 * address, and the machine's firewall (and br_netfilter) never sees their traffic. The
 * namespaces are /run/netns/coderunner-ID-NAME (`ip netns` lists them; ID is the cluster's
 * random net id, kept in its state file before anything is made, so that down finds them
 * all, also after a crash). The public entry on 127.0.0.1 of the machine is a forwarder
 * (cluster_forward()) that listens there and connects from the host "entry". */

#include <stdbool.h>
#include <stddef.h>

#include "cluster/cluster.h"

#define CLUSTER_NETNS_DIR "/run/netns"
#define CLUSTER_NETNS_PREFIX "coderunner-"
#define CLUSTER_SUBNET "198.18.0.0/24"
#define CLUSTER_SWITCH "switch" /* the namespace of the bridge */
#define CLUSTER_ENTRY "entry" /* the forwarder's host: the public side */

/* A flow the filters let through: from a host of role from to a host of role to, on to's
 * port. from "public" is anyone (the entry, or a host of the operator's on the bridge). */
typedef struct ClusterFlow {
        const char *from, *to;
        int port;
} ClusterFlow;

extern const ClusterFlow cluster_flows[];
extern const size_t cluster_n_flows;

/* The port a role listens on in its host (the usual ones: the flows above), 0 for a role
 * that listens nowhere. */
int cluster_host_port(const char *role);

/* The address of the index-th (0-based) host of role: 198.18.0.1 the entry, .2 Redis, .3
 * PostgreSQL, .4 MongoDB, .11-.26 the API nodes, .31-.46 the workers, .51-.66 the gateways
 * (.100-.254 are never given: the operator's). -EINVAL for anything else. */
int cluster_host_address(const char *role, unsigned index, char *buf, size_t size);

/* buf = /run/netns/coderunner-ID-NAME; the name alone (for ip -n) when path is false. */
int cluster_netns_name(const char *id, const char *name, bool path, char *buf, size_t size);
/* The bridge's name in the switch: crbrID. */
int cluster_bridge_name(const char *id, char *buf, size_t size);

/* A fresh net id (8 hex digits) no namespace in /run/netns uses yet. */
int cluster_net_new_id(char *buf, size_t size);

/* The nftables ruleset of the host of role r among the hosts of s (every role with an
 * address, and the entry): its own table, inet coderunner, whose input and output chains
 * drop by default and accept loopback, the replies of accepted connections, and the flows
 * of cluster_flows[] that start or end at r, and answer any other TCP connection, either
 * way, with a reset. *ret is the text, the caller's to free. */
int cluster_net_rules(const ClusterState *s, const ClusterRole *r, char **ret);

/* The switch's ruleset (table bridge coderunner): the port of each host of s (named after
 * it) forwards only frames from the host's own address (IPv4 and ARP), any other port (the
 * operator's) none from the hosts' addresses (.0-.99), and nothing but IPv4 and ARP crosses
 * the bridge. So the filters' addresses mean who they say even if root in a host changes
 * its address or drops its own filter. *ret is the text, the caller's to free. */
int cluster_net_switch_rules(const ClusterState *s, char **ret);

/* The programs the network is made with. */
typedef struct ClusterNetTools {
        char ip[CLUSTER_PATH_MAX];
        char nft[CLUSTER_PATH_MAX];
} ClusterNetTools;

/* Make the switch: its namespace and the bridge in it. Commands' output to log. */
int cluster_net_make_switch(const ClusterNetTools *t, const char *id, const char *log);
/* Make the host NAME: its namespace, a veth pair from the bridge (NAME there, eth0 in the
 * host), address/24 on eth0, loopback up. */
int cluster_net_make_host(
        const ClusterNetTools *t, const char *id, const char *name, const char *address, const char *log);
/* Load the ruleset in rules_path into the host netns (a path) with nft -f. */
int cluster_net_load_rules(
        const ClusterNetTools *t, const char *netns, const char *rules_path, const char *log);

/* Take down everything of net id: SIGKILL to the processes still in its namespaces, then
 * each namespace's mount and file (its links and the bridge go with it). Absent is fine:
 * down runs it as often as it is asked. The number of namespaces removed. */
int cluster_net_destroy(const char *id);
/* Whether a namespace of net id is left. */
bool cluster_net_exists(const char *id);

/* The forwarder of the public entry: accept on listen_fd (bound in the machine's namespace)
 * and relay each connection to to_address:to_port, connected from our own namespace (the
 * entry's), a child process per connection, at most max_conns at once. Runs until SIGTERM
 * or SIGINT; 0 then, or a negative errno. */
int cluster_forward(int listen_fd, const char *to_address, int to_port, unsigned max_conns);
