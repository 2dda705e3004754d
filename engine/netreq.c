/*
 * engine/netreq.c - a container's network request: checks, normalisation,
 * and its part of the container record. See engine/netreq.h.
 *
 * Runs in: the moat process. PURE (the warning for -p with --network host
 * goes to stderr).
 */
#include "engine/netreq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "net/cidr.h"
#include "net/portspec.h"

void engine_netreq_free(struct engine_netreq *q)
{
	free(q->network_id);
	free(q->ip);
	strvfree(q->aliases);
	strvfree(q->dns);
	strvfree(q->dns_search);
	strvfree(q->dns_options);
	strvfree(q->add_hosts);
	strvfree(q->publish);
	memset(q, 0, sizeof(*q));
}

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int strv_dup(char *const *v, char ***out)
{
	size_t n = count(v);

	*out = NULL;
	if (!v)
		return 0;
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!((*out)[i] = strdup(v[i])))
			return -ENOMEM;
	return 0;
}

int engine_netreq_dup(const struct engine_netreq *q, struct engine_netreq *out, struct err **err)
{
	memset(out, 0, sizeof(*out));
	out->publish_all = q->publish_all;
	if ((q->network_id && !(out->network_id = strdup(q->network_id))) ||
	    (q->ip && !(out->ip = strdup(q->ip))) || strv_dup(q->aliases, &out->aliases) < 0 ||
	    strv_dup(q->dns, &out->dns) < 0 || strv_dup(q->dns_search, &out->dns_search) < 0 ||
	    strv_dup(q->dns_options, &out->dns_options) < 0 ||
	    strv_dup(q->add_hosts, &out->add_hosts) < 0 ||
	    strv_dup(q->publish, &out->publish) < 0) {
		engine_netreq_free(out);
		return err_errno(err, ENOMEM, "network settings");
	}
	return 0;
}

/* A DNS name as Docker takes it for aliases and --add-host: labels of
 * [A-Za-z0-9_-], dots between, at most 253 characters. */
static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (!len || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* Replaces *S by the canonical text of the address it holds. */
static int canon_addr(char **s, const char *what, struct err **err)
{
	struct net_addr a;
	char buf[NET_ADDR_TEXT_MAX];
	char *c;

	if (net_addr_parse(*s, &a, NULL) < 0)
		return err_set(err, EINVAL, "invalid %s \"%s\": not an IP address", what, *s);
	net_addr_format(&a, buf);
	if (!(c = strdup(buf)))
		return err_errno(err, ENOMEM, "%s", what);
	free(*s);
	*s = c;
	return 0;
}

static int check_lists(const struct engine_netreq *q, struct err **err)
{
	char **const lists[] = {q->aliases,	q->dns,	      q->dns_search,
				q->dns_options, q->add_hosts, q->publish};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (count(lists[i]) > ENGINE_NETREQ_MAX_ITEMS)
			return err_set(err, E2BIG, "more than %d network settings of one kind",
				       ENGINE_NETREQ_MAX_ITEMS);
	return 0;
}

static int check_add_host(char **entry, struct err **err)
{
	char *colon = strchr(*entry, ':');
	_cleanup_free_ char *ip = NULL, *name = NULL;
	char *joined;

	/* Docker also takes "NAME=IP"; the first separator splits (IPv6
	 * addresses contain colons). */
	char *eq = strchr(*entry, '=');
	if (eq && (!colon || eq < colon))
		colon = eq;
	if (!colon || colon == *entry || !colon[1])
		return err_set(err, EINVAL, "invalid argument \"%s\" for \"--add-host\" flag",
			       *entry);
	if (!(name = strndup(*entry, (size_t)(colon - *entry))) || !(ip = strdup(colon + 1)))
		return err_errno(err, ENOMEM, "--add-host");
	if (!dns_name_ok(name))
		return err_set(err, EINVAL,
			       "invalid argument \"%s\" for \"--add-host\" flag: "
			       "\"%s\" is not a valid host name",
			       *entry, name);
	if (strcmp(ip, "host-gateway") != 0) {
		if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
			memmove(ip, ip + 1, strlen(ip));
			ip[strlen(ip) - 1] = 0;
		}
		if (canon_addr(&ip, "IP address in --add-host", err) < 0)
			return err_ret(*err);
	}
	if (asprintf(&joined, "%s:%s", name, ip) < 0)
		return err_errno(err, ENOMEM, "--add-host");
	free(*entry);
	*entry = joined;
	return 0;
}

int engine_netreq_check(const char *mode, bool user_defined, struct engine_netreq *q,
			struct err **err)
{
	bool none = !strcmp(mode, "none"), host = !strcmp(mode, "host");
	int r;

	if ((r = check_lists(q, err)) < 0)
		return r;
	if (q->ip) {
		struct net_addr a;

		if (!user_defined)
			return err_set(err, EINVAL,
				       "user specified IP address is supported on user defined "
				       "networks only");
		if (net_addr_parse(q->ip, &a, NULL) < 0 || a.family != AF_INET)
			return err_set(err, EINVAL, "invalid IPv4 address: %s", q->ip);
		if ((r = canon_addr(&q->ip, "--ip", err)) < 0)
			return r;
	}
	if (count(q->aliases) && !user_defined)
		return err_set(err, EINVAL,
			       "network-scoped alias is supported only for containers "
			       "in user defined networks");
	for (size_t i = 0; q->aliases && q->aliases[i]; i++)
		if (!dns_name_ok(q->aliases[i]))
			return err_set(err, EINVAL, "invalid network alias \"%s\"", q->aliases[i]);
	for (size_t i = 0; q->dns && q->dns[i]; i++)
		if ((r = canon_addr(&q->dns[i], "--dns", err)) < 0)
			return r;
	for (size_t i = 0; q->dns_search && q->dns_search[i]; i++)
		if (strcmp(q->dns_search[i], ".") && !dns_name_ok(q->dns_search[i]))
			return err_set(err, EINVAL, "invalid --dns-search \"%s\"",
				       q->dns_search[i]);
	for (size_t i = 0; q->dns_options && q->dns_options[i]; i++)
		if (!q->dns_options[i][0] || strpbrk(q->dns_options[i], " \t\n"))
			return err_set(err, EINVAL, "invalid --dns-option \"%s\"",
				       q->dns_options[i]);
	for (size_t i = 0; q->add_hosts && q->add_hosts[i]; i++)
		if ((r = check_add_host(&q->add_hosts[i], err)) < 0)
			return r;
	for (size_t i = 0; q->publish && q->publish[i]; i++) {
		_cleanup_free_ struct net_port_binding *b = NULL;
		size_t n;

		if ((r = net_portspec_parse(q->publish[i], &b, &n, err)) < 0)
			return r;
	}
	if (count(q->publish) && none)
		return err_set(err, EINVAL,
			       "conflicting options: port publishing and --network none");
	if (count(q->publish) && host) {
		fprintf(stderr, "WARNING: Published ports are discarded when using host network "
				"mode\n");
		strvfree(q->publish);
		q->publish = NULL;
		q->publish_all = false;
	}
	return 0;
}

int engine_netreq_publish_exposed(struct engine_netreq *q, char *const *keys, struct err **err)
{
	size_t n = count(q->publish);

	for (size_t i = 0; keys && keys[i]; i++) {
		_cleanup_free_ struct net_port_binding *b = NULL;
		size_t nb;
		char **grown;
		int r;

		/* The key is checked as -P reads it; the spec "KEY" (container
		 * ports only) publishes it on any free host port. */
		if ((r = net_portspec_parse_exposed(keys[i], &b, &nb, err)) < 0)
			return r;
		if (n >= ENGINE_NETREQ_MAX_ITEMS)
			return err_set(err, E2BIG, "-P: the image exposes more than %d ports",
				       ENGINE_NETREQ_MAX_ITEMS);
		grown = realloc(q->publish, (n + 2) * sizeof(char *));
		if (!grown)
			return err_errno(err, ENOMEM, "-P");
		q->publish = grown;
		if (!(q->publish[n] = strdup(keys[i])))
			return err_errno(err, ENOMEM, "-P");
		q->publish[++n] = NULL;
	}
	return 0;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

json_t *engine_netreq_json(const struct engine_netreq *q)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (q->network_id)
		json_object_set_new(o, "network_id", json_string(q->network_id));
	if (q->ip)
		json_object_set_new(o, "ip", json_string(q->ip));
	json_object_set_new(o, "aliases", strv_json(q->aliases));
	json_object_set_new(o, "dns", strv_json(q->dns));
	json_object_set_new(o, "dns_search", strv_json(q->dns_search));
	json_object_set_new(o, "dns_options", strv_json(q->dns_options));
	json_object_set_new(o, "add_hosts", strv_json(q->add_hosts));
	json_object_set_new(o, "publish", strv_json(q->publish));
	json_object_set_new(o, "publish_all", json_boolean(q->publish_all));
	return o;
}

int engine_netreq_from_json(json_t *o, struct engine_netreq *q, struct err **err)
{
	static const char *const keys[] = {"network_id", "ip",	       "aliases",
					   "dns",	 "dns_search", "dns_options",
					   "add_hosts",	 "publish",    "publish_all"};
	const char *key;
	json_t *val, *pa;

	memset(q, 0, sizeof(*q));
	if (!json_is_object(o))
		return err_set(err, EINVAL, "container record: network: not an object");
	json_object_foreach (o, key, val) {
		size_t k = 0;

		while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key))
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return err_set(err, EINVAL, "container record: network: unknown key \"%s\"",
				       key);
	}
	pa = json_object_get(o, "publish_all");
	if (json_get_str(o, "network_id", &q->network_id, "container record: network", err) < 0 ||
	    json_get_str(o, "ip", &q->ip, "container record: network", err) < 0 ||
	    json_get_strv(o, "aliases", &q->aliases, "container record: network", err) < 0 ||
	    json_get_strv(o, "dns", &q->dns, "container record: network", err) < 0 ||
	    json_get_strv(o, "dns_search", &q->dns_search, "container record: network", err) < 0 ||
	    json_get_strv(o, "dns_options", &q->dns_options, "container record: network", err) <
		0 ||
	    json_get_strv(o, "add_hosts", &q->add_hosts, "container record: network", err) < 0 ||
	    json_get_strv(o, "publish", &q->publish, "container record: network", err) < 0)
		goto bad;
	if (pa && !json_is_boolean(pa)) {
		err_set(err, EINVAL, "container record: network: publish_all is not a boolean");
		goto bad;
	}
	q->publish_all = pa && json_is_true(pa);
	if (check_lists(q, err) < 0)
		goto bad;
	return 0;
bad:
	engine_netreq_free(q);
	return err_ret(*err);
}
