/*
 * Unit tests for engine/inspect.c: the Docker-shaped JSON of `inspect` and
 * of a `ps` row, built from fixed records and checked field by field (and
 * the key order Docker prints), the COMMAND column (Docker's daemon joining
 * plus the CLI's Ellipsis and strconv.Quote), times, sizes, and the one
 * impure helper, the upper-layer size walk, on a scratch directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "engine/inspect.h"
#include "engine/netrun.h"
#include "sandbox/caps.h"

#define ID "4f2a9c0b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e"
#define IMG_ID "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define T0 1700000000LL /* 2023-11-14T22:13:20Z */

static char *argv_sleep[] = {"sleep", "1000", NULL};
static char *env_v[] = {"PATH=/bin", "HOME=/root", NULL};
static char *labels_v[] = {"a=1", "b", "a=2", "com.example.x=y=z", NULL};

/* A record as `moat run -d --name web -l ... demo sleep 1000` leaves it. */
static struct container_record record(void)
{
	struct container_record r = {
	    .name = "web",
	    .image = "demo",
	    .image_id = IMG_ID,
	    .argv = argv_sleep,
	    .env = env_v,
	    .cwd = "/",
	    .user = "",
	    .hostname = "4f2a9c0b1d2e",
	    .labels = labels_v,
	    .userns = "root-range",
	    .net = "none",
	    .landlock = true,
	    .caps = sandbox_caps_default(),
	    .seccomp = "default",
	    .stop_timeout = -1,
	    .restart = "no",
	    .log_max_file = 1,
	    .state = CTR_RUNNING,
	    .created = T0 * 1000000000LL + 123456789,
	    .started = (T0 + 1) * 1000000000LL + 500000000,
	    .pid = 4242,
	};

	memcpy(r.id, ID, sizeof(r.id));
	return r;
}

static const struct inspect_env env0 = {
    .root = "/var/lib/moat",
    .runroot = "/run/moat",
    .now = T0 + 300,
    .size_rw = -1,
    .size_rootfs = -1,
};

/* The value at PATH ("State.Pid", "Args.0") in O. */
static json_t *at(json_t *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_is_array(o))
			o = json_array_get(o, strtoul(k, NULL, 10));
		else
			o = json_object_get(o, k);
	}
	return o;
}

static void str_at(json_t *o, const char *path, const char *want)
{
	json_t *v = at(o, path);

	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	if (strcmp(json_string_value(v), want))
		fail_msg("%s: \"%s\", want \"%s\"", path, json_string_value(v), want);
}

static void int_at(json_t *o, const char *path, long long want)
{
	json_t *v = at(o, path);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	assert_int_equal(json_integer_value(v), want);
}

static void bool_at(json_t *o, const char *path, bool want)
{
	json_t *v = at(o, path);

	if (!json_is_boolean(v))
		fail_msg("%s: not a boolean", path);
	assert_int_equal(json_is_true(v), want);
}

static void null_at(json_t *o, const char *path)
{
	if (!json_is_null(at(o, path)))
		fail_msg("%s: not null", path);
}

/* The compact JSON of the value at PATH. */
static void json_at(json_t *o, const char *path, const char *want)
{
	json_t *v = at(o, path);
	char *s;

	if (!v)
		fail_msg("%s: missing", path);
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(s);
	if (strcmp(s, want))
		fail_msg("%s: %s, want %s", path, s, want);
	free(s);
}

/* O's keys, in order, joined by ",". */
static void keys_are(json_t *o, const char *want)
{
	char buf[2048] = "";
	const char *k;
	json_t *v;

	json_object_foreach (o, k, v) {
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, k);
	}
	assert_string_equal(buf, want);
}

/* ---- text helpers ---- */

static void test_time(void **state)
{
	char b[INSPECT_TIME_MAX];

	engine_inspect_time(0, b);
	assert_string_equal(b, "0001-01-01T00:00:00Z");
	engine_inspect_time(-5, b);
	assert_string_equal(b, "0001-01-01T00:00:00Z");
	engine_inspect_time(T0 * 1000000000LL, b);
	assert_string_equal(b, "2023-11-14T22:13:20Z");
	engine_inspect_time(T0 * 1000000000LL + 123456789, b);
	assert_string_equal(b, "2023-11-14T22:13:20.123456789Z");
	/* Go's RFC3339Nano drops trailing zeros of the fraction */
	engine_inspect_time(T0 * 1000000000LL + 500000000, b);
	assert_string_equal(b, "2023-11-14T22:13:20.5Z");
	engine_inspect_time(T0 * 1000000000LL + 1000, b);
	assert_string_equal(b, "2023-11-14T22:13:20.000001Z");

	engine_inspect_time_local(T0, b, sizeof(b)); /* TZ=UTC in main */
	assert_string_equal(b, "2023-11-14 22:13:20 +0000 UTC");
}

static void test_human_size(void **state)
{
	char b[32];

	engine_inspect_human_size(0, 3, b, sizeof(b));
	assert_string_equal(b, "0B");
	engine_inspect_human_size(999, 3, b, sizeof(b));
	assert_string_equal(b, "999B");
	engine_inspect_human_size(1000, 3, b, sizeof(b));
	assert_string_equal(b, "1kB");
	engine_inspect_human_size(4096, 3, b, sizeof(b));
	assert_string_equal(b, "4.1kB");
	engine_inspect_human_size(2129920, 3, b, sizeof(b));
	assert_string_equal(b, "2.13MB");
	engine_inspect_human_size(12290000, 4, b, sizeof(b));
	assert_string_equal(b, "12.29MB");
	engine_inspect_human_size(5000000000ULL, 3, b, sizeof(b));
	assert_string_equal(b, "5GB");
}

static void command_is(char **argv, bool trunc, const char *want)
{
	char *s = engine_inspect_command(argv, trunc);

	assert_non_null(s);
	if (strcmp(s, want))
		fail_msg("command: %s, want %s", s, want);
	free(s);
}

static void test_command(void **state)
{
	command_is((char *[]){"sleep", "100", NULL}, true, "\"sleep 100\"");
	/* the daemon quotes an argument with a space */
	command_is((char *[]){"sh", "-c", "exit 4", NULL}, true, "\"sh -c 'exit 4'\"");
	command_is((char *[]){NULL}, true, "\"\"");
	command_is(NULL, true, "\"\"");
	/* 20 code points stay; 21 become 19 and "…" */
	command_is((char *[]){"12345678901234567890", NULL}, true, "\"12345678901234567890\"");
	command_is((char *[]){"123456789012345678901", NULL}, true,
		   "\"1234567890123456789\xe2\x80\xa6\"");
	command_is((char *[]){"123456789012345678901", NULL}, false, "\"123456789012345678901\"");
	/* code points, not bytes: 21 "é" (42 bytes) */
	command_is(
	    (char *[]){"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		       NULL},
	    true,
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xe2\x80\xa6\"");
	/* strconv.Quote: escapes, control characters, invalid UTF-8, bidi */
	command_is((char *[]){"echo", "a\"b\\c", NULL}, false, "\"echo a\\\"b\\\\c\"");
	command_is((char *[]){"echo", "x\ny\tz\x01\x7f", NULL}, false,
		   "\"echo x\\ny\\tz\\x01\\x7f\"");
	command_is((char *[]){"echo", "\x1b[31mred", NULL}, false, "\"echo \\x1b[31mred\"");
	command_is((char *[]){"a\xff\xc3", NULL}, false, "\"a\\xff\\xc3\"");
	command_is((char *[]){"x\xe2\x80\xaey", NULL}, false, "\"x\\u202ey\"");
	command_is((char *[]){"\xc2\x9b", NULL}, false, "\"\\u009b\"");
	command_is((char *[]){"\xe2\x80\xa8", NULL}, false, "\"\\u2028\"");
	/* overlong and surrogate encodings are invalid bytes */
	command_is((char *[]){"\xc0\xaf\xed\xa0\x80", NULL}, false,
		   "\"\\xc0\\xaf\\xed\\xa0\\x80\"");
	/* the cut happens before quoting: an escape is never split */
	command_is((char *[]){"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", NULL}, true,
		   "\"\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\xe2\x80\xa6\"");
}

static void test_exit_code(void **state)
{
	struct container_record r = record();

	r.exit_code = 0;
	/* the record says running, the truth is exited: its monitor died */
	assert_int_equal(engine_inspect_exit_code(&r, CTR_EXITED), -1);
	assert_int_equal(engine_inspect_exit_code(&r, CTR_RUNNING), 0);
	r.state = CTR_EXITED;
	r.exit_code = 3;
	assert_int_equal(engine_inspect_exit_code(&r, CTR_EXITED), 3);
}

/* ---- containers ---- */

static void test_container_running(void **state)
{
	struct container_record r = record();
	struct err *e = NULL;
	json_t *o = NULL;

	assert_int_equal(engine_inspect_container(&r, CTR_RUNNING, &env0, &o, &e), 0);
	assert_null(e);
	keys_are(o, "Id,Created,Path,Args,State,Image,ResolvConfPath,HostnamePath,HostsPath,"
		    "LogPath,Name,RestartCount,Driver,Platform,MountLabel,ProcessLabel,"
		    "AppArmorProfile,ExecIDs,HostConfig,GraphDriver,Mounts,Config,"
		    "NetworkSettings");
	str_at(o, "Id", ID);
	str_at(o, "Created", "2023-11-14T22:13:20.123456789Z");
	str_at(o, "Path", "sleep");
	json_at(o, "Args", "[\"1000\"]");
	keys_are(at(o, "State"), "Status,Running,Paused,Restarting,OOMKilled,Dead,Pid,ExitCode,"
				 "Error,StartedAt,FinishedAt");
	str_at(o, "State.Status", "running");
	bool_at(o, "State.Running", true);
	bool_at(o, "State.Paused", false);
	bool_at(o, "State.Restarting", false);
	bool_at(o, "State.OOMKilled", false);
	bool_at(o, "State.Dead", false);
	int_at(o, "State.Pid", 4242);
	int_at(o, "State.ExitCode", 0);
	str_at(o, "State.Error", "");
	str_at(o, "State.StartedAt", "2023-11-14T22:13:21.5Z");
	str_at(o, "State.FinishedAt", "0001-01-01T00:00:00Z");
	str_at(o, "Image", IMG_ID);
	str_at(o, "ResolvConfPath", "/run/moat/containers/" ID "/resolv.conf");
	str_at(o, "HostnamePath", "/run/moat/containers/" ID "/hostname");
	str_at(o, "HostsPath", "/run/moat/containers/" ID "/hosts");
	str_at(o, "LogPath", "/var/lib/moat/containers/" ID "/json.log");
	str_at(o, "Name", "/web");
	int_at(o, "RestartCount", 0);
	str_at(o, "Driver", "overlay");
	str_at(o, "Platform", "linux");
	str_at(o, "AppArmorProfile", "");
	null_at(o, "ExecIDs");
	json_at(o, "HostConfig.LogConfig", "{\"Type\":\"json-file\",\"Config\":{}}");
	str_at(o, "HostConfig.NetworkMode", "none");
	json_at(o, "HostConfig.RestartPolicy", "{\"Name\":\"no\",\"MaximumRetryCount\":0}");
	bool_at(o, "HostConfig.AutoRemove", false);
	null_at(o, "HostConfig.CapAdd");
	null_at(o, "HostConfig.CapDrop");
	bool_at(o, "HostConfig.Privileged", false);
	bool_at(o, "HostConfig.ReadonlyRootfs", false);
	json_at(o, "HostConfig.SecurityOpt", "[\"no-new-privileges\"]");
	str_at(o, "HostConfig.UsernsMode", "root-range");
	null_at(o, "HostConfig.Init");
	null_at(o, "HostConfig.Binds");
	json_at(o, "GraphDriver",
		"{\"Data\":{\"UpperDir\":\"/var/lib/moat/containers/" ID "/upper\","
		"\"WorkDir\":\"/var/lib/moat/containers/" ID "/work\"},\"Name\":\"overlay\"}");
	assert_null(at(o, "SizeRw"));
	assert_null(at(o, "SizeRootFs"));
	json_at(o, "Mounts", "[]");
	str_at(o, "Config.Hostname", "4f2a9c0b1d2e");
	str_at(o, "Config.User", "");
	json_at(o, "Config.Env", "[\"PATH=/bin\",\"HOME=/root\"]");
	json_at(o, "Config.Cmd", "[\"sleep\",\"1000\"]");
	str_at(o, "Config.Image", "demo");
	str_at(o, "Config.WorkingDir", "/");
	null_at(o, "Config.Entrypoint");
	/* a later key wins; "b" alone is an empty value */
	json_at(o, "Config.Labels", "{\"a\":\"2\",\"b\":\"\",\"com.example.x\":\"y=z\"}");
	bool_at(o, "Config.Tty", false);
	bool_at(o, "Config.OpenStdin", false);
	assert_null(at(o, "Config.StopSignal"));
	assert_null(at(o, "Config.StopTimeout"));
	json_at(o, "NetworkSettings.Networks",
		"{\"none\":{\"NetworkID\":\"\",\"Aliases\":null,\"IPAddress\":\"\",\"IPPrefixLen\":"
		"0,\"Gateway\":\"\",\"MacAddress\":\"\"}}");
	json_at(o, "NetworkSettings.Ports", "{}");
	str_at(o, "NetworkSettings.IPAddress", "");
	json_decref(o);
}

static void test_container_states(void **state)
{
	struct container_record r = record();
	struct err *e = NULL;
	json_t *o = NULL;

	/* created: never started */
	r.state = CTR_CREATED;
	r.started = 0;
	r.pid = 0;
	assert_int_equal(engine_inspect_container(&r, CTR_CREATED, &env0, &o, &e), 0);
	str_at(o, "State.Status", "created");
	bool_at(o, "State.Running", false);
	int_at(o, "State.Pid", 0);
	str_at(o, "State.StartedAt", "0001-01-01T00:00:00Z");
	str_at(o, "ResolvConfPath", "");
	str_at(o, "HostsPath", "");
	json_decref(o);

	/* exited with 3 */
	r = record();
	r.state = CTR_EXITED;
	r.exit_code = 3;
	r.finished = (T0 + 60) * 1000000000LL;
	assert_int_equal(engine_inspect_container(&r, CTR_EXITED, &env0, &o, &e), 0);
	str_at(o, "State.Status", "exited");
	bool_at(o, "State.Running", false);
	int_at(o, "State.Pid", 0); /* the recorded pid is gone */
	int_at(o, "State.ExitCode", 3);
	str_at(o, "State.Error", "");
	str_at(o, "State.FinishedAt", "2023-11-14T22:14:20Z");
	str_at(o, "HostnamePath", "");
	json_decref(o);

	/* paused: running and paused, as Docker says */
	r = record();
	r.state = CTR_PAUSED;
	assert_int_equal(engine_inspect_container(&r, CTR_PAUSED, &env0, &o, &e), 0);
	str_at(o, "State.Status", "paused");
	bool_at(o, "State.Running", true);
	bool_at(o, "State.Paused", true);
	int_at(o, "State.Pid", 4242);
	json_decref(o);

	/* the monitor died: exited, code unknown, and said why */
	r = record();
	assert_int_equal(engine_inspect_container(&r, CTR_EXITED, &env0, &o, &e), 0);
	str_at(o, "State.Status", "exited");
	int_at(o, "State.ExitCode", -1);
	int_at(o, "State.Pid", 0);
	assert_true(strlen(json_string_value(at(o, "State.Error"))) > 0);
	json_decref(o);

	r = record();
	r.state = CTR_DEAD;
	assert_int_equal(engine_inspect_container(&r, CTR_DEAD, &env0, &o, &e), 0);
	bool_at(o, "State.Dead", true);
	str_at(o, "State.Status", "dead");
	json_decref(o);
}

/* A running container on a bridge network: what its start recorded
 * (net.json, read by the caller into env.net) is what inspect shows. */
static void test_container_network(void **state)
{
	struct container_record r = record();
	struct inspect_env env = env0;
	struct engine_port ports[2] = {
	    {.proto = NET_PROTO_TCP, .host_port = 8080, .ctr_port = 80, .fd = -1},
	    {.proto = NET_PROTO_UDP, .host_port = 5353, .ctr_port = 53, .fd = -1},
	};
	struct engine_net_state net = {.network = "web",
				       .ip = "10.89.0.2",
				       .gateway = "10.89.0.1",
				       .mac = "02:42:0a:59:00:02",
				       .prefix = 24,
				       .ports = ports,
				       .n_ports = 2};
	char *aliases[] = {"api", NULL};
	char *publish[] = {"8080:80", "127.0.0.1::53/udp", "8000-8001:90-91", "80", NULL};
	struct err *e = NULL;
	json_t *o = NULL;

	(void)state;
	assert_int_equal(net_addr_parse("127.0.0.1", &ports[1].host_ip, NULL), 0);
	r.net = "web";
	r.netreq.network_id = "ab12";
	r.netreq.aliases = aliases;
	r.netreq.publish_all = true;
	r.netreq.publish = publish;
	env.net = &net;
	assert_int_equal(engine_inspect_container(&r, CTR_RUNNING, &env, &o, &e), 0);
	str_at(o, "NetworkSettings.IPAddress", "10.89.0.2");
	int_at(o, "NetworkSettings.IPPrefixLen", 24);
	str_at(o, "NetworkSettings.Gateway", "10.89.0.1");
	str_at(o, "NetworkSettings.MacAddress", "02:42:0a:59:00:02");
	json_at(o, "NetworkSettings.Ports",
		"{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}],"
		"\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}]}");
	str_at(o, "NetworkSettings.Networks.web.NetworkID", "ab12");
	json_at(o, "NetworkSettings.Networks.web.Aliases", "[\"api\"]");
	str_at(o, "NetworkSettings.Networks.web.IPAddress", "10.89.0.2");
	bool_at(o, "HostConfig.PublishAllPorts", true);
	json_at(o, "HostConfig.PortBindings",
		"{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"},{\"HostIp\":\"\","
		"\"HostPort\":\"\"}],\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],"
		"\"90/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000\"}],"
		"\"91/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8001\"}]}");
	str_at(o, "HostConfig.NetworkMode", "web");
	json_decref(o);
	o = NULL;
	/* ps: the PORTS column */
	assert_int_equal(engine_inspect_ps_row(&r, CTR_RUNNING, &env, true, &o, &e), 0);
	str_at(o, "Ports", "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp");
	json_decref(o);
	/* the record's netreq is not the test's to free */
	r.netreq = (struct engine_netreq){0};
}

static void test_container_host_config(void **state)
{
	struct container_record r = record();
	struct inspect_env env = env0;
	struct err *e = NULL;
	json_t *o = NULL;

	r.caps = (sandbox_caps_default() | (1ULL << 13)) & ~1ULL; /* +NET_RAW -CHOWN */
	r.seccomp = "unconfined";
	r.landlock = false;
	r.rm = true;
	r.read_only = true;
	r.init = true;
	r.restart = "on-failure:3";
	r.log_max_size = 10 * 1024 * 1024;
	r.log_max_file = 3;
	r.stop_signal = 2;
	r.stop_timeout = 5;
	r.net = "host";
	r.apparmor = "moat-default";
	r.restart_count = 2;
	r.tty = true;
	r.stdin_open = true;
	env.size_rw = 1000;
	env.size_rootfs = 5001000;
	assert_int_equal(engine_inspect_container(&r, CTR_RUNNING, &env, &o, &e), 0);
	json_at(o, "HostConfig.CapAdd", "[\"CAP_NET_RAW\"]");
	json_at(o, "HostConfig.CapDrop", "[\"CAP_CHOWN\"]");
	json_at(o, "HostConfig.SecurityOpt",
		"[\"seccomp=unconfined\",\"landlock=off\",\"no-new-privileges\"]");
	bool_at(o, "HostConfig.AutoRemove", true);
	bool_at(o, "HostConfig.ReadonlyRootfs", true);
	bool_at(o, "HostConfig.Init", true);
	json_at(o, "HostConfig.RestartPolicy", "{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
	json_at(o, "HostConfig.LogConfig",
		"{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"10m\",\"max-file\":\"3\"}}");
	str_at(o, "HostConfig.NetworkMode", "host");
	json_at(o, "NetworkSettings.Networks",
		"{\"host\":{\"NetworkID\":\"\",\"Aliases\":null,\"IPAddress\":\"\",\"IPPrefixLen\":"
		"0,\"Gateway\":\"\",\"MacAddress\":\"\"}}");
	str_at(o, "Config.StopSignal", "SIGINT");
	int_at(o, "Config.StopTimeout", 5);
	bool_at(o, "Config.Tty", true);
	bool_at(o, "Config.OpenStdin", true);
	str_at(o, "AppArmorProfile", "moat-default");
	int_at(o, "RestartCount", 2);
	int_at(o, "SizeRw", 1000);
	int_at(o, "SizeRootFs", 5001000);
	/* the sizes sit where Docker has them: after GraphDriver */
	keys_are(o, "Id,Created,Path,Args,State,Image,ResolvConfPath,HostnamePath,HostsPath,"
		    "LogPath,Name,RestartCount,Driver,Platform,MountLabel,ProcessLabel,"
		    "AppArmorProfile,ExecIDs,HostConfig,GraphDriver,SizeRw,SizeRootFs,Mounts,"
		    "Config,NetworkSettings");
	json_decref(o);

	/* a size that is not a multiple of 1 KiB stays in bytes */
	r.log_max_size = 1500;
	r.log_max_file = 1;
	r.restart = "always";
	assert_int_equal(engine_inspect_container(&r, CTR_RUNNING, &env0, &o, &e), 0);
	json_at(o, "HostConfig.LogConfig.Config", "{\"max-size\":\"1500\",\"max-file\":\"1\"}");
	json_at(o, "HostConfig.RestartPolicy", "{\"Name\":\"always\",\"MaximumRetryCount\":0}");
	json_decref(o);
}

/* A container's strings may hold anything: invalid UTF-8 becomes U+FFFD
 * instead of losing the field (jansson refuses invalid strings). */
static void test_container_untrusted_strings(void **state)
{
	struct container_record r = record();
	struct err *e = NULL;
	json_t *o = NULL;

	r.argv = (char *[]){"/bin/\xff", "a\xc3", "\x1b]0;x\x07", NULL};
	r.labels = (char *[]){"k\xfe=v\xff", NULL};
	r.env = (char *[]){"A=\xc0\xaf", NULL};
	assert_int_equal(engine_inspect_container(&r, CTR_RUNNING, &env0, &o, &e), 0);
	str_at(o, "Path", "/bin/\xef\xbf\xbd");
	str_at(o, "Args.0", "a\xef\xbf\xbd");
	str_at(o, "Args.1", "\x1b]0;x\x07"); /* valid: jansson escapes it when printed */
	str_at(o, "Config.Env.0", "A=\xef\xbf\xbd\xef\xbf\xbd");
	json_at(o, "Config.Labels", "{\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\"}");
	json_decref(o);
}

/* ---- images ---- */

static void test_image(void **state)
{
	struct image_kv labels[] = {{"org.opencontainers.image.title", "demo"}};
	struct image_config c = {
	    .architecture = "amd64",
	    .os = "linux",
	    .env = (char *[]){"PATH=/bin", NULL},
	    .cmd = (char *[]){"/bin/sh", NULL},
	    .workdir = "/srv",
	    .user = "1000",
	    .stop_signal = "SIGQUIT",
	    .exposed_ports = (char *[]){"80/tcp", NULL},
	    .labels = labels,
	    .n_labels = 1,
	    .diff_ids = (char *[]){"sha256:aa", "sha256:bb", NULL},
	    .n_diff_ids = 2,
	};
	struct image img = {
	    .id = IMG_ID,
	    .names = (char *[]){"demo:latest", "demo:1", NULL},
	    .created = T0,
	    .size = 2129920,
	    .config = &c,
	};
	struct err *e = NULL;
	json_t *o = NULL;

	assert_int_equal(engine_inspect_image(&img, &o, &e), 0);
	keys_are(o, "Id,RepoTags,RepoDigests,Parent,Comment,Created,Author,Config,Architecture,Os,"
		    "Size,RootFS,MoatTrust");
	str_at(o, "Id", IMG_ID);
	json_at(o, "RepoTags", "[\"demo:latest\",\"demo:1\"]");
	json_at(o, "RepoDigests", "[]");
	str_at(o, "Created", "2023-11-14T22:13:20Z");
	json_at(o, "Config",
		"{\"User\":\"1000\",\"ExposedPorts\":{\"80/tcp\":{}},\"Env\":[\"PATH=/bin\"],"
		"\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/srv\",\"Entrypoint\":null,"
		"\"Labels\":{\"org.opencontainers.image.title\":\"demo\"},"
		"\"StopSignal\":\"SIGQUIT\"}");
	str_at(o, "Architecture", "amd64");
	str_at(o, "Os", "linux");
	int_at(o, "Size", 2129920);
	json_at(o, "RootFS", "{\"Type\":\"layers\",\"Layers\":[\"sha256:aa\",\"sha256:bb\"]}");
	json_at(o, "MoatTrust", "[]");
	json_decref(o);

	/* why the store holds it: the verified signature, without payloads */
	{
		struct image_trust t = {.source = (char *)"h:5000/a/demo:1",
					.rule = (char *)"sigstoreSigned",
					.key = (char *)"sha256:ab",
					.identity = (char *)"h:5000/a/demo:1",
					.digest = (char *)"sha256:cd",
					.payload = (char *)"secret-ish",
					.signed_at = 1700000000,
					.verified_at = 1700000001};
		img.trust = &t;
		img.n_trust = 1;
		assert_int_equal(engine_inspect_image(&img, &o, &e), 0);
		json_at(
		    o, "MoatTrust",
		    "[{\"Source\":\"h:5000/a/demo:1\",\"Rule\":\"sigstoreSigned\",\"Key\":"
		    "\"sha256:ab\",\"Identity\":\"h:5000/a/demo:1\",\"Digest\":\"sha256:cd\","
		    "\"Signed\":\"2023-11-14T22:13:20Z\",\"Verified\":\"2023-11-14T22:13:21Z\"}]");
		json_decref(o);
		img.trust = NULL;
		img.n_trust = 0;
	}

	/* an empty config: Docker's nulls */
	memset(&c, 0, sizeof(c));
	assert_int_equal(engine_inspect_image(&img, &o, &e), 0);
	json_at(o, "Config",
		"{\"User\":\"\",\"Env\":null,\"Cmd\":null,\"WorkingDir\":\"\","
		"\"Entrypoint\":null,\"Labels\":null}");
	json_at(o, "RootFS.Layers", "[]");
	json_decref(o);

	img.config = NULL;
	assert_true(engine_inspect_image(&img, &o, &e) < 0);
	assert_null(o);
	err_free(&e);
}

/* ---- ps rows ---- */

static void test_ps_row(void **state)
{
	struct container_record r = record();
	struct inspect_env env = env0;
	struct err *e = NULL;
	json_t *o = NULL;
	char *s;

	r.state = CTR_EXITED;
	r.exit_code = 3;
	r.finished = (T0 + 180) * 1000000000LL;
	assert_int_equal(engine_inspect_ps_row(&r, CTR_EXITED, &env, true, &o, &e), 0);
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(
	    s,
	    "{\"Command\":\"\\\"sleep 1000\\\"\",\"CreatedAt\":\"2023-11-14 22:13:20 +0000 UTC\","
	    "\"ID\":\"4f2a9c0b1d2e\",\"Image\":\"demo\",\"Labels\":\"a=2,b=,com.example.x=y=z\","
	    "\"LocalVolumes\":\"0\",\"Mounts\":\"\",\"Names\":\"web\",\"Networks\":\"none\","
	    "\"Ports\":\"\",\"RunningFor\":\"5 minutes ago\",\"Size\":\"0B\","
	    "\"State\":\"exited\",\"Status\":\"Exited (3) 2 minutes ago\"}");
	free(s);
	json_decref(o);

	/* --no-trunc, sizes, running, a long command */
	r = record();
	r.argv = (char *[]){"/probe", "sleep", "30", "marker-that-is-long", NULL};
	env.size_rw = 1000;
	env.size_rootfs = 5001000;
	assert_int_equal(engine_inspect_ps_row(&r, CTR_RUNNING, &env, false, &o, &e), 0);
	str_at(o, "ID", ID);
	str_at(o, "Command", "\"/probe sleep 30 marker-that-is-long\"");
	str_at(o, "Size", "1kB (virtual 5MB)");
	str_at(o, "Status", "Up 4 minutes");
	str_at(o, "State", "running");
	json_decref(o);
	assert_int_equal(engine_inspect_ps_row(&r, CTR_RUNNING, &env, true, &o, &e), 0);
	str_at(o, "Command", "\"/probe sleep 30 mar\xe2\x80\xa6\"");
	json_decref(o);

	/* a dead monitor: Exited (unknown), no duration */
	r = record();
	r.labels = NULL;
	assert_int_equal(engine_inspect_ps_row(&r, CTR_EXITED, &env0, true, &o, &e), 0);
	str_at(o, "Status", "Exited (unknown)");
	str_at(o, "Labels", "");
	json_decref(o);
}

/* ---- the size walk ---- */

static void write_file(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('x', f);
	fclose(f);
}

static void test_dir_size(void **state)
{
	char tmpl[] = "/tmp/moat-inspect-XXXXXX", p[512], big[] = "/tmp/moat-inspect-big-XXXXXX";
	char *d = mkdtemp(tmpl);
	int bfd = mkstemp(big);

	assert_non_null(d);
	assert_true(bfd >= 0);
	/* a large file outside, reachable through symlinks inside */
	assert_int_equal(ftruncate(bfd, 1 << 20), 0);
	close(bfd);
	snprintf(p, sizeof(p), "%s/a", d);
	write_file(p, 100);
	snprintf(p, sizeof(p), "%s/sub", d);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub/b", d);
	write_file(p, 20);
	/* a hard link is counted once */
	{
		char q[600];
		snprintf(q, sizeof(q), "%s/sub/b-link", d);
		assert_int_equal(link(p, q), 0);
	}
	/* a symlink counts its own length (strlen(big)), never its target */
	snprintf(p, sizeof(p), "%s/to-big", d);
	assert_int_equal(symlink(big, p), 0);
	snprintf(p, sizeof(p), "%s/to-dir", d);
	assert_int_equal(symlink("/tmp", p), 0);
	assert_int_equal(engine_inspect_dir_size(d), 100 + 20 + (int64_t)strlen(big) + 4);

	/* DIR itself must not be a symlink, and must exist */
	assert_true(engine_inspect_dir_size(p) < 0);
	snprintf(p, sizeof(p), "%s/none", d);
	assert_int_equal(engine_inspect_dir_size(p), -ENOENT);

	snprintf(p, sizeof(p), "rm -rf '%s' '%s'", d, big);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_human_size),
	    cmocka_unit_test(test_command),
	    cmocka_unit_test(test_exit_code),
	    cmocka_unit_test(test_container_running),
	    cmocka_unit_test(test_container_states),
	    cmocka_unit_test(test_container_network),
	    cmocka_unit_test(test_container_host_config),
	    cmocka_unit_test(test_container_untrusted_strings),
	    cmocka_unit_test(test_image),
	    cmocka_unit_test(test_ps_row),
	    cmocka_unit_test(test_dir_size),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
