/*
 * Unit tests for engine/format_*.c (pure): Docker's --format templates over JSON, the table
 * header, the table writer and the command-line escapes. Expected strings are what Docker
 * (Go's text/template, fmt, encoding/json and text/tabwriter) prints for the same input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/format.h"

/* A `ps` row and an `inspect` object, in the shapes the CLI builds. */
static const char *row_json =
    "{\"ID\":\"4f2a9c\",\"Names\":\"web\",\"Image\":\"nginx:1.25\",\"Command\":\"\\\"nginx "
    "-g\\\"\","
    "\"Status\":\"Up 2 minutes\",\"State\":{\"Status\":\"running\",\"Pid\":4242,\"Health\":null},"
    "\"Labels\":{\"com.example\":\"yes\",\"a\":\"1\"},"
    "\"Mounts\":[{\"Source\":\"/srv/a\",\"Destination\":\"/a\"},{\"Source\":\"/srv/b\","
    "\"Destination\":\"/b\"}],"
    "\"Config\":{\"Env\":[\"PATH=/bin\",\"A=b\"],\"Cmd\":null,\"Tty\":false},"
    "\"N\":3,\"R\":1.5,\"Big\":1000000.0,\"Tiny\":0.00001,\"Neg\":-2,\"Ok\":true,"
    "\"Empty\":\"\",\"Nothing\":[],\"Mixed\":[1,\"a\",true,null,{\"k\":2}]}";

/* Parses TPL and renders it over JSON (NULL: no data). *OUT gets what was written. */
static int run(const char *tpl, const char *json, char **out, struct err **e)
{
	struct fmt_template *t = NULL;
	json_t *data = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (json)
		assert_non_null(data);
	*out = NULL;
	f = open_memstream(out, &len);
	assert_non_null(f);
	r = fmt_template_parse(tpl, &t, e);
	if (r == 0) {
		assert_non_null(t);
		r = fmt_template_render(t, data, f, e);
	} else {
		assert_null(t);
	}
	fclose(f);
	fmt_template_free(t);
	json_decref(data);
	return r;
}

static void expect(const char *tpl, const char *json, const char *want)
{
	struct err *e = NULL;
	char *out = NULL;
	int r = run(tpl, json, &out, &e);

	if (r != 0)
		print_error("template %s: %s\n", tpl, e ? e->msg : "?");
	assert_int_equal(r, 0);
	assert_null(e);
	if (strcmp(out, want))
		print_error("template %s\n  got  [%s]\n  want [%s]\n", tpl, out, want);
	assert_string_equal(out, want);
	free(out);
}

/* Fails with RC and exactly MSG, having written nothing. */
static void expect_err(const char *tpl, const char *json, int rc, const char *msg)
{
	struct err *e = NULL;
	char *out = NULL;
	int r = run(tpl, json, &out, &e);

	if (r != rc || !e || strcmp(e->msg, msg))
		print_error("template %s\n  got  %d [%s]\n  want %d [%s]\n", tpl, r,
			    e ? e->msg : "(no error)", rc, msg);
	assert_int_equal(r, rc);
	assert_non_null(e);
	assert_string_equal(e->msg, msg);
	assert_string_equal(out, "");
	free(out);
	err_free(&e);
}

/* Like expect_err, for messages whose location depends on where a limit was reached. */
static void expect_err_has(const char *tpl, const char *json, int rc, const char *part)
{
	struct err *e = NULL;
	char *out = NULL;
	int r = run(tpl, json, &out, &e);

	assert_int_equal(r, rc);
	assert_non_null(e);
	if (!strstr(e->msg, part))
		print_error("template %s: [%s] lacks [%s]\n", tpl, e->msg, part);
	assert_non_null(strstr(e->msg, part));
	assert_true(!strncmp(e->msg, "template: :1:", 13));
	assert_string_equal(out, "");
	free(out);
	err_free(&e);
}

static void test_docker_common(void **state)
{
	expect("{{.ID}}\t{{.Names}}", row_json, "4f2a9c\tweb");
	expect("{{.State.Status}}", row_json, "running");
	expect("{{range .Mounts}}{{.Source}}{{end}}", row_json, "/srv/a/srv/b");
	expect("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", row_json,
	       "/srv/a:/a /srv/b:/b ");
	expect("{{index .Labels \"com.example\"}}", row_json, "yes");
	expect("{{json .Config}}", row_json,
	       "{\"Env\":[\"PATH=/bin\",\"A=b\"],\"Cmd\":null,\"Tty\":false}");
	expect("{{json .State}}", row_json,
	       "{\"Status\":\"running\",\"Pid\":4242,\"Health\":null}");
	/* json keeps the stored member order; the whole row round-trips */
	expect("{{json .}}", "{\"b\":1,\"a\":[true,null,\"x\"],\"c\":{\"z\":1.5,\"y\":-0.25}}",
	       "{\"b\":1,\"a\":[true,null,\"x\"],\"c\":{\"z\":1.5,\"y\":-0.25}}");
	expect("{{.Command}}", row_json, "\"nginx -g\"");
	expect("{{.Config.Env}}", row_json, "[PATH=/bin A=b]");
	expect("{{join .Config.Env \",\"}}", row_json, "PATH=/bin,A=b");
	expect("{{.State.Pid}}", row_json, "4242");
	expect("plain text, no actions", row_json, "plain text, no actions");
	expect("", row_json, "");
}

static void test_missing_and_nil(void **state)
{
	expect("{{.Nope}}", row_json, "<no value>");
	expect("{{.Nope.Deeper.Still}}", row_json, "<no value>");
	expect("{{.State.Health}}", row_json, "<nil>");
	expect("{{.Config.Cmd}}", row_json, "<nil>");
	expect("{{index .Labels \"nope\"}}", row_json, "<no value>");
	expect("{{if .Nope}}yes{{else}}no{{end}}", row_json, "no");
	expect("{{if .State.Health}}yes{{else}}no{{end}}", row_json, "no");
	expect("{{range .Nope}}x{{else}}empty{{end}}", row_json, "empty");
	expect("{{range .Config.Cmd}}x{{else}}empty{{end}}", row_json, "empty");
	expect("{{print .Nope}}", row_json, "<nil>");
	expect("{{json .Nope}}", row_json, "null");
	/* no data at all: "." has no value */
	expect("{{.}}|{{.A}}", NULL, "<no value>|<no value>");
}

static void test_value_printing(void **state)
{
	expect("{{.N}} {{.Neg}} {{.R}} {{.Big}} {{.Tiny}} {{.Ok}}", row_json,
	       "3 -2 1.5 1e+06 1e-05 true");
	expect("{{.Mixed}}", row_json, "[1 a true <nil> map[k:2]]");
	expect("{{.Labels}}", row_json, "map[a:1 com.example:yes]");
	expect("{{.Nothing}}|{{.Empty}}|", row_json, "[]||");
	expect("{{1}} {{-3}} {{1.0}} {{2.50}} {{123456.0}} {{1234567.0}} {{0.0001}} {{1e100}}",
	       NULL, "1 -3 1 2.5 123456 1.234567e+06 0.0001 1e+100");
	expect("{{0x1F}} {{'a'}} {{'\\n'}} {{true}} {{false}}", NULL, "31 97 10 true false");
	expect("{{\"tab\\there\"}}|{{`raw\\t`}}|{{\"\\u00e9\\x41\\101\"}}", NULL,
	       "tab\there|raw\\t|\xc3\xa9"
	       "AA");
	expect("{{.}}", "[[1,[2,[]]],{}]", "[[1 [2 []]] map[]]");
	expect("{{.}}", "0.1", "0.1");
	expect("{{.}}", "-0.0", "-0");
}

static void test_json_function(void **state)
{
	expect(
	    "{{json .Empty}} {{json .N}} {{json .R}} {{json .Big}} {{json .Ok}} {{json .Nothing}}",
	    row_json, "\"\" 3 1.5 1000000 true []");
	expect("{{json 1e21}} {{json 1e20}} {{json 1e-7}} {{json 0.000001}}", NULL,
	       "1e+21 100000000000000000000 1e-7 0.000001");
	/* encoding/json escapes, HTML escaping off, U+2028/9 always escaped */
	expect("{{json .}}", "\"q\\\" b\\\\ \\n\\t\\r\\b\\f \\u0001 <&> \\u2028 \\u00e9\"",
	       "\"q\\\" b\\\\ \\n\\t\\r\\b\\f \\u0001 <&> \\u2028 \xc3\xa9\"");
	/* invalid UTF-8 (from a template escape) becomes U+FFFD */
	expect("{{json \"a\\xffb\"}}", NULL, "\"a\\ufffdb\"");
	expect("{{json .Labels}}", row_json, "{\"com.example\":\"yes\",\"a\":\"1\"}");
}

static void test_functions(void **state)
{
	expect("{{.Names | upper}} {{upper \"a-b\"}} {{lower \"MiXeD\"}}", row_json,
	       "WEB A-B mixed");
	expect("{{title \"hello wide_world-x 2nd\"}}", NULL, "Hello Wide_world-X 2nd");
	expect("{{join (split \"a,b,,c\" \",\") \"|\"}}", NULL, "a|b||c");
	expect("{{split \"a,b\" \",\"}} {{split \"\" \",\"}} {{split \"ab\" \"\"}} {{len (split "
	       "\"\" \"\")}}",
	       NULL, "[a b] [] [a b] 0");
	expect("{{len .Mounts}} {{len .ID}} {{len .Labels}} {{len \"\xc3\xa9\"}}", row_json,
	       "2 6 2 2");
	expect("{{truncate .ID 3}}|{{truncate .ID 99}}|{{truncate \"\xc3\xa9t\xc3\xa9\" 2}}|",
	       row_json, "4f2|4f2a9c|\xc3\xa9t|");
	expect("[{{pad .Names 2 1}}][{{pad \"\" 3 3}}]", row_json, "[  web ][]");
	expect("{{print 1 2 \"a\" \"b\" 3 .Nope}}|{{println \"x\" 1}}|{{print}}", row_json,
	       "1 2ab3 <nil>|x 1\n|");
	expect("{{index .Mounts 1 \"Source\"}} {{index .Mixed 4 \"k\"}} {{index .ID 0}}", row_json,
	       "/srv/b 2 52");
	expect("{{.ID | printf \"%s\" | printf \"[%s]\"}}", row_json, "[4f2a9c]");
	expect("{{3 | printf \"%d-%d\" 4}}", NULL, "4-3");
	expect("{{(index .Mounts 0).Source}}", row_json, "/srv/a");
	expect("{{not .Empty}} {{not .Ok}} {{not .Nothing}} {{not .Mixed}}", row_json,
	       "true false true false");
}

static void test_printf(void **state)
{
	expect("{{printf \"%-8s|%8s|%5d|%-5d|%05d|%+d\" .Names .Names .N .N .N .N}}", row_json,
	       "web     |     web|    3|3    |00003|+3");
	expect(
	    "{{printf \"%q %v %s %t %x %X %o %b %c %U\" .Names .Mixed .R .Ok 255 255 8 5 65 9731}}",
	    row_json,
	    "\"web\" [1 a true <nil> map[k:2]] %!s(float64=1.5) true ff FF 10 101 A U+2603");
	expect("{{printf \"%.2f|%8.3f|%e|%g|%v\" 3.14159 -2.5 1234.5 0.5 1e6}}", NULL,
	       "3.14|  -2.500|1.234500e+03|0.5|1e+06");
	expect("{{printf \"%.2s|%-4q|%x|%T|%T\" \"abcdef\" \"a\" \"hi\" .Labels .N}}", row_json,
	       "ab|\"a\" |6869|map[string]interface {}|int");
	expect("{{printf \"%d|%s|%v\" \"x\" 1 nil}}", NULL, "%!d(string=x)|%!s(int=1)|<nil>");
	expect("{{printf \"%d %d\" 1}}|{{printf \"%d\" 1 \"x\" 2}}|{{printf \"100%%\"}}", NULL,
	       "1 %!d(MISSING)|1%!(EXTRA string=x, int=2)|100%");
	expect("{{printf \"%*d|%-*d|\" 4 1 3 2}}", NULL, "   1|2  |");
	expect("{{printf \"%3d\" .Mixed}}", row_json,
	       "[  1 %!d(string=a) %!d(bool=true) %!d(<nil>) map[%!d(string=k):  2]]");
	expect("{{printf \"%q\" \"a\\\"b\\n\\x01\"}}", NULL, "\"a\\\"b\\n\\x01\"");
	expect("{{printf \"%\"}}|{{printf \"%9999999d\" 1}}", NULL, "%!(NOVERB)|%!(BADWIDTH)1");
}

static void test_comparisons(void **state)
{
	expect("{{eq .N 3}} {{eq .N 1 2 3}} {{eq .Names \"web\"}} {{eq .Ok true}} {{eq .Nope nil}}",
	       row_json, "true true true true true");
	expect("{{ne .N 3}} {{ne .Names \"db\"}} {{eq .N 3.0}} {{eq .State.Health .Nope}}",
	       row_json, "false true true true");
	expect("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 2}} {{lt \"a\" \"b\"}} {{gt \"ab\" \"a\"}} "
	       "{{lt 1 1.5}}",
	       NULL, "true true false true true true true");
	expect("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}|", NULL, "0 2 x |");
	/* and/or stop at the deciding argument: the failing index is never evaluated */
	expect("{{and false (index .Mixed 99)}} {{or true (index .Mixed 99)}}", row_json,
	       "false true");
	expect("{{if and .Ok (gt .N 2)}}big{{end}}", row_json, "big");
	expect("{{.N | eq 3}}", row_json, "true");
}

static void test_control(void **state)
{
	expect("{{if eq .N 1}}one{{else if eq .N 3}}three{{else}}other{{end}}", row_json, "three");
	expect("{{if .Empty}}a{{else if .Nothing}}b{{else}}c{{end}}", row_json, "c");
	expect("{{with .State}}{{.Status}}/{{$.Names}}{{end}}", row_json, "running/web");
	expect("{{with .Nope}}x{{else}}none{{end}}", row_json, "none");
	expect("{{with .Nope}}x{{else with .Names}}{{.}}{{end}}", row_json, "web");
	expect("{{range $i, $m := .Mounts}}{{$i}}={{$m.Source}};{{end}}", row_json,
	       "0=/srv/a;1=/srv/b;");
	expect("{{range $v := .Config.Env}}<{{$v}}>{{end}}", row_json, "<PATH=/bin><A=b>");
	/* objects range in sorted key order, like Go maps */
	expect("{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}", row_json,
	       "a=1,com.example=yes,");
	expect("{{range .Labels}}{{.}},{{end}}", row_json, "1,yes,");
	expect("{{range .Nothing}}x{{else}}none{{end}}", row_json, "none");
	expect("{{range .Mounts}}{{$.ID}}:{{.Source}} {{end}}", row_json,
	       "4f2a9c:/srv/a 4f2a9c:/srv/b ");
	expect("{{range .L}}{{if eq . \"skip\"}}{{continue}}{{end}}{{if eq . "
	       "\"stop\"}}{{break}}{{end}}"
	       "{{.}},{{end}}",
	       "{\"L\":[\"a\",\"skip\",\"b\",\"stop\",\"c\"]}", "a,b,");
	/* a break in an inner range leaves only that range */
	expect("{{range .A}}{{range $.B}}{{break}}x{{end}}{{.}}{{end}}", "{\"A\":[1,2],\"B\":[0]}",
	       "12");
	/* and a break in a range's else belongs to the range around it */
	expect("{{range .A}}{{.}}{{range $.C}}x{{else}}{{break}}{{end}}!{{end}}",
	       "{\"A\":[1,2],\"C\":[]}", "1");
	expect("{{$x := .N}}{{$x}}{{$x = 7}} {{$x}}", row_json, "3 7");
	expect("{{range .Mounts}}{{$s := .Source}}{{$s}}{{end}}", row_json, "/srv/a/srv/b");
	expect("{{$n := 0}}{{range .Mounts}}{{$n = .Source}}{{end}}{{$n}}", row_json, "/srv/b");
	expect("{{if $v := .Names}}{{$v}}{{end}}", row_json, "web");
}

static void test_trim_and_comments(void **state)
{
	expect("a  {{- .Names -}}  \n b", row_json, "awebb");
	expect("a {{-3}} b", NULL, "a -3 b");
	expect("{{/* a comment */}}x{{- /* trimmed */ -}}  y", NULL, "xy");
	expect("{{- /* only */ -}}", NULL, "");
	expect("{{.Names\n}}|{{\n.N}}", row_json, "web|3");
	expect("x\n{{- if .Ok }}\n  yes\n{{- end }}\n", row_json, "x\n  yes\n");
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *tpl, *msg;
	} cases[] = {
	    {"{{.ID", "template: :1:6: unclosed action"},
	    {"ok\nok {{.ID}}\n  {{.Names", "template: :3:11: unclosed action"},
	    {"{{end}}", "template: :1:3: unexpected {{end}}"},
	    {"{{else}}", "template: :1:3: unexpected {{else}}"},
	    {"{{foo .ID}}", "template: :1:3: function \"foo\" not defined"},
	    {"{{if .ID}}x", "template: :1:12: unexpected EOF"},
	    {"{{range .A}}x{{else}}y{{else}}z{{end}}",
	     "template: :1:25: expected end; found {{else}}"},
	    {"{{index .Labels \"x\"}", "template: :1:20: unexpected \"}\" in operand"},
	    {"{{.ID}", "template: :1:6: bad character U+007D '}'"},
	    {"{{.A-b}}", "template: :1:5: bad character U+002D '-'"},
	    {"{{(.ID}}", "template: :1:7: unclosed left paren"},
	    {"{{.ID)}}", "template: :1:6: unexpected right paren"},
	    {"{{\"abc}}", "template: :1:3: unterminated quoted string"},
	    {"{{`abc}}", "template: :1:3: unterminated raw quoted string"},
	    {"{{'ab'}}", "template: :1:3: malformed character constant: 'ab'"},
	    {"{{\"\\q\"}}", "template: :1:3: invalid syntax in quoted string \"\\q\""},
	    {"{{/* x", "template: :1:3: unclosed comment"},
	    {"{{/* x */ }}", "template: :1:10: comment ends before closing delimiter"},
	    {"{{1x}}", "template: :1:3: bad number syntax: \"1x\""},
	    {"{{99999999999999999999}}", "template: :1:3: 99999999999999999999 overflows int"},
	    {"{{$x}}", "template: :1:3: undefined variable \"$x\""},
	    {"{{if $x := 1}}{{end}}{{$x}}", "template: :1:24: undefined variable \"$x\""},
	    {"{{$y = 1}}", "template: :1:3: undefined variable \"$y\""},
	    {"{{range $i, $v, $w := .A}}{{end}}",
	     "template: :1:13: too many declarations in range"},
	    {"{{if $a, $b := .A}}{{end}}", "template: :1:6: too many declarations in if"},
	    {"{{range $i, 1}}{{end}}", "template: :1:13: range can only initialize variables"},
	    {"{{}}", "template: :1:3: missing value for command"},
	    {"{{if}}{{end}}", "template: :1:5: missing value for if"},
	    {"{{.ID | \"x\"}}", "template: :1:9: non executable command in pipeline stage 2"},
	    {"{{.ID | }}", "template: :1:9: unexpected \"}}\" in command"},
	    {"{{(.ID |)}}", "template: :1:9: unexpected \")\" in parenthesized pipeline"},
	    {"{{.ID | | upper}}", "template: :1:9: unexpected \"|\" in command"},
	    {"{{\"a\".X}}", "template: :1:6: unexpected . after term \"\\\"a\\\"\""},
	    {"{{define \"x\"}}{{end}}", "template: :1:3: {{define}} is not supported"},
	    {"{{template \"x\"}}", "template: :1:3: {{template}} is not supported"},
	    {"{{break}}", "template: :1:3: {{break}} outside {{range}}"},
	    {"{{range .A}}{{continue 1}}{{end}}",
	     "template: :1:24: unexpected \"1\" in {{continue}}"},
	    {"{{end 1}}", "template: :1:7: unexpected \"1\" in end"},
	    {"{{.ID := 1}}", "template: :1:7: unexpected \":=\" in operand"},
	    {"{{.ID\x01}}", "template: :1:6: bad character U+0001"},
	    {"{{\x01}}", "template: :1:3: unrecognized character in action: U+0001"},
	    {"{{.X: 1}}", "template: :1:5: expected :="},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].tpl, row_json, -EINVAL, cases[i].msg);
}

static void test_runtime_errors(void **state)
{
	expect_err(
	    "{{.ID.X}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <.ID.X>: can't evaluate field X in type string");
	expect_err(
	    "{{range .Mounts}}{{.Source.Path}}{{end}}", row_json, -EINVAL,
	    "template: :1:20: executing \"\" at <.Source.Path>: can't evaluate field Path in "
	    "type string");
	expect_err("{{.Mixed.X}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <.Mixed.X>: can't evaluate field X in type "
		   "[]interface {}");
	expect_err(
	    "{{.State.Health.Status}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <.State.Health.Status>: nil pointer evaluating "
	    "interface {}.Status");
	expect_err(
	    "{{index .N 1}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <index .N 1>: error calling index: can't index "
	    "item of type int");
	expect_err(
	    "{{index .Mounts 5}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <index .Mounts 5>: error calling index: index "
	    "out of range: 5");
	expect_err(
	    "{{index .Labels 1}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <index .Labels 1>: error calling index: value "
	    "has type int; should be string");
	expect_err(
	    "{{index .Nope 1}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <index .Nope 1>: error calling index: index of "
	    "untyped nil");
	expect_err(
	    "{{printf}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <printf>: wrong number of args for printf: want "
	    "at least 1 got 0");
	expect_err("{{upper .ID .ID}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <upper .ID .ID>: wrong number of args for "
		   "upper: want 1 got 2");
	expect_err("{{.ID | join \",\"}}", row_json, -EINVAL,
		   "template: :1:9: executing \"\" at <join \",\">: wrong type for value; expected "
		   "[]string; got string");
	expect_err("{{range .N}}x{{end}}", row_json, -EINVAL,
		   "template: :1:9: executing \"\" at <.N>: range can't iterate over 3");
	expect_err("{{range .Names}}x{{end}}", row_json, -EINVAL,
		   "template: :1:9: executing \"\" at <.Names>: range can't iterate over web");
	expect_err("{{\"x\" \"y\"}}", NULL, -EINVAL,
		   "template: :1:3: executing \"\" at <\"x\">: can't give argument to non-function "
		   "\"x\"");
	expect_err("{{.ID 1}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <.ID>: ID is not a method but has arguments");
	expect_err("{{nil}}", NULL, -EINVAL,
		   "template: :1:3: executing \"\" at <nil>: nil is not a command");
	expect_err("{{upper .N}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <upper .N>: wrong type for value; expected "
		   "string; got int");
	expect_err(
	    "{{upper .Nope}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <upper .Nope>: invalid value; expected string");
	expect_err("{{truncate .ID \"2\"}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <truncate .ID \"2\">: wrong type for value; "
		   "expected int; got string");
	expect_err("{{truncate .ID -1}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <truncate .ID -1>: error calling truncate: "
		   "slice bounds out of range [:-1]");
	expect_err("{{pad .ID -1 0}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <pad .ID -1 0>: error calling pad: negative "
		   "Repeat count");
	expect_err(
	    "{{len .N}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <len .N>: error calling len: len of type int");
	expect_err("{{len .Config.Cmd}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <len .Config.Cmd>: error calling len: len of "
		   "nil pointer");
	expect_err(
	    "{{eq .N \"3\"}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <eq .N \"3\">: error calling eq: incompatible "
	    "types for comparison");
	expect_err(
	    "{{eq .N}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <eq .N>: error calling eq: missing argument for "
	    "comparison");
	expect_err(
	    "{{lt .Ok true}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <lt .Ok true>: error calling lt: invalid type "
	    "for comparison");
	expect_err("{{eq .Mounts .Mounts}}", row_json, -EINVAL,
		   "template: :1:3: executing \"\" at <eq .Mounts .Mounts>: error calling eq: "
		   "non-comparable type []interface {}");
	/* the location is the failing command's, also on a later line */
	expect_err(
	    "{{.ID}}\n  {{.Names.First}}", row_json, -EINVAL,
	    "template: :2:5: executing \"\" at <.Names.First>: can't evaluate field First in "
	    "type string");
	/* long commands are cut to 20 characters in the message */
	expect_err("{{printf \"%s %s %s\" .ID .ID .ID .N.X}}", row_json, -EINVAL,
		   "template: :1:33: executing \"\" at <.N.X>: can't evaluate field X in type int");
	expect_err(
	    "{{index .Labels \"com.example\" \"x\"}}", row_json, -EINVAL,
	    "template: :1:3: executing \"\" at <index .Labels \"com.e...>: error calling index: "
	    "cannot index slice/array with type string");
}

/* Output is all or nothing: text before a failing action is not written either. */
static void test_no_partial_output(void **state)
{
	expect_err(
	    "lots of text first {{.Names}} {{.ID.X}}", row_json, -EINVAL,
	    "template: :1:33: executing \"\" at <.ID.X>: can't evaluate field X in type string");
}

static void test_limits(void **state)
{
	char *big = malloc(FMT_MAX_SIZE + 2), *deep = malloc(64 * 20 + 64 * 8 + 8);
	struct fmt_template *t = NULL;
	struct err *e = NULL;
	char *out = NULL;
	size_t k = 0;
	json_t *v, *root;
	FILE *f;

	/* template size */
	memset(big, 'a', FMT_MAX_SIZE + 1);
	big[FMT_MAX_SIZE + 1] = 0;
	assert_int_equal(fmt_template_parse(big, &t, &e), -E2BIG);
	assert_string_equal(e->msg, "template: longer than 65536 bytes");
	assert_null(t);
	err_free(&e);
	big[FMT_MAX_SIZE] = 0;
	assert_int_equal(fmt_template_parse(big, &t, &e), 0);
	fmt_template_free(t);
	free(big);

	/* nesting: 64 levels of if parse and render, 65 do not */
	for (int i = 0; i < 64; i++)
		k += (size_t)sprintf(deep + k, "{{if 1}}");
	k += (size_t)sprintf(deep + k, "x");
	for (int i = 0; i < 64; i++)
		k += (size_t)sprintf(deep + k, "{{end}}");
	expect(deep, NULL, "x");
	memmove(deep + 8, deep, k + 1);
	memcpy(deep, "{{if 1}}", 8);
	strcat(deep, "{{end}}");
	expect_err(deep, NULL, -EINVAL, "template: :1:515: nested deeper than 64 levels");
	free(deep);

	/* parentheses count too */
	deep = malloc(200);
	k = (size_t)sprintf(deep, "{{");
	for (int i = 0; i < 64; i++)
		deep[k++] = '(';
	deep[k++] = '1';
	for (int i = 0; i < 64; i++)
		deep[k++] = ')';
	strcpy(deep + k, "}}");
	expect(deep, NULL, "1");
	memmove(deep + 3, deep + 2, strlen(deep + 2) + 1);
	deep[2] = '(';
	k = strlen(deep);
	memmove(deep + k - 1, deep + k - 2, 3);
	deep[k - 2] = ')';
	expect_err(deep, NULL, -EINVAL, "template: :1:67: nested deeper than 64 levels");
	free(deep);

	/* evaluation steps: 10^7 iterations are refused, not run */
	expect_err_has(
	    "{{range .L}}{{range $.L}}{{range $.L}}{{range $.L}}{{range $.L}}{{range $.L}}"
	    "{{range $.L}}{{end}}{{end}}{{end}}{{end}}{{end}}{{end}}{{end}}",
	    "{\"L\":[0,1,2,3,4,5,6,7,8,9]}", -E2BIG, "more than 1048576 evaluation steps");

	/* empty bodies do not make iterations free: 2000 x 2000 of them are too many */
	big = malloc(2000 * 5 + 16);
	k = (size_t)sprintf(big, "{\"L\":[0");
	for (int i = 1; i < 2000; i++)
		k += (size_t)sprintf(big + k, ",%d", i);
	strcpy(big + k, "]}");
	expect_err_has("{{range .L}}{{range $.L}}{{end}}{{end}}", big, -E2BIG,
		       "more than 1048576 evaluation steps");
	expect("{{range .L}}{{end}}{{len .L}}", big, "2000");
	free(big);

	/* output size: 17 copies of a 1 MiB string */
	root = json_object();
	big = malloc(1 << 20);
	memset(big, 'x', 1 << 20);
	json_object_set_new(root, "S", json_stringn(big, 1 << 20));
	json_object_set_new(root, "L",
			    json_loads("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]", 0, NULL));
	free(big);
	assert_int_equal(fmt_template_parse("{{range .L}}{{$.S}}{{end}}", &t, &e), 0);
	f = open_memstream(&out, &k);
	assert_int_equal(fmt_template_render(t, root, f, &e), -E2BIG);
	fclose(f);
	assert_string_equal(out, "");
	assert_string_equal(e->msg, "template: :1:15: executing \"\" at <$.S>: output larger than "
				    "16777216 bytes");
	err_free(&e);
	free(out);
	fmt_template_free(t);

	/* and the same through a function's result */
	assert_int_equal(fmt_template_parse("{{pad .S 16777216 0}}", &t, &e), 0);
	f = open_memstream(&out, &k);
	assert_int_equal(fmt_template_render(t, root, f, &e), -E2BIG);
	fclose(f);
	assert_non_null(strstr(e->msg, "output larger than 16777216 bytes"));
	err_free(&e);
	free(out);
	fmt_template_free(t);
	json_decref(root);

	/* values nested deeper than 64 levels are not printed */
	v = json_array();
	for (int i = 0; i < 70; i++) {
		json_t *outer = json_array();

		json_array_append_new(outer, v);
		v = outer;
	}
	root = json_object();
	json_object_set_new(root, "D", v);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fmt_template_parse(i ? "{{json .D}}" : "{{.D}}", &t, &e), 0);
		f = open_memstream(&out, &k);
		assert_int_equal(fmt_template_render(t, root, f, &e), -EINVAL);
		fclose(f);
		assert_string_equal(out, "");
		assert_non_null(strstr(e->msg, "value nested deeper than 64 levels"));
		err_free(&e);
		free(out);
		fmt_template_free(t);
	}
	json_decref(root);
}

static void test_table_parse(void **state)
{
	struct fmt_template *t = (struct fmt_template *)1;
	struct err *e = NULL;
	char *out = NULL;

	assert_true(fmt_template_default_table("table"));
	assert_true(fmt_template_default_table("  table\t\n"));
	assert_false(fmt_template_default_table("table {{.ID}}"));
	assert_false(fmt_template_default_table("tables"));
	assert_false(fmt_template_default_table("{{.ID}}"));
	assert_false(fmt_template_default_table(NULL));

	/* "table" alone: the caller's default, reported as success without a template */
	assert_int_equal(fmt_template_parse(" table ", &t, &e), 0);
	assert_null(t);
	assert_null(e);

	assert_int_equal(fmt_template_parse("table {{.ID}}\t{{.Image}}  ", &t, &e), 0);
	assert_true(fmt_template_is_table(t));
	fmt_template_free(t);
	assert_int_equal(fmt_template_parse("table{{.ID}}", &t, &e), 0);
	assert_true(fmt_template_is_table(t));
	fmt_template_free(t);
	assert_int_equal(fmt_template_parse("{{.ID}}\t{{.Image}}", &t, &e), 0);
	assert_false(fmt_template_is_table(t));
	fmt_template_free(t);
	assert_false(fmt_template_is_table(NULL));

	/* the rows of a table render without "table" and the spaces around the rest */
	assert_int_equal(run("table   {{.ID}}\t{{.Image}}  ", row_json, &out, &e), 0);
	assert_string_equal(out, "4f2a9c\tnginx:1.25");
	free(out);
	/* not a table: "tables" is text */
	expect("tables {{.N}}", row_json, "tables 3");
	/* error positions count from the start of what the user wrote */
	expect_err("table {{.ID}", row_json, -EINVAL, "template: :1:12: bad character U+007D '}'");

	assert_int_equal(fmt_template_parse(NULL, &t, &e), -EINVAL);
	assert_string_equal(e->msg, "template: no template given");
	err_free(&e);
	assert_int_equal(fmt_template_render(NULL, NULL, stdout, &e), -EINVAL);
	err_free(&e);
	fmt_template_free(NULL);
}

static const char *docker_header(const char *field)
{
	static const struct {
		const char *field, *header;
	} names[] = {
	    {"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Names", "NAMES"}, {"Status", "STATUS"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(field, names[i].field))
			return names[i].header;
	return NULL;
}

static void expect_header(const char *tpl, const char *(*header)(const char *), const char *want)
{
	struct fmt_template *t = NULL;
	struct err *e = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(fmt_template_parse(tpl, &t, &e), 0);
	assert_int_equal(fmt_template_header(t, header, f, &e), 0);
	fclose(f);
	if (strcmp(out, want))
		print_error("header of %s\n  got  [%s]\n  want [%s]\n", tpl, out, want);
	assert_string_equal(out, want);
	free(out);
	fmt_template_free(t);
}

static void test_header(void **state)
{
	struct err *e = NULL;

	expect_header("table {{.ID}}\t{{.Image}}\t{{.Names}}", docker_header,
		      "CONTAINER ID\tIMAGE\tNAMES");
	expect_header("table {{.ID}}\t{{.Image}}\t{{.Names}}", NULL, "ID\tIMAGE\tNAMES");
	expect_header("table {{.Names | upper}}\t{{json .Config}}\t{{truncate .ID 12}}",
		      docker_header, "NAMES\tCONFIG\tCONTAINER ID");
	expect_header("table {{.State.Status}}|{{printf \"%s\" .RunningFor}}", docker_header,
		      "STATE.STATUS|RUNNINGFOR");
	expect_header("table [{{pad .ID 1 2}}]", docker_header, "[ CONTAINER ID  ]");
	expect_header("table {{if .Ports}}{{.Ports}}{{end}}\t{{range .Mounts}}{{.Source}}{{end}}",
		      NULL, "PORTS\tMOUNTS");
	expect_header("table {{$x := .ID}}{{\"lit\"}}{{$}}{{.}}\t{{$.Status}}", docker_header,
		      "\tSTATUS");
	expect_header("{{(.ID)}}", docker_header, "CONTAINER ID");
	assert_int_equal(fmt_template_header(NULL, NULL, stdout, &e), -EINVAL);
	err_free(&e);
}

static void expect_table(char *const *lines, size_t n, const char *want)
{
	struct err *e = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(fmt_table_write(f, lines, n, &e), 0);
	fclose(f);
	if (strcmp(out, want))
		print_error("table\n  got  [%s]\n  want [%s]\n", out, want);
	assert_string_equal(out, want);
	free(out);
}

static void test_table_write(void **state)
{
	char *ps[] = {"CONTAINER ID\tIMAGE\tCOMMAND\tNAMES",
		      "4f2a9c\tnginx:1.25\t\"nginx -g\"\tweb",
		      "77e1\tredis\t\"redis-server\"\tcache"};
	char *blocks[] = {"a\tb", "no tabs", "dddddddddddd\te"};
	char *ragged[] = {"a\tb\tc", "aa\tbbbbbbbbbbbbbbb"};
	char *wide[] = {"\xc3\xa9t\xc3\xa9\tx", "ab\ty"};
	char *trailing[] = {"a\t", "bb\t"};
	char *embedded[] = {"a\tb\nccccccccccccc\td"};
	char *formfeed[] = {"a\tb\fcccccccccccccc\td"};
	char *empty[] = {NULL, "x"};
	char buf[8];
	struct err *e = NULL;
	FILE *ro;

	expect_table(ps, 3,
		     "CONTAINER ID   IMAGE        COMMAND          NAMES\n"
		     "4f2a9c         nginx:1.25   \"nginx -g\"       web\n"
		     "77e1           redis        \"redis-server\"   cache\n");
	/* a row without the column ends its block: each block has its own width */
	expect_table(blocks, 3, "a         b\nno tabs\ndddddddddddd   e\n");
	/* column 1 exists only in the first row; the last cell is never padded */
	expect_table(ragged, 2, "a         b         c\naa        bbbbbbbbbbbbbbb\n");
	/* width counts code points, not bytes */
	expect_table(wide, 2, "\xc3\xa9t\xc3\xa9       x\nab        y\n");
	/* a cell ended by a tab is padded even when nothing follows it */
	expect_table(trailing, 2, "a         \nbb        \n");
	/* a newline inside a row starts a row of the same block */
	expect_table(embedded, 1, "a               b\nccccccccccccc   d\n");
	/* a form feed ends every block (and prints as a newline) */
	expect_table(formfeed, 1, "a         b\ncccccccccccccc   d\n");
	expect_table(empty, 2, "\nx\n");
	expect_table(NULL, 0, "");

	/* a stream that cannot be written */
	ro = fmemopen(buf, sizeof(buf), "r");
	assert_non_null(ro);
	assert_int_equal(fmt_table_write(ro, ps, 3, &e), -EIO);
	assert_non_null(strstr(e->msg, "table: writing the output"));
	err_free(&e);
	fclose(ro);
}

static void test_unescape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"{{.ID}}\\t{{.Names}}\\n", "{{.ID}}\t{{.Names}}\n"},
	    {"\\\\t", "\\\t"},
	    {"\\x \\r \\", "\\x \\r \\"},
	    {"", ""},
	    {"tab\there", "tab\there"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = fmt_unescape(cases[i].in);

		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	assert_null(fmt_unescape(NULL));
}

/* One parsed template renders many rows, as ps does, without keeping state between them. */
static void test_reuse(void **state)
{
	struct fmt_template *t = NULL;
	struct err *e = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	json_t *a = json_loads("{\"ID\":\"a\",\"L\":[1,2]}", 0, NULL);
	json_t *b = json_loads("{\"ID\":\"b\",\"L\":[]}", 0, NULL);

	assert_int_equal(
	    fmt_template_parse("{{$n := 0}}{{range .L}}{{$n = .}}{{end}}{{.ID}}{{$n}};", &t, &e),
	    0);
	assert_int_equal(fmt_template_render(t, a, f, &e), 0);
	assert_int_equal(fmt_template_render(t, b, f, &e), 0);
	assert_int_equal(fmt_template_render(t, a, f, &e), 0);
	fclose(f);
	assert_string_equal(out, "a2;b0;a2;");
	/* the data was only read */
	assert_int_equal(json_array_size(json_object_get(a, "L")), 2);
	free(out);
	fmt_template_free(t);
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_common),
	    cmocka_unit_test(test_missing_and_nil),
	    cmocka_unit_test(test_value_printing),
	    cmocka_unit_test(test_json_function),
	    cmocka_unit_test(test_functions),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_comparisons),
	    cmocka_unit_test(test_control),
	    cmocka_unit_test(test_trim_and_comments),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_runtime_errors),
	    cmocka_unit_test(test_no_partial_output),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_table_parse),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_table_write),
	    cmocka_unit_test(test_unescape),
	    cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
