/*
 * fuzz/plugin_decode_fuzz.c - libFuzzer target for the volume plugin
 * decoders (volume/plugin_decode.c): what a plugin directory's .spec and
 * .json files and a plugin's replies can make of moat.
 *
 * The first byte selects the decoder (its value modulo 12): 0 .spec,
 * 1 .json, 2..10 the reply of one method, 11 an unknown method; the rest
 * is the input.
 *
 * Properties: a failure sets an error and hands nothing out (addresses
 * NULL, has_tls false, reply outputs NULL; a -EIO reply only a non-empty
 * plugin_err); an address is "unix:///..." (shorter than sun_path) or
 * "tcp://host:port", holds no control byte, and decodes to itself as a
 * .spec; a MountRoot is absolute; a reply fills only its method's outputs
 * (the others keep the sentinel they were given), with Mount's mountpoint
 * non-empty, Activate's list non-NULL, every volume named, and the scope
 * "local" or "global".
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {
    "Plugin.Activate",		 "VolumeDriver.Create", "VolumeDriver.Remove", "VolumeDriver.Mount",
    "VolumeDriver.Unmount",	 "VolumeDriver.Path",	"VolumeDriver.Get",    "VolumeDriver.List",
    "VolumeDriver.Capabilities", "VolumeDriver.Frob",
};

static void check_addr(const char *a)
{
	struct err *err = NULL;
	char *again = NULL;

	if (!a)
		abort();
	if (strncmp(a, "unix:///", 8) && strncmp(a, "tcp://", 6))
		abort();
	if (!strncmp(a, "unix://", 7) && strlen(a + 7) >= 108)
		abort();
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	if (plugin_decode_spec(a, strlen(a), &again, &err) < 0 || strcmp(again, a))
		abort();
	free(again);
}

static void fuzz_spec(const char *buf, size_t len)
{
	struct err *err = NULL;
	char *addr = NULL;

	if (plugin_decode_spec(buf, len, &addr, &err) < 0) {
		if (!err || addr)
			abort();
		err_free(&err);
		return;
	}
	if (err)
		abort();
	check_addr(addr);
	free(addr);
}

static void fuzz_json(const char *buf, size_t len)
{
	struct err *err = NULL;
	char *addr = NULL, *root = NULL;
	bool tls = true;

	if (plugin_decode_json(buf, len, &addr, &root, &tls, &err) < 0) {
		if (!err || addr || root || tls)
			abort();
		err_free(&err);
		return;
	}
	if (err)
		abort();
	check_addr(addr);
	if (root && root[0] != '/')
		abort();
	free(addr);
	free(root);
}

static void fuzz_reply(const char *method, const char *buf, size_t len)
{
	static char sentinel[] = "sentinel";
	static char *sentinel_v[] = {sentinel, NULL};
	static struct plugin_volume sentinel_vol;
	struct plugin_reply r;
	struct err *err = NULL;
	bool act = !strcmp(method, "Plugin.Activate");
	bool mnt = !strcmp(method, "VolumeDriver.Mount"),
	     path = !strcmp(method, "VolumeDriver.Path");
	bool get = !strcmp(method, "VolumeDriver.Get"), list = !strcmp(method, "VolumeDriver.List");
	bool caps = !strcmp(method, "VolumeDriver.Capabilities");
	int ret;

	/* Outputs that METHOD has start NULL; the others hold sentinels that
	 * must survive. */
	memset(&r, 0, sizeof(r));
	r.implements = act ? NULL : sentinel_v;
	r.mountpoint = mnt || path ? NULL : sentinel;
	r.vol = get ? NULL : &sentinel_vol;
	r.vols = list ? NULL : &sentinel_vol;
	r.n_vols = list ? 0 : 42;
	r.scope = caps ? NULL : sentinel;

	ret = plugin_decode_reply(method, buf, len, &r, &err);

	if ((!act && r.implements != sentinel_v) || (!mnt && !path && r.mountpoint != sentinel) ||
	    (!get && r.vol != &sentinel_vol) ||
	    (!list && (r.vols != &sentinel_vol || r.n_vols != 42)) ||
	    (!caps && r.scope != sentinel))
		abort();
	if (!act)
		r.implements = NULL;
	if (!mnt && !path)
		r.mountpoint = NULL;
	if (!get)
		r.vol = NULL;
	if (!list) {
		r.vols = NULL;
		r.n_vols = 0;
	}
	if (!caps)
		r.scope = NULL;

	if (ret < 0) {
		if (!err || err->code != -ret)
			abort();
		if (ret == -EIO) {
			if (!r.plugin_err || !r.plugin_err[0])
				abort();
		} else if (r.plugin_err) {
			abort();
		}
		if (r.implements || r.mountpoint || r.vol || r.vols || r.n_vols || r.scope)
			abort();
		if (!strcmp(method, "VolumeDriver.Frob")
			? ret != -EINVAL
			: ret != -EPROTO && ret != -EIO && ret != -ENOMEM)
			abort();
		err_free(&err);
		plugin_reply_free(&r);
		return;
	}
	if (err || r.plugin_err)
		abort();
	if (act && !r.implements)
		abort();
	if (mnt && (!r.mountpoint || !r.mountpoint[0]))
		abort();
	if (get && r.vol && (!r.vol->name || !r.vol->name[0]))
		abort();
	if (list && (!r.vols) != (r.n_vols == 0))
		abort();
	for (size_t i = 0; list && i < r.n_vols; i++)
		if (!r.vols[i].name || !r.vols[i].name[0])
			abort();
	if (caps && (!r.scope || (strcmp(r.scope, "local") && strcmp(r.scope, "global"))))
		abort();
	plugin_reply_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0] % 12;
	buf = (const char *)data + 1;
	size--;
	switch (sel) {
	case 0:
		fuzz_spec(buf, size);
		break;
	case 1:
		fuzz_json(buf, size);
		break;
	default:
		fuzz_reply(methods[sel - 2], buf, size);
		break;
	}
	return 0;
}
