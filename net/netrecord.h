/*
 * net/netrecord.h - a network's record, ROOT/networks/<id>/network.json,
 * as JSON and back, and the rules for a network's name.
 *
 * Runs in: any process. PURE: no system calls; fuzz/netrecord_fuzz.c
 * reaches all of it.
 *
 * The record uses Docker's `network inspect` names where Docker has the
 * field, and moat's own for what it adds (sorted keys, compact):
 *   {"Bridge":"moat-4f2a9c01d3","Created":"2024-05-01T10:00:00.123456789Z",
 *    "Driver":"bridge","EnableDNS":true,
 *    "IPAM":{"Config":[{"Gateway":"10.89.0.1","Subnet":"10.89.0.0/24"}],
 *            "Driver":"default"},
 *    "Id":"4f2a...(64 hex)","Internal":false,"Labels":{},"Name":"web",
 *    "Options":{}}
 * Driver-specific keys: "Bridge" (driver bridge), "Parent" and
 * "MacvlanMode" (macvlan), "Cluster" and "VNI" (overlay); each is
 * required for its driver and refused for any other.
 *
 * Invariants:
 *  - input is capped at NET_RECORD_MAX before jansson sees it, and an
 *    encoded record never exceeds it, so what is written can be read;
 *  - decoding is strict: unknown or duplicate keys, missing keys, wrong
 *    types, NUL bytes, an id that is not 64 lower-case hex digits, a name
 *    net_network_name_valid refuses, an interface name Linux would refuse
 *    and a pool that net_pool_init refuses are errors, so a hand-edited
 *    record cannot smuggle in what `moat network create` refuses;
 *  - labels and options are "k=v" with non-empty, unique keys without
 *    '=', sorted by key, NULL when there are none: decode(encode(n)) == n
 *    and the encoding of a network is stable.
 */
#ifndef MOAT_NET_NETRECORD_H
#define MOAT_NET_NETRECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "net/driver.h"

#define NET_RECORD_MAX (64 * 1024)
#define NET_CLUSTER_MAX 255   /* bytes of an overlay's cluster address */
#define NET_VNI_MAX 16777215u /* VXLAN ids are 24 bits; 0 is not one */

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1..NET_NAME_MAX bytes (Docker's container
 * name rule: a name never holds '/', so it can never name a path). */
bool net_network_name_valid(const char *name);
/* A name Linux takes for an interface (dev_valid_name): 1..IFNAMSIZ-1
 * bytes, not "." or "..", no '/', ':', whitespace or control byte. */
bool net_ifname_valid(const char *name);

/* PURE: N as the record's JSON (*OUT malloc'd, *LEN its length) and back.
 * Decode fills OUT only on success (on error it is left zeroed). */
int net_network_encode(const struct net_network *n, char **out, size_t *len, struct err **err);
int net_network_decode(const char *buf, size_t len, struct net_network *out, struct err **err);
/* Frees what N owns (labels, options, cluster) and zeroes it. */
void net_network_clear(struct net_network *n);
void net_network_list_free(struct net_network *v, size_t n);
/* A deep copy of SRC into DST (zeroed first); -ENOMEM. */
int net_network_copy(struct net_network *dst, const struct net_network *src, struct err **err);

/* "bridge", "private", "vepa", "passthru"; -1 for an unknown word. */
const char *net_macvlan_mode_name(enum net_macvlan_mode m);
int net_macvlan_mode_parse(const char *s);

/* S for a message (BUF of SIZE): at most 64 bytes, non-printable bytes as
 * '?' - names and records are untrusted text. Returns BUF. */
const char *net_shown(const char *s, char *buf, size_t size);

#endif
