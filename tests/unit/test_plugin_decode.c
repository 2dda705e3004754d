/*
 * tests/unit/test_plugin_decode.c - volume/plugin_decode.c, the pure
 * decoders of the volume plugin client: .spec files (whitespace, unix and
 * tcp URLs, everything that is not one), .json files (TLSConfig,
 * MountRoot, unknown keys ignored but wrong types refused), and the reply
 * of every method: Err handling (it wins over the rest, is kept verbatim
 * and escaped in the message), a null Volume in Get, a missing
 * Mountpoint, wrong types, outputs of other methods left untouched, and
 * huge or odd input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "volume/plugin.h"

/* ---- .spec ---- */

static void spec_ok(const char *in, size_t len, const char *want)
{
	struct err *err = NULL;
	char *addr = NULL;

	if (plugin_decode_spec(in, len, &addr, &err) < 0) {
		print_error("refused %.200s: %s\n", in, err->msg);
		err_free(&err);
		fail();
	}
	assert_null(err);
	assert_non_null(addr);
	if (strcmp(addr, want)) {
		print_error("spec %.200s: want %s, got %s\n", in, want, addr);
		fail();
	}
	free(addr);
}

static void spec_bad(const char *in, size_t len, int code, const char *msg)
{
	struct err *err = NULL;
	char *addr = (char *)"sentinel";
	int r = plugin_decode_spec(in, len, &addr, &err);

	if (r >= 0) {
		print_error("accepted spec %.200s as %s\n", in, addr);
		free(addr);
		fail();
	}
	assert_int_equal(r, -code);
	assert_null(addr);
	assert_non_null(err);
	assert_int_equal(err->code, code);
	if (!strstr(err->msg, msg)) {
		print_error("spec %.100s: want \"%s\" in \"%s\"\n", in, msg, err->msg);
		fail();
	}
	err_free(&err);
}

#define SPEC_OK(s, w) spec_ok((s), strlen(s), (w))
#define SPEC_BAD(s, c, m) spec_bad((s), strlen(s), (c), (m))

static void test_spec(void **state)
{
	char big[PLUGIN_SPEC_MAX + 2], longpath[200];

	SPEC_OK("unix:///run/docker/plugins/x.sock", "unix:///run/docker/plugins/x.sock");
	SPEC_OK("  \tunix:///run/x.sock \n\n", "unix:///run/x.sock");
	SPEC_OK("unix:///run/my plugin.sock\n", "unix:///run/my plugin.sock");
	SPEC_OK("UNIX:///run/x.sock", "unix:///run/x.sock");
	SPEC_OK("tcp://127.0.0.1:8080\n", "tcp://127.0.0.1:8080");
	SPEC_OK("tcp://127.0.0.1:8080/", "tcp://127.0.0.1:8080");
	SPEC_OK("TCP://localhost:1", "tcp://localhost:1");
	SPEC_OK("tcp://[::1]:65535", "tcp://[::1]:65535");
	/* The decoder does not judge hosts: plugin.c refuses non-loopback. */
	SPEC_OK("tcp://10.1.2.3:80", "tcp://10.1.2.3:80");
	SPEC_OK("tcp://127.0.0.1:0080", "tcp://127.0.0.1:80");

	SPEC_BAD("", EINVAL, "empty");
	SPEC_BAD(" \n\t \n", EINVAL, "empty");
	SPEC_BAD("unix://run/x.sock", EINVAL, "absolute path");
	SPEC_BAD("unix://", EINVAL, "absolute path");
	SPEC_BAD("unix:///a.sock\nunix:///b.sock", EINVAL, "more than one line");
	SPEC_BAD("unix:///a.sock\rx", EINVAL, "more than one line");
	SPEC_BAD("unix:///a\x1b[2J.sock", EINVAL, "control character");
	SPEC_BAD("tcp://127.0.0.1", EINVAL, "needs a port");
	SPEC_BAD("tcp://", EINVAL, "needs a port");
	SPEC_BAD("tcp://:80", EINVAL, "invalid host");
	SPEC_BAD("tcp://a b:80", EINVAL, "invalid host");
	SPEC_BAD("tcp://a@b:80", EINVAL, "invalid host");
	SPEC_BAD("tcp://[::1:80", EINVAL, "invalid host");
	SPEC_BAD("tcp://[zz]:80", EINVAL, "invalid host");
	SPEC_BAD("tcp://127.0.0.1:0", EINVAL, "invalid port");
	SPEC_BAD("tcp://127.0.0.1:65536", EINVAL, "invalid port");
	SPEC_BAD("tcp://127.0.0.1:123456", EINVAL, "invalid port");
	SPEC_BAD("tcp://127.0.0.1:8a", EINVAL, "invalid port");
	SPEC_BAD("tcp://127.0.0.1:-1", EINVAL, "invalid port");
	SPEC_BAD("tcp://127.0.0.1:80/path", EINVAL, "invalid port");
	SPEC_BAD("http://127.0.0.1:80", EINVAL, "unsupported address");
	SPEC_BAD("https://127.0.0.1:80", EINVAL, "unsupported address");
	SPEC_BAD("/run/x.sock", EINVAL, "unsupported address");
	SPEC_BAD("unix:/run/x.sock", EINVAL, "unsupported address");

	/* A NUL inside the file (the length says it is there). */
	spec_bad("unix:///a\0b.sock", 16, EINVAL, "control character");

	/* sun_path holds 107 bytes and a NUL. */
	memset(longpath, 0, sizeof(longpath));
	memcpy(longpath, "unix:///", 8);
	memset(longpath + 8, 'a', 106); /* "/" + 106 = 107 bytes */
	spec_ok(longpath, strlen(longpath), longpath);
	longpath[8 + 106] = 'a'; /* 108 bytes */
	SPEC_BAD(longpath, ENAMETOOLONG, "longer than 107 bytes");

	/* Size is checked before anything else. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "unix:///x.sock", 14);
	spec_bad(big, PLUGIN_SPEC_MAX + 1, EFBIG, "larger than");
	spec_ok(big, PLUGIN_SPEC_MAX, "unix:///x.sock");
}

/* ---- .json ---- */

static void json_ok(const char *in, const char *want_addr, const char *want_root, bool want_tls)
{
	struct err *err = NULL;
	char *addr = NULL, *root = NULL;
	bool tls = !want_tls;

	if (plugin_decode_json(in, strlen(in), &addr, &root, &tls, &err) < 0) {
		print_error("refused %.200s: %s\n", in, err->msg);
		err_free(&err);
		fail();
	}
	assert_string_equal(addr, want_addr);
	if (want_root)
		assert_string_equal(root, want_root);
	else
		assert_null(root);
	assert_int_equal(tls, want_tls);
	free(addr);
	free(root);
}

static void json_bad(const char *in, size_t len, int code, const char *msg)
{
	struct err *err = NULL;
	char *addr = (char *)"x", *root = (char *)"y";
	bool tls = true;
	int r = plugin_decode_json(in, len, &addr, &root, &tls, &err);

	if (r >= 0) {
		print_error("accepted json %.200s\n", in);
		fail();
	}
	assert_int_equal(r, -code);
	assert_null(addr);
	assert_null(root);
	assert_false(tls);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("json %.100s: want \"%s\" in \"%s\"\n", in, msg, err->msg);
		fail();
	}
	err_free(&err);
}

#define JSON_BAD(s, c, m) json_bad((s), strlen(s), (c), (m))

static void test_json(void **state)
{
	char *big;

	json_ok("{\"Name\": \"p\", \"Addr\": \"unix:///run/p.sock\"}", "unix:///run/p.sock", NULL,
		false);
	json_ok("{\"Addr\": \"tcp://127.0.0.1:9000\", \"TLSConfig\": {\"InsecureSkipVerify\": "
		"true, \"CAFile\": \"/ca.pem\", \"CertFile\": \"/c\", \"KeyFile\": \"/k\"}}",
		"tcp://127.0.0.1:9000", NULL, true);
	json_ok("{\"Addr\": \"tcp://127.0.0.1:9000\", \"TLSConfig\": {}}", "tcp://127.0.0.1:9000",
		NULL, true);
	json_ok("{\"Addr\": \"unix:///p.sock\", \"TLSConfig\": null, \"Name\": null}",
		"unix:///p.sock", NULL, false);
	json_ok("{\"Addr\": \"unix:///p.sock\", \"MountRoot\": \"/srv/plugin\"}", "unix:///p.sock",
		"/srv/plugin", false);
	/* Unknown keys are ignored, as Docker does. */
	json_ok("{\"Addr\": \"unix:///p.sock\", \"Foo\": [1, {\"x\": null}], \"name\": 5, "
		"\"Version\": \"1\"}",
		"unix:///p.sock", NULL, false);
	json_ok("  {\"Addr\": \"unix:///p.sock\"}\n", "unix:///p.sock", NULL, false);

	JSON_BAD("", EINVAL, ".json:");
	JSON_BAD("{", EINVAL, ".json:1:");
	JSON_BAD("unix:///p.sock", EINVAL, ".json:1:");
	JSON_BAD("[\"unix:///p.sock\"]", EINVAL, "not a JSON object");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\"} x", EINVAL, ".json:");
	JSON_BAD("{\"Addr\": \"unix:///a.sock\", \"Addr\": \"unix:///b.sock\"}", EINVAL,
		 "duplicate");
	JSON_BAD("{}", EINVAL, "\"Addr\" is required");
	JSON_BAD("{\"Addr\": \"\"}", EINVAL, "\"Addr\" is required");
	JSON_BAD("{\"Addr\": null}", EINVAL, "\"Addr\" is required");
	JSON_BAD("{\"Addr\": 5}", EINVAL, "\"Addr\" must be a string");
	JSON_BAD("{\"Addr\": \"unix:///a\\u0000b\"}", EINVAL, "\"Addr\" contains a NUL");
	JSON_BAD("{\"Addr\": \"tcp://127.0.0.1\"}", EINVAL,
		 "\"Addr\": a tcp:// address needs a port");
	JSON_BAD("{\"Addr\": \"ftp://x\"}", EINVAL, "\"Addr\": unsupported address");
	/* Unlike a .spec, the Addr string is not trimmed (nor is it by Docker). */
	JSON_BAD("{\"Addr\": \" unix:///p.sock\"}", EINVAL, "\"Addr\": unsupported address");
	JSON_BAD("{\"Addr\": \"unix:///p.sock \"}", EINVAL, "\"Addr\": trailing space");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"Name\": 5}", EINVAL,
		 "\"Name\" must be a string");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"TLSConfig\": \"yes\"}", EINVAL,
		 "\"TLSConfig\" must be an object");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"TLSConfig\": true}", EINVAL,
		 "\"TLSConfig\" must be an object");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"TLSConfig\": []}", EINVAL,
		 "\"TLSConfig\" must be an object");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"MountRoot\": 5}", EINVAL,
		 "\"MountRoot\" must be a string");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"MountRoot\": \"srv\"}", EINVAL,
		 "\"MountRoot\" must be an absolute path");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"MountRoot\": \"\"}", EINVAL,
		 "\"MountRoot\" must be an absolute path");
	JSON_BAD("{\"Addr\": \"unix:///p.sock\", \"Name\": \"\xff\"}", EINVAL, ".json:");

	big = malloc(PLUGIN_SPEC_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', PLUGIN_SPEC_MAX + 2);
	memcpy(big, "{\"Addr\": \"unix:///p.sock\"}", 26);
	json_bad(big, PLUGIN_SPEC_MAX + 1, EFBIG, "larger than");
	free(big);
}

/* ---- replies ---- */

static int dec(const char *method, const char *in, struct plugin_reply *out, struct err **err)
{
	*out = (struct plugin_reply){0};
	return plugin_decode_reply(method, in, strlen(in), out, err);
}

static void reply_ok(const char *method, const char *in, struct plugin_reply *out)
{
	struct err *err = NULL;

	if (dec(method, in, out, &err) < 0) {
		print_error("%s refused %.200s: %s\n", method, in, err->msg);
		err_free(&err);
		fail();
	}
	assert_null(err);
	assert_null(out->plugin_err);
}

static void reply_bad(const char *method, const char *in, size_t len, int code, const char *msg)
{
	struct plugin_reply out = {0};
	struct err *err = NULL;
	int r = plugin_decode_reply(method, in, len, &out, &err);

	if (r >= 0) {
		print_error("%s accepted %.200s\n", method, in);
		fail();
	}
	assert_int_equal(r, -code);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("%s %.100s: want \"%s\" in \"%s\"\n", method, in, msg, err->msg);
		fail();
	}
	/* Nothing decoded is handed out on failure. */
	if (code != EIO)
		assert_null(out.plugin_err);
	assert_null(out.implements);
	assert_null(out.mountpoint);
	assert_null(out.vol);
	assert_null(out.vols);
	assert_int_equal(out.n_vols, 0);
	assert_null(out.scope);
	plugin_reply_free(&out);
	err_free(&err);
}

#define REPLY_BAD(m, s, c, msg) reply_bad((m), (s), strlen(s), (c), (msg))

static const char *const methods[] = {
    "Plugin.Activate",	  "VolumeDriver.Create",  "VolumeDriver.Remove",
    "VolumeDriver.Mount", "VolumeDriver.Unmount", "VolumeDriver.Path",
    "VolumeDriver.Get",	  "VolumeDriver.List",	  "VolumeDriver.Capabilities",
};

static void test_reply_err(void **state)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct plugin_reply out = {0};
		struct err *err = NULL;
		int r;

		/* A non-empty Err is a failure, whatever else the reply has,
		 * even fields of the wrong type. */
		r = dec(methods[i],
			"{\"Err\": \"disk on fire\", \"Mountpoint\": 5, \"Volume\": 1, "
			"\"Volumes\": 2, \"Implements\": 3, \"Capabilities\": 4}",
			&out, &err);
		assert_int_equal(r, -EIO);
		assert_string_equal(out.plugin_err, "disk on fire");
		assert_string_equal(err->msg, "disk on fire");
		assert_int_equal(err->code, EIO);
		assert_null(out.mountpoint);
		assert_null(out.implements);
		assert_null(out.vol);
		assert_null(out.vols);
		assert_null(out.scope);
		plugin_reply_free(&out);
		err_free(&err);

		/* An empty or null Err is no error. */
		assert_int_equal(dec(methods[i],
				     "{\"Err\": \"\", \"Mountpoint\": \"/m\", \"Volume\": null}",
				     &out, &err),
				 0);
		plugin_reply_free(&out);
		assert_int_equal(
		    dec(methods[i], "{\"Err\": null, \"Mountpoint\": \"/m\"}", &out, &err), 0);
		plugin_reply_free(&out);
		assert_null(err);

		REPLY_BAD(methods[i], "{\"Err\": 5}", EPROTO, "\"Err\" must be a string");
		REPLY_BAD(methods[i], "{\"Err\": [\"x\"]}", EPROTO, "\"Err\" must be a string");
		REPLY_BAD(methods[i], "{\"Err\": \"a\\u0000b\"}", EPROTO, "\"Err\" contains a NUL");
		REPLY_BAD(methods[i], "", EPROTO, "not JSON");
		REPLY_BAD(methods[i], "{\"Err\": ", EPROTO, "not JSON");
		REPLY_BAD(methods[i], "{} {}", EPROTO, "not JSON");
		REPLY_BAD(methods[i], "[]", EPROTO, "not a JSON object");
		REPLY_BAD(methods[i], "\"Err\"", EPROTO, "not a JSON object");
		REPLY_BAD(methods[i], "null", EPROTO, "not a JSON object");
		REPLY_BAD(methods[i], "{\"Err\": \"a\", \"Err\": \"\"}", EPROTO, "duplicate");
		REPLY_BAD(methods[i], "{\"Err\": \"\xc3\x28\"}", EPROTO, "not JSON");
	}
}

static void test_reply_err_escaped(void **state)
{
	struct plugin_reply out = {0};
	struct err *err = NULL;

	/* Verbatim in plugin_err; control bytes escaped in the message. */
	assert_int_equal(dec("VolumeDriver.Mount",
			     "{\"Err\": \"bad\\u001b[31m red\\nline 2 \xc3\xa9\"}", &out, &err),
			 -EIO);
	assert_string_equal(out.plugin_err, "bad\x1b[31m red\nline 2 \xc3\xa9");
	assert_string_equal(err->msg, "bad\\x1b[31m red\\x0aline 2 \xc3\xa9");
	plugin_reply_free(&out);
	err_free(&err);
}

static void test_reply_activate(void **state)
{
	struct plugin_reply out;

	reply_ok("Plugin.Activate", "{\"Implements\": [\"NetworkDriver\", \"VolumeDriver\"]}",
		 &out);
	assert_non_null(out.implements);
	assert_string_equal(out.implements[0], "NetworkDriver");
	assert_string_equal(out.implements[1], "VolumeDriver");
	assert_null(out.implements[2]);
	plugin_reply_free(&out);
	assert_null(out.implements);

	/* None listed: an empty list, never NULL (the caller reports it). */
	reply_ok("Plugin.Activate", "{}", &out);
	assert_non_null(out.implements);
	assert_null(out.implements[0]);
	plugin_reply_free(&out);
	reply_ok("Plugin.Activate", "{\"Implements\": null, \"Other\": 1}", &out);
	assert_non_null(out.implements);
	assert_null(out.implements[0]);
	plugin_reply_free(&out);

	REPLY_BAD("Plugin.Activate", "{\"Implements\": \"VolumeDriver\"}", EPROTO,
		  "\"Implements\" must be an array");
	REPLY_BAD("Plugin.Activate", "{\"Implements\": {\"VolumeDriver\": true}}", EPROTO,
		  "\"Implements\" must be an array");
	REPLY_BAD("Plugin.Activate", "{\"Implements\": [\"VolumeDriver\", 1]}", EPROTO,
		  "\"Implements\"[1] must be a string");
	REPLY_BAD("Plugin.Activate", "{\"Implements\": [\"Volume\\u0000Driver\"]}", EPROTO,
		  "\"Implements\"[0] must be a string");
}

static void test_reply_mount_path(void **state)
{
	struct plugin_reply out;

	reply_ok("VolumeDriver.Mount", "{\"Mountpoint\": \"/var/lib/p/v\", \"X\": {}}", &out);
	assert_string_equal(out.mountpoint, "/var/lib/p/v");
	plugin_reply_free(&out);
	/* The decoder does not judge paths: plugin_mountpoint_open does. */
	reply_ok("VolumeDriver.Mount", "{\"Mountpoint\": \"relative\"}", &out);
	assert_string_equal(out.mountpoint, "relative");
	plugin_reply_free(&out);

	REPLY_BAD("VolumeDriver.Mount", "{}", EPROTO, "no \"Mountpoint\"");
	REPLY_BAD("VolumeDriver.Mount", "{\"Err\": \"\"}", EPROTO, "no \"Mountpoint\"");
	REPLY_BAD("VolumeDriver.Mount", "{\"Mountpoint\": \"\"}", EPROTO, "no \"Mountpoint\"");
	REPLY_BAD("VolumeDriver.Mount", "{\"Mountpoint\": null}", EPROTO, "no \"Mountpoint\"");
	REPLY_BAD("VolumeDriver.Mount", "{\"Mountpoint\": 5}", EPROTO,
		  "\"Mountpoint\" must be a string");
	REPLY_BAD("VolumeDriver.Mount", "{\"Mountpoint\": [\"/a\"]}", EPROTO,
		  "\"Mountpoint\" must be a string");
	REPLY_BAD("VolumeDriver.Mount", "{\"Mountpoint\": \"/a\\u0000/etc\"}", EPROTO,
		  "\"Mountpoint\" contains a NUL");

	/* Path may say "not mounted". */
	reply_ok("VolumeDriver.Path", "{\"Mountpoint\": \"/m\"}", &out);
	assert_string_equal(out.mountpoint, "/m");
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.Path", "{}", &out);
	assert_null(out.mountpoint);
	plugin_reply_free(&out);
	REPLY_BAD("VolumeDriver.Path", "{\"Mountpoint\": false}", EPROTO,
		  "\"Mountpoint\" must be a string");
}

static void test_reply_get(void **state)
{
	struct plugin_reply out;

	reply_ok(
	    "VolumeDriver.Get",
	    "{\"Volume\": {\"Name\": \"v1\", \"Mountpoint\": \"/m/v1\", \"CreatedAt\": "
	    "\"2026-01-01T00:00:00Z\", \"Status\": {\"size\": 3}, \"Extra\": 1}, \"Err\": \"\"}",
	    &out);
	assert_non_null(out.vol);
	assert_string_equal(out.vol->name, "v1");
	assert_string_equal(out.vol->mountpoint, "/m/v1");
	assert_string_equal(out.vol->created_at, "2026-01-01T00:00:00Z");
	assert_string_equal(out.vol->status, "{\"size\":3}");
	plugin_reply_free(&out);
	assert_null(out.vol);

	reply_ok("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v1\"}}", &out);
	assert_non_null(out.vol);
	assert_string_equal(out.vol->name, "v1");
	assert_null(out.vol->mountpoint);
	assert_null(out.vol->created_at);
	assert_null(out.vol->status);
	plugin_reply_free(&out);

	/* Status as the plugin gave it, any JSON inside, re-encoded compact
	 * with sorted keys (escapes kept escaped, so a NUL or a control
	 * byte stays text); null is none; {} is an empty status. */
	reply_ok("VolumeDriver.Get",
		 "{\"Volume\": {\"Name\": \"v1\", \"Status\": {\"z\": [1, {\"b\": null}], \"a\": "
		 "\"x\\u0000\\u001b\", \"m\": 1.5}}}",
		 &out);
	assert_string_equal(out.vol->status,
			    "{\"a\":\"x\\u0000\\u001B\",\"m\":1.5,\"z\":[1,{\"b\":null}]}");
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v1\", \"Status\": null}}", &out);
	assert_null(out.vol->status);
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v1\", \"Status\": {}}}", &out);
	assert_string_equal(out.vol->status, "{}");
	plugin_reply_free(&out);

	/* A null or absent Volume: no such volume, not an error. */
	reply_ok("VolumeDriver.Get", "{\"Volume\": null}", &out);
	assert_null(out.vol);
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.Get", "{}", &out);
	assert_null(out.vol);
	plugin_reply_free(&out);

	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": \"v1\"}", EPROTO,
		  "\"Volume\" must be an object");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": []}", EPROTO, "\"Volume\" must be an object");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {}}", EPROTO, "\"Volume\" has no \"Name\"");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"\"}}", EPROTO,
		  "\"Volume\" has no \"Name\"");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": 1}}", EPROTO,
		  "\"Volume\".\"Name\" must be a string");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v\", \"Mountpoint\": 1}}", EPROTO,
		  "\"Volume\".\"Mountpoint\" must be a string");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v\", \"CreatedAt\": 1}}", EPROTO,
		  "\"Volume\".\"CreatedAt\" must be a string");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v\", \"Status\": \"ok\"}}", EPROTO,
		  "\"Volume\".\"Status\" must be an object");
	REPLY_BAD("VolumeDriver.Get", "{\"Volume\": {\"Name\": \"v\", \"Status\": [1]}}", EPROTO,
		  "\"Volume\".\"Status\" must be an object");
}

static void test_reply_list(void **state)
{
	struct plugin_reply out;

	reply_ok("VolumeDriver.List",
		 "{\"Volumes\": [{\"Name\": \"a\"}, {\"Name\": \"b\", \"Mountpoint\": \"/m/b\", "
		 "\"Status\": null}]}",
		 &out);
	assert_int_equal(out.n_vols, 2);
	assert_string_equal(out.vols[0].name, "a");
	assert_null(out.vols[0].mountpoint);
	assert_string_equal(out.vols[1].name, "b");
	assert_string_equal(out.vols[1].mountpoint, "/m/b");
	assert_null(out.vols[1].status);
	plugin_reply_free(&out);
	assert_null(out.vols);
	assert_int_equal(out.n_vols, 0);

	reply_ok("VolumeDriver.List", "{\"Volumes\": []}", &out);
	assert_int_equal(out.n_vols, 0);
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.List", "{\"Volumes\": null}", &out);
	assert_int_equal(out.n_vols, 0);
	plugin_reply_free(&out);
	reply_ok("VolumeDriver.List", "{}", &out);
	assert_int_equal(out.n_vols, 0);
	assert_null(out.vols);
	plugin_reply_free(&out);

	REPLY_BAD("VolumeDriver.List", "{\"Volumes\": {}}", EPROTO, "\"Volumes\" must be an array");
	REPLY_BAD("VolumeDriver.List", "{\"Volumes\": \"a\"}", EPROTO,
		  "\"Volumes\" must be an array");
	/* A bad element after good ones: no leak (ASan), no partial list. */
	REPLY_BAD(
	    "VolumeDriver.List",
	    "{\"Volumes\": [{\"Name\": \"a\", \"Mountpoint\": \"/a\"}, {\"Name\": \"b\"}, 5]}",
	    EPROTO, "\"Volumes\"[2] must be an object");
	REPLY_BAD("VolumeDriver.List",
		  "{\"Volumes\": [{\"Name\": \"a\"}, {\"Mountpoint\": \"/b\"}]}", EPROTO,
		  "\"Volumes\"[1] has no \"Name\"");
}

static void test_reply_caps(void **state)
{
	static const struct {
		const char *in, *scope;
	} ok[] = {
	    {"{}", "local"},
	    {"{\"Capabilities\": null}", "local"},
	    {"{\"Capabilities\": {}}", "local"},
	    {"{\"Capabilities\": {\"Scope\": \"\"}}", "local"},
	    {"{\"Capabilities\": {\"Scope\": null}}", "local"},
	    {"{\"Capabilities\": {\"Scope\": \"local\"}}", "local"},
	    {"{\"Capabilities\": {\"Scope\": \"global\", \"Other\": 1}}", "global"},
	    {"{\"Capabilities\": {\"Scope\": \"GLOBAL\"}}", "global"},
	    {"{\"Capabilities\": {\"Scope\": \"Local\"}}", "local"},
	};
	struct plugin_reply out;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		reply_ok("VolumeDriver.Capabilities", ok[i].in, &out);
		assert_string_equal(out.scope, ok[i].scope);
		plugin_reply_free(&out);
	}
	REPLY_BAD("VolumeDriver.Capabilities", "{\"Capabilities\": {\"Scope\": \"cluster\"}}",
		  EPROTO, "must be \"local\" or \"global\"");
	REPLY_BAD("VolumeDriver.Capabilities", "{\"Capabilities\": {\"Scope\": \"globalx\"}}",
		  EPROTO, "must be \"local\" or \"global\"");
	REPLY_BAD("VolumeDriver.Capabilities", "{\"Capabilities\": {\"Scope\": \"glob\"}}", EPROTO,
		  "must be \"local\" or \"global\"");
	REPLY_BAD("VolumeDriver.Capabilities", "{\"Capabilities\": {\"Scope\": 1}}", EPROTO,
		  "\"Scope\" must be a string");
	REPLY_BAD("VolumeDriver.Capabilities", "{\"Capabilities\": \"local\"}", EPROTO,
		  "\"Capabilities\" must be an object");
}

static int dec_keep(const char *method, const char *in, struct plugin_reply *out, struct err **err)
{
	return plugin_decode_reply(method, in, strlen(in), out, err);
}

static void test_reply_untouched(void **state)
{
	char sentinel[] = "sentinel";
	struct plugin_reply out = {0};
	struct err *err = NULL;

	/* Outputs Mount does not have stay as they were. */
	out.scope = sentinel;
	out.n_vols = 7;
	assert_int_equal(
	    plugin_decode_reply("VolumeDriver.Mount", "{\"Mountpoint\": \"/m\"}", 19, &out, &err),
	    -EPROTO); /* 19 bytes cut the JSON short */
	err_free(&err);
	assert_int_equal(
	    plugin_decode_reply("VolumeDriver.Mount", "{\"Mountpoint\": \"/m\"}", 20, &out, &err),
	    0);
	assert_ptr_equal(out.scope, sentinel);
	assert_int_equal(out.n_vols, 7);
	assert_string_equal(out.mountpoint, "/m");
	free(out.mountpoint);

	/* Create/Remove/Unmount change nothing at all. */
	out = (struct plugin_reply){0};
	out.mountpoint = sentinel;
	out.scope = sentinel;
	assert_int_equal(dec_keep("VolumeDriver.Create",
				  "{\"Mountpoint\": \"/x\", \"Capabilities\": {}}", &out, &err),
			 0);
	assert_ptr_equal(out.mountpoint, sentinel);
	assert_ptr_equal(out.scope, sentinel);
	assert_null(out.implements);
	assert_null(err);
}

static void test_reply_method_and_size(void **state)
{
	struct plugin_reply out = {0};
	struct err *err = NULL;
	char *big, *deep;
	size_t n = 200000;

	REPLY_BAD("VolumeDriver.Frobnicate", "{}", EINVAL, "no decoder");
	REPLY_BAD("volumedriver.mount", "{}", EINVAL, "no decoder");
	REPLY_BAD("", "{}", EINVAL, "no decoder");
	assert_int_equal(plugin_decode_reply(NULL, "{}", 2, &out, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(plugin_decode_reply("VolumeDriver.Create", "{}", 2, NULL, &err), -EINVAL);
	err_free(&err);

	/* Past the cap: refused before parsing (a valid body, padded). */
	big = malloc(PLUGIN_REPLY_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', PLUGIN_REPLY_MAX + 1);
	memcpy(big, "{\"Mountpoint\": \"/m\"}", 20);
	reply_bad("VolumeDriver.Mount", big, PLUGIN_REPLY_MAX + 1, EPROTO, "larger than");
	/* At the cap it is fine. */
	assert_int_equal(
	    plugin_decode_reply("VolumeDriver.Mount", big, PLUGIN_REPLY_MAX, &out, &err), 0);
	assert_string_equal(out.mountpoint, "/m");
	plugin_reply_free(&out);
	free(big);

	/* Deep nesting in an ignored key: jansson's depth limit, no crash. */
	deep = malloc(2 * n + 32);
	assert_non_null(deep);
	strcpy(deep, "{\"x\": ");
	memset(deep + 6, '[', n);
	memset(deep + 6 + n, ']', n);
	strcpy(deep + 6 + 2 * n, "}");
	REPLY_BAD("VolumeDriver.List", deep, EPROTO, "not JSON");
	free(deep);

	/* Binary garbage. */
	reply_bad("VolumeDriver.Get", "\x00\x01\x02{}", 5, EPROTO, "not JSON");
	reply_bad("VolumeDriver.Get", "{\"Volume\": null}\x00", 17, EPROTO, "not JSON");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_reply_err),
	    cmocka_unit_test(test_reply_err_escaped),
	    cmocka_unit_test(test_reply_activate),
	    cmocka_unit_test(test_reply_mount_path),
	    cmocka_unit_test(test_reply_get),
	    cmocka_unit_test(test_reply_list),
	    cmocka_unit_test(test_reply_caps),
	    cmocka_unit_test(test_reply_untouched),
	    cmocka_unit_test(test_reply_method_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
