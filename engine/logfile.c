/*
 * engine/logfile.c - json-file container logs: the writer with rotation, the
 * line codec (logfile_entry_encode, logfile_parse_line), the time parser and
 * formatter, and the log set's file names (see logfile.h). The `moat logs`
 * reader is engine/logread.c.
 *
 * Runs in: the writer in the per-container monitor, the parsers also in
 * `moat logs`; as the user the container's state belongs to, needing no
 * privilege.
 *
 * Invariants:
 *  - Every line the writer produces is one JSON object and "\n", valid
 *    UTF-8 whatever bytes the container printed. An entry is never split by
 *    a rotation, and a file passes max-size only when one entry alone does.
 *  - The log's directory is opened once; every file of the set is named
 *    relative to that fd and opened O_NOFOLLOW, so a symlink planted as
 *    PATH or PATH.1 is refused (renames and unlinks act on the link itself).
 *  - The pure half (logfile_entry_encode, logfile_parse_line,
 *    logs_parse_time, logs_format_time) touches no system state; the
 *    fuzzer reaches it.
 */
#include "engine/logfile_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"

#define NSEC 1000000000L
/* Entries are gathered and written with one write() up to this size. */
#define BATCH_MAX (128u * 1024)
/* Longest --since/--until value looked at. */
#define TIME_ARG_MAX 64

_Static_assert(BATCH_MAX >= LOGFILE_ENCODED_MAX(LOGFILE_PIECE), "an entry fits in a batch");

/* Years 0000-9999, the range RFC 3339 can spell. */
#define TIME_MIN INT64_C(-62167219200)
#define TIME_MAX INT64_C(253402300799)

/* ---- time: pure ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

void logs_format_time(const struct timespec *t, char *buf, size_t len)
{
	int64_t sec = t->tv_sec, days = sec / 86400, rem = sec % 86400, y;
	long ns = t->tv_nsec >= 0 && t->tv_nsec < NSEC ? t->tv_nsec : 0;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%09ldZ", y, m, d,
		 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), ns);
}

/* Copies S for an error message: printable ASCII, the rest as '?'. */
static void shown(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly WIDTH digits. */
static bool fixed_num(const char **p, const char *end, int width, unsigned *v)
{
	*v = 0;
	if (end - *p < width)
		return false;
	for (int i = 0; i < width; i++, (*p)++) {
		if (!is_digit(**p))
			return false;
		*v = *v * 10 + (unsigned)(**p - '0');
	}
	return true;
}

static bool lit(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return true;
	}
	return false;
}

/* 1-9 digits of a decimal fraction, as nanoseconds. */
static const char *fraction(const char **p, const char *end, long *ns)
{
	int n = 0;

	*ns = 0;
	while (*p < end && is_digit(**p)) {
		if (++n > 9)
			return "more than 9 fraction digits";
		*ns = *ns * 10 + (**p - '0');
		(*p)++;
	}
	if (n == 0)
		return "no digits after '.'";
	for (; n < 9; n++)
		*ns *= 10;
	return NULL;
}

/*
 * RFC 3339: YYYY-MM-DD[Thh[:mm[:ss[.fffffffff]]]][Z|+hh:mm|-hh:mm]. FULL
 * demands seconds and a zone (the "time" of a log line); otherwise the
 * shortenings Docker's --since accepts are allowed and a missing zone is
 * UTC. Returns NULL, or what is wrong.
 */
static const char *parse_rfc3339(const char *s, size_t n, bool full, struct timespec *out)
{
	const char *p = s, *end = s + n, *why;
	unsigned y, mon, day, hh = 0, mm = 0, ss = 0, oh, om;
	bool has_secs = false, has_zone = true;
	int64_t off = 0, secs;
	long ns = 0;

	if (!fixed_num(&p, end, 4, &y) || !lit(&p, end, '-') || !fixed_num(&p, end, 2, &mon) ||
	    !lit(&p, end, '-') || !fixed_num(&p, end, 2, &day))
		return "want a date YYYY-MM-DD";
	if (mon < 1 || mon > 12)
		return "month out of range";
	if (day < 1 || day > days_in_month(y, mon))
		return "day out of range";
	if (lit(&p, end, 'T')) {
		if (!fixed_num(&p, end, 2, &hh))
			return "want two digits of hour after 'T'";
		if (lit(&p, end, ':')) {
			if (!fixed_num(&p, end, 2, &mm))
				return "want two digits of minute";
			if (lit(&p, end, ':')) {
				if (!fixed_num(&p, end, 2, &ss))
					return "want two digits of second";
				has_secs = true;
				if (lit(&p, end, '.') && (why = fraction(&p, end, &ns)))
					return why;
			}
		}
	}
	if (hh > 23)
		return "hour out of range";
	if (mm > 59)
		return "minute out of range";
	if (ss > 59)
		return "second out of range";
	if (lit(&p, end, 'Z')) {
		off = 0;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1;

		if (!fixed_num(&p, end, 2, &oh) || !lit(&p, end, ':') ||
		    !fixed_num(&p, end, 2, &om))
			return "want a zone offset +hh:mm";
		if (oh > 23 || om > 59)
			return "zone offset out of range";
		off = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		has_zone = false;
	}
	if (p != end)
		return "unexpected characters after the time";
	if (full && (!has_secs || !has_zone))
		return "want YYYY-MM-DDThh:mm:ss with a zone";
	secs = days_from_civil(y, mon, day) * 86400 + hh * 3600 + mm * 60 + ss - off;
	if (secs < TIME_MIN || secs > TIME_MAX)
		return "out of range (years 0000-9999)";
	out->tv_sec = (time_t)secs;
	out->tv_nsec = ns;
	return NULL;
}

/* A Go duration (time.ParseDuration): [-+]?([0-9]*(\.[0-9]*)?unit)+ or
 * "0", in nanoseconds. */
static const char *parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1000},
	    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
	    {"ms", 1000000},
	    {"s", 1000000000},
	    {"m", UINT64_C(60) * 1000000000},
	    {"h", UINT64_C(3600) * 1000000000},
	};
	const uint64_t lim = UINT64_C(1) << 63;
	const char *p = s;
	uint64_t total = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*out = 0;
		return NULL;
	}
	if (!*p)
		return "invalid duration";
	while (*p) {
		uint64_t v = 0, f = 0, unit = 0;
		bool pre = false, post = false, frac_full = false;
		double scale = 1;
		size_t ulen = 0;

		if (*p != '.' && !is_digit(*p))
			return "invalid duration";
		for (; is_digit(*p); p++, pre = true) {
			if (v > lim / 10)
				return "duration out of range";
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > lim)
				return "duration out of range";
		}
		if (*p == '.') {
			/* As Go: digits past what 63 bits hold are dropped. */
			for (p++; is_digit(*p); p++, post = true) {
				if (frac_full || f > (lim - 1) / 10) {
					frac_full = true;
					continue;
				}
				f = f * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
		if (!pre && !post)
			return "invalid duration";
		while (p[ulen] && p[ulen] != '.' && !is_digit(p[ulen]))
			ulen++;
		if (ulen == 0)
			return "missing unit in duration (ns, us, ms, s, m, h)";
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (strlen(units[i].name) == ulen && !memcmp(p, units[i].name, ulen))
				unit = units[i].ns;
		if (!unit)
			return "unknown unit in duration (ns, us, ms, s, m, h)";
		p += ulen;
		if (v > lim / unit)
			return "duration out of range";
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return "duration out of range";
		}
		total += v;
		if (total > lim)
			return "duration out of range";
	}
	if (neg)
		*out = total == lim ? INT64_MIN : -(int64_t)total;
	else if (total == lim)
		return "duration out of range";
	else
		*out = (int64_t)total;
	return NULL;
}

/* Unix seconds, optionally with a fraction of 1-9 digits. */
static bool parse_unix(const char *s, struct timespec *out)
{
	const char *p = s, *end = s + strlen(s);
	int64_t sec = 0;
	long ns = 0;
	int n = 0;

	for (; p < end && is_digit(*p); p++) {
		if (++n > 12)
			return false;
		sec = sec * 10 + (*p - '0');
	}
	if (n == 0 || sec > TIME_MAX)
		return false;
	if (lit(&p, end, '.') && fraction(&p, end, &ns))
		return false;
	if (p != end)
		return false;
	out->tv_sec = (time_t)sec;
	out->tv_nsec = ns;
	return true;
}

int logs_parse_time(const char *s, const struct timespec *now, struct timespec *out,
		    struct err **err)
{
	char show[TIME_ARG_MAX + 1];
	const char *why, *dwhy;
	size_t n = s ? strlen(s) : 0;
	int64_t d;

	if (n == 0)
		return err_set(err, EINVAL, "invalid time \"\": empty");
	shown(s, n, show, sizeof(show));
	if (n > TIME_ARG_MAX)
		return err_set(err, EINVAL, "invalid time \"%s...\": too long", show);
	/* Docker's order: a duration first, except "0" which is Unix time 0. */
	dwhy = strcmp(s, "0") ? parse_duration(s, &d) : "";
	if (!dwhy) {
		int64_t sec, dsec = d / NSEC;
		long ns;

		if (!now || now->tv_nsec < 0 || now->tv_nsec >= NSEC)
			return err_set(err, EINVAL,
				       "invalid time \"%s\": a duration needs the time now", show);
		ns = now->tv_nsec - (long)(d % NSEC);
		if (__builtin_sub_overflow((int64_t)now->tv_sec, dsec, &sec))
			sec = dsec > 0 ? INT64_MIN : INT64_MAX;
		if (ns < 0) {
			ns += NSEC;
			sec = sec == INT64_MIN ? sec : sec - 1;
		} else if (ns >= NSEC) {
			ns -= NSEC;
			sec = sec == INT64_MAX ? sec : sec + 1;
		}
		if (sec < 0) /* before the epoch: every entry is later */
			sec = 0, ns = 0;
		out->tv_sec = (time_t)sec;
		out->tv_nsec = ns;
		return 0;
	}
	if (n >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	    s[4] == '-') {
		why = parse_rfc3339(s, n, false, out);
		if (why)
			return err_set(err, EINVAL, "invalid time \"%s\": %s", show, why);
		return 0;
	}
	if (parse_unix(s, out))
		return 0;
	/* A number with a unit or a sign ("10x", "1h5", "-") meant a duration:
	 * say what is wrong with it. */
	if (*dwhy && (is_digit(s[0]) || strchr(".+-", s[0])) && strspn(s, "0123456789.") < n)
		return err_set(err, EINVAL, "invalid time \"%s\": %s", show, dwhy);
	return err_set(err, EINVAL,
		       "invalid time \"%s\": want RFC 3339 (2026-11-28T06:00:00Z), a date "
		       "(2026-11-28), Unix seconds (1700000000.5) or a duration (10m, 1h30m)",
		       show);
}

/* ---- entries: pure ---- */

/* Length of the UTF-8 character at S (N bytes there): 1-4 when valid; 0 when
 * S[0] starts none; -1 when the N bytes are a valid start that N cuts. */
static int utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	int need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
		hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
	} else {
		return 0;
	}
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return -1;
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

/* How many bytes at the end of BUF[0..N) begin a character N cuts (0-3). */
static size_t utf8_cut(const char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)buf;

	for (size_t back = 1; back <= 3 && back <= n; back++)
		if ((s[n - back] & 0xC0) != 0x80)
			return utf8_char(s + n - back, back) < 0 ? back : 0;
	return 0;
}

size_t logfile_entry_encode(enum log_stream stream, const char *text, size_t len,
			    const struct timespec *t, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	char ts[LOGS_TIME_BUF], *p = buf;

	p = mempcpy(p, "{\"log\":\"", 8);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		int n;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*p++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*p++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*p++ = (char)c;
				break;
			case '\n':
				*p++ = 'n';
				break;
			case '\r':
				*p++ = 'r';
				break;
			case '\t':
				*p++ = 't';
				break;
			case '\b':
				*p++ = 'b';
				break;
			case '\f':
				*p++ = 'f';
				break;
			default:
				p = mempcpy(p, "u00", 3);
				*p++ = hex[c >> 4];
				*p++ = hex[c & 15];
				break;
			}
			i++;
			continue;
		}
		/* As Go's encoder (and so Docker): each byte that is not part of
		 * a valid character becomes one U+FFFD. */
		n = utf8_char(s + i, len - i);
		if (n <= 0) {
			p = mempcpy(p, "\\ufffd", 6);
			i++;
			continue;
		}
		p = mempcpy(p, s + i, (size_t)n);
		i += (size_t)n;
	}
	p = mempcpy(p, "\",\"stream\":\"", 12);
	p = mempcpy(p, stream == LOG_STDOUT ? "stdout" : "stderr", 6);
	p = mempcpy(p, "\",\"time\":\"", 10);
	logs_format_time(t, ts, sizeof(ts));
	p = mempcpy(p, ts, strlen(ts));
	p = mempcpy(p, "\"}\n", 3);
	return (size_t)(p - buf);
}

void log_entry_free(struct log_entry *e)
{
	free(e->text);
	memset(e, 0, sizeof(*e));
}

int logfile_parse_line(const char *line, size_t len, struct log_entry *e, struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	json_t *log = NULL, *stream = NULL, *tm = NULL, *v;
	char show[72];
	const char *key, *why;
	struct timespec t;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (len > LOGFILE_LINE_MAX)
		return err_set(err, EFBIG, "log line longer than %u bytes", LOGFILE_LINE_MAX);
	o = json_parse_strict(line, len, "log line", err);
	if (!o)
		return -EINVAL;
	if (!json_is_object(o))
		return err_set(err, EINVAL, "log line: not a JSON object");
	json_object_foreach (o, key, v) {
		if (!strcmp(key, "log")) {
			log = v;
		} else if (!strcmp(key, "stream")) {
			stream = v;
		} else if (!strcmp(key, "time")) {
			tm = v;
		} else if (!strcmp(key, "attrs")) {
			if (!json_is_object(v))
				return err_set(err, EINVAL,
					       "log line: \"attrs\" must be an object");
		} else {
			shown(key, strlen(key), show, sizeof(show));
			return err_set(err, EINVAL, "log line: unknown key \"%s\"", show);
		}
	}
	if (!log || !stream || !tm)
		return err_set(err, EINVAL, "log line: missing \"%s\"",
			       !log	 ? "log"
			       : !stream ? "stream"
					 : "time");
	if (!json_is_string(log) || !json_is_string(stream) || !json_is_string(tm))
		return err_set(err, EINVAL, "log line: \"%s\" must be a string",
			       !json_is_string(log)	 ? "log"
			       : !json_is_string(stream) ? "stream"
							 : "time");
	if (!strcmp(json_string_value(stream), "stdout") && json_string_length(stream) == 6) {
		e->stream = LOG_STDOUT;
	} else if (!strcmp(json_string_value(stream), "stderr") &&
		   json_string_length(stream) == 6) {
		e->stream = LOG_STDERR;
	} else {
		shown(json_string_value(stream), json_string_length(stream), show, sizeof(show));
		return err_set(err, EINVAL, "log line: bad stream \"%s\" (want stdout or stderr)",
			       show);
	}
	why = parse_rfc3339(json_string_value(tm), json_string_length(tm), true, &t);
	if (why) {
		e->stream = 0;
		shown(json_string_value(tm), json_string_length(tm), show, sizeof(show));
		return err_set(err, EINVAL, "log line: bad time \"%s\": %s", show, why);
	}
	n = json_string_length(log);
	e->text = malloc(n + 1);
	if (!e->text) {
		e->stream = 0;
		return err_errno(err, ENOMEM, "log line");
	}
	memcpy(e->text, json_string_value(log), n + 1);
	e->len = n;
	e->time = t;
	return 0;
}

/* ---- paths ---- */

/* Splits PATH into its directory ("." when none) and last component, which
 * must leave room for ".<max_file-1>". */
int logfile_split_path(const char *path, char **dir, const char **base, struct err **err)
{
	const char *slash;

	if (!path || !*path)
		return err_set(err, EINVAL, "log path is empty");
	slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return err_set(err, EINVAL, "log path \"%s\" does not name a file", path);
	if (strlen(*base) > NAME_MAX - 4)
		return err_set(err, ENAMETOOLONG, "log path \"%s\": name too long", path);
	if (!slash)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	if (!*dir)
		return err_errno(err, ENOMEM, "log path");
	return 0;
}

/* NAME_MAX - 4 leaves room for ".999" (LOGFILE_MAX_FILES - 1). */
void logfile_file_name(const char *base, unsigned k, char *buf, size_t len)
{
	if (k == 0)
		snprintf(buf, len, "%s", base);
	else
		snprintf(buf, len, "%s.%u", base, k);
}

int logfile_write_full(int fd, const char *buf, size_t len, size_t *done)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		if (done)
			*done += (size_t)n;
	}
	return 0;
}

/* ---- writer ---- */

struct tail {
	size_t len;
	char buf[LOGFILE_PIECE];
};

struct logfile {
	int dirfd, fd;
	char *path; /* for messages */
	const char *base;
	uint64_t max_size; /* 0: unlimited */
	unsigned max_file;
	uint64_t size; /* of the file behind fd, as far as we wrote it */
	struct tail tail[2];
	size_t blen;
	char batch[BATCH_MAX];
};

void logfile_close(struct logfile *l)
{
	if (!l)
		return;
	closep(&l->fd);
	closep(&l->dirfd);
	free(l->path);
	free(l);
}

static void logfile_closep(struct logfile **l)
{
	logfile_close(*l);
}

static int open_log(struct logfile *l, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* O_NONBLOCK: a FIFO planted as PATH must not hang the monitor. */
	fd = openat(l->dirfd, l->base,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		    0600);
	if (fd < 0)
		return err_errno(err, errno, "open log \"%s\"", l->path);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat log \"%s\"", l->path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "log \"%s\" is not a regular file", l->path);
	if (fcntl(fd, F_SETFL, O_APPEND) < 0)
		return err_errno(err, errno, "log \"%s\"", l->path);
	l->fd = steal_fd(fd);
	l->size = (uint64_t)st.st_size;
	return 0;
}

int logfile_open(const char *path, uint64_t max_size, unsigned max_file, struct logfile **out,
		 struct err **err)
{
	__attribute__((cleanup(logfile_closep))) struct logfile *l = NULL;
	_cleanup_free_ char *dir = NULL;
	int r;

	*out = NULL;
	if (max_file < 1 || max_file > LOGFILE_MAX_FILES)
		return err_set(err, EINVAL, "log max-file %u: want 1 to %u", max_file,
			       LOGFILE_MAX_FILES);
	l = calloc(1, sizeof(*l));
	if (!l)
		return err_errno(err, ENOMEM, "open log");
	l->fd = l->dirfd = -1;
	l->max_size = max_size;
	l->max_file = max_file;
	if ((r = logfile_split_path(path, &dir, &l->base, err)) < 0)
		return r;
	l->path = strdup(path);
	if (!l->path)
		return err_errno(err, ENOMEM, "open log");
	l->base = l->path + (l->base - path);
	l->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return err_errno(err, errno, "open log directory \"%s\"", dir);
	if ((r = open_log(l, err)) < 0)
		return r;
	*out = steal_ptr(l);
	return 0;
}

/* PATH.(n-1) removed, PATH.k -> PATH.(k+1), PATH -> PATH.1, new PATH. With
 * max-file 1 that is: PATH removed, new PATH. A reader following PATH keeps
 * its fd and notices the new inode. */
static int rotate(struct logfile *l, struct err **err)
{
	char from[NAME_MAX + 1], to[NAME_MAX + 1];

	logfile_file_name(l->base, l->max_file - 1, to, sizeof(to));
	if (unlinkat(l->dirfd, to, 0) < 0 && errno != ENOENT)
		return err_errno(err, errno, "rotate log \"%s\": remove \"%s\"", l->path, to);
	for (unsigned k = l->max_file - 1; k-- > 0;) {
		logfile_file_name(l->base, k, from, sizeof(from));
		logfile_file_name(l->base, k + 1, to, sizeof(to));
		if (renameat(l->dirfd, from, l->dirfd, to) < 0 && errno != ENOENT)
			return err_errno(err, errno, "rotate log \"%s\": rename \"%s\"", l->path,
					 from);
	}
	/* On failure from here fd stays -1 and the next write tries again. */
	closep(&l->fd);
	return open_log(l, err);
}

static int write_batch(struct logfile *l, size_t len, struct err **err)
{
	size_t done = 0;
	int r = logfile_write_full(l->fd, l->batch, len, &done);

	l->size += done;
	if (r < 0)
		return err_errno(err, -r, "write log \"%s\"", l->path);
	return 0;
}

/* Adds one entry to the batch, rotating first when it would take the file
 * past max-size. On failure the batch is dropped. */
static int emit(struct logfile *l, enum log_stream stream, const char *text, size_t len,
		const struct timespec *now, struct err **err)
{
	size_t n;
	int r;

	if (BATCH_MAX - l->blen < LOGFILE_ENCODED_MAX(len)) {
		r = write_batch(l, l->blen, err);
		l->blen = 0;
		if (r < 0)
			return r;
	}
	n = logfile_entry_encode(stream, text, len, now, l->batch + l->blen);
	if (l->max_size && l->size + l->blen + n > l->max_size && l->size + l->blen > 0) {
		r = write_batch(l, l->blen, err);
		if (r == 0) {
			memmove(l->batch, l->batch + l->blen, n);
			r = rotate(l, err);
		}
		l->blen = 0;
		if (r < 0)
			return r;
	}
	l->blen += n;
	return 0;
}

static int prepare(struct logfile *l, const struct timespec **now, struct timespec *clock,
		   struct err **err)
{
	if (!*now) {
		clock_gettime(CLOCK_REALTIME, clock);
		*now = clock;
	}
	if ((*now)->tv_nsec < 0 || (*now)->tv_nsec >= NSEC)
		return err_set(err, EINVAL, "log \"%s\": bad timestamp", l->path);
	if (l->fd < 0)
		return open_log(l, err);
	return 0;
}

int logfile_write(struct logfile *l, enum log_stream stream, const char *data, size_t len,
		  const struct timespec *now, struct err **err)
{
	struct timespec clock;
	struct tail *t;
	int r;

	if (stream != LOG_STDOUT && stream != LOG_STDERR)
		return err_set(err, EINVAL, "log \"%s\": bad stream %d", l->path, (int)stream);
	if ((r = prepare(l, &now, &clock, err)) < 0)
		return r;
	t = &l->tail[stream - 1];
	while (len > 0) {
		/* The tail is never kept full, so room > 0. A newline within
		 * room ends an entry of at most LOGFILE_PIECE bytes. */
		size_t room = LOGFILE_PIECE - t->len, n = len < room ? len : room;
		const char *nl = memchr(data, '\n', n);

		if (nl) {
			n = (size_t)(nl - data) + 1;
			if (t->len == 0) {
				r = emit(l, stream, data, n, now, err);
			} else {
				memcpy(t->buf + t->len, data, n);
				r = emit(l, stream, t->buf, t->len + n, now, err);
				t->len = 0;
			}
		} else {
			memcpy(t->buf + t->len, data, n);
			t->len += n;
			r = 0;
			if (t->len == LOGFILE_PIECE) {
				size_t keep = utf8_cut(t->buf, t->len);

				r = emit(l, stream, t->buf, t->len - keep, now, err);
				memmove(t->buf, t->buf + t->len - keep, keep);
				t->len = keep;
			}
		}
		if (r < 0)
			return r;
		data += n;
		len -= n;
	}
	r = write_batch(l, l->blen, err);
	l->blen = 0;
	return r;
}

int logfile_flush(struct logfile *l, const struct timespec *now, struct err **err)
{
	struct timespec clock;
	int r;

	if ((r = prepare(l, &now, &clock, err)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(l->tail); i++) {
		struct tail *t = &l->tail[i];

		if (t->len == 0)
			continue;
		r = emit(l, (enum log_stream)(i + 1), t->buf, t->len, now, err);
		t->len = 0;
		if (r < 0)
			return r;
	}
	r = write_batch(l, l->blen, err);
	l->blen = 0;
	return r;
}
