#!/usr/bin/env bats
# `moat trust show` and `moat trust set`: where the policy comes from, the
# table of requirements, --raw as JSON that reads back as the same policy,
# edits to the user's file and to a --trust-policy file, and every refusal
# (125, one "moat: ..." line, no file touched).
#
# Every test points XDG_CONFIG_HOME at its own directory, so the user's
# policy file is under $MOAT_T, never in a real home. The system file
# (/etc/moat/trust-policy.json) is never written: that a user file cannot
# loosen a system "reject" is tested in tests/unit/test_trust_files.c,
# where the system path is a parameter.

load ../lib/helpers

setup() {
	unset MOAT_TRUST_POLICY
	CFG=$MOAT_T/scratch/cfg.$BATS_TEST_NUMBER
	as_identity mkdir -p "$CFG"
	UFILE=$CFG/moat/trust-policy.json
	# Any readable file will do as a key: `trust set` checks that it
	# exists and stores its absolute path; the crypto is sign.bats's.
	KEY=$CFG/key.pub
	as_identity sh -c "printf '%s\n' '-----BEGIN PUBLIC KEY-----' \
		'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=' \
		'-----END PUBLIC KEY-----' >'$KEY'"
}

# moat as the identity under test, with this test's config directory.
mt() {
	MOAT_ENV_EXTRA="XDG_CONFIG_HOME=$CFG ${MOAT_ENV_EXTRA:-}" moat_as "$@"
}

system_policy_exists() { [[ -e /etc/moat/trust-policy.json ]]; }

# assert_row SCOPE TYPE KEYS IDENTITY: `trust show` printed that row. The
# table pads columns with at least three spaces, and no cell holds three
# spaces in a row, so a run of them is a column break.
assert_row() {
	local want="$1|$2|$3|$4"
	sed -E 's/ {3,}/|/g' <<<"$output" | grep -qxF -- "$want" ||
		fail "no row '$want' in:"$'\n'"$output"
}

@test "trust: no subcommand, or an unknown one: 125 and one line" {
	run --separate-stderr moat_as trust
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"needs a command: show or set"* ]] || fail "$stderr"
	run --separate-stderr moat_as trust frobnicate
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"'trust frobnicate' is not a moat command"* ]] || fail "$stderr"
	run moat_as trust --help
	assert_success
	assert_output --partial "Usage: moat trust COMMAND"
}

@test "trust show: no policy file at all is moat's default, reject" {
	if system_policy_exists; then
		skip "this host has /etc/moat/trust-policy.json"
	fi
	run --separate-stderr mt trust show
	assert_success
	assert_line --index 0 "Policy: moat default (no policy file): reject everything except images moat built locally and signed with the local key"
	assert_output --partial "$UFILE (absent)"
	assert_line --regexp '^SCOPE +TYPE +KEYS +IDENTITY$'
	assert_row default reject - -
	[[ $(grep -c . <<<"$output") -eq 4 ]] || fail "more than one requirement:"$'\n'"$output"
	run --separate-stderr mt trust show --raw
	assert_success
	[[ $(tr -d ' \n' <<<"$output") == '{"default":[{"type":"reject"}]}' ]] || fail "$output"
}

@test "trust set: reject, accept and sigstoreSigned land in the user's file and show lists them" {
	run --separate-stderr mt trust set --type reject default
	assert_success
	[[ -z $stderr ]] || fail "unexpected stderr: $stderr"
	[[ -f $UFILE ]] || fail "no user file at $UFILE"
	[[ $(stat -c %a "$UFILE") == 644 ]] || fail "mode $(stat -c %a "$UFILE")"
	[[ $(stat -c %a "$CFG/moat") == 755 ]] || fail "dir mode $(stat -c %a "$CFG/moat")"

	# accept in the user's file: allowed, with the warning that it cannot
	# loosen the system policy
	run --separate-stderr mt trust set --type accept quay.io/open
	assert_success
	[[ $stderr == *"moat: warning: $UFILE can only tighten the system policy"* ]] ||
		fail "no warning: $stderr"

	# a relative key path is stored absolute
	run --separate-stderr as_identity sh -c "cd '$CFG' && $(moat_cmdline_cfg) trust set \
		--type sigstoreSigned --key key.pub docker.io/library/busybox"
	assert_success
	run --separate-stderr mt trust set --type sigstoreSigned --key "$KEY" \
		--identity exactReference --identity-ref alpine:3 '*.corp.example'
	assert_success
	run --separate-stderr mt trust set --type sigstoreSigned --key "$KEY" \
		--identity remapIdentity --identity-prefix mirror.example/lib \
		--identity-signed-prefix docker.io/library mirror.example/lib
	assert_success

	run --separate-stderr mt trust show
	assert_success
	if ! system_policy_exists; then
		assert_line --index 0 "Policy: /etc/moat/trust-policy.json (absent)"
		assert_line --index 1 --partial "User policy: $UFILE (present"
	fi
	assert_row default reject - -
	assert_row quay.io/open insecureAcceptAnything - -
	assert_row docker.io/library/busybox sigstoreSigned "$KEY" matchRepoDigestOrExact
	# the identity's reference is stored normalised
	assert_row '*.corp.example' sigstoreSigned "$KEY" \
		"exactReference docker.io/library/alpine:3"
	assert_row mirror.example/lib sigstoreSigned "$KEY" \
		"remapIdentity mirror.example/lib -> docker.io/library"

	# setting a scope again replaces it
	run --separate-stderr mt trust set --type reject quay.io/open
	assert_success
	run --separate-stderr mt trust show
	assert_row quay.io/open reject - -
	refute_output --partial insecureAcceptAnything
}

# The moat command line with this test's config, for `sh -c`.
moat_cmdline_cfg() {
	if is_root_identity; then
		printf '%q ' env XDG_CONFIG_HOME="$CFG" MOAT_ROOT="$MOAT_STATE/root" \
			MOAT_RUNROOT="$MOAT_STATE/run" MOAT_AUDIT_LOG="$MOAT_STATE/audit/audit.log" "$MOAT"
	else
		printf '%q ' env -i PATH=/usr/bin:/bin HOME="$(user_home "$MOAT_TEST_USER")" \
			XDG_CONFIG_HOME="$CFG" XDG_RUNTIME_DIR="$MOAT_STATE/xdg" \
			MOAT_ROOT="$MOAT_STATE/root" MOAT_RUNROOT="$MOAT_STATE/run" \
			MOAT_AUDIT_LOG="$MOAT_STATE/audit/audit.log" "$MOAT"
	fi
}

@test "trust show --raw round-trips through --trust-policy and MOAT_TRUST_POLICY" {
	run mt trust set --type reject default
	assert_success
	run mt trust set --type sigstoreSigned --key "$KEY" --key "$KEY" \
		--identity matchRepository quay.io/org
	assert_success
	run mt trust set --type accept 'quay.io/org/app@sha256:1111111111111111111111111111111111111111111111111111111111111111'
	assert_success
	local raw=$CFG/raw.json
	run --separate-stderr mt trust show --raw
	assert_success
	printf '%s\n' "$output" >"$raw"
	chmod 0644 "$raw"
	grep -q '"keyPath": "'"$KEY"'"' "$raw" || fail "the key (given twice) is not one keyPath:"$'\n'"$(cat "$raw")"

	# read back as the whole policy: the same JSON, byte for byte
	run --separate-stderr mt --trust-policy "$raw" trust show --raw
	assert_success
	[[ "$output"$'\n' == "$(cat "$raw")"$'\n' ]] || fail "differs:"$'\n'"$output"
	run --separate-stderr mt --trust-policy "$raw" trust show
	assert_success
	assert_line --index 0 "Policy: $raw (--trust-policy)"
	assert_row default reject - -
	assert_row quay.io/org sigstoreSigned "$KEY" matchRepository
	assert_row 'quay.io/org/app@sha256:1111111111111111111111111111111111111111111111111111111111111111' \
		insecureAcceptAnything - -
	# the environment variable names the same override
	MOAT_ENV_EXTRA="MOAT_TRUST_POLICY=$raw" run --separate-stderr mt trust show
	assert_success
	assert_line --index 0 "Policy: $raw (--trust-policy)"
}

@test "trust set --trust-policy FILE: creates it from the default reject; the user's file is untouched" {
	local f=$CFG/sub/dir/policy.json
	run --separate-stderr mt --trust-policy "$f" trust set --type accept quay.io
	assert_success
	# no warning: this is not the user's file
	[[ -z $stderr ]] || fail "unexpected stderr: $stderr"
	[[ -f $f ]] || fail "not created: $f"
	[[ ! -e $UFILE ]] || fail "the user's file was written"
	run --separate-stderr mt --trust-policy "$f" trust show
	assert_success
	assert_row default reject - -
	assert_row quay.io insecureAcceptAnything - -
	# no temporary file left beside it
	[[ $(ls -A "$CFG/sub/dir") == policy.json ]] || fail "$(ls -A "$CFG/sub/dir")"
}

# refused CMD... MSG: 125, one line containing MSG, no policy file changed.
refused() {
	local msg=${*: -1}
	local before
	before=$(cat "$UFILE" 2>/dev/null | sha256sum)
	run --separate-stderr mt "${@:1:$#-1}"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"$msg"* ]] || fail "want '$msg', got: $stderr"
	[[ $(cat "$UFILE" 2>/dev/null | sha256sum) == "$before" ]] || fail "the user's file changed"
}

@test "trust set: bad input is refused with 125 and one line, and changes nothing" {
	run mt trust set --type accept quay.io
	assert_success
	refused trust set --type bogus default 'unknown --type "bogus"'
	refused trust set default 'needs --type accept, reject or sigstoreSigned'
	refused trust set --type reject 'requires exactly 1 argument'
	refused trust set --type reject a.io b.io 'requires exactly 1 argument'
	refused trust set --type reject quay.io/UPPER 'scope "quay.io/UPPER" has an invalid repository name'
	refused trust set --type reject 'quay.io/a:1@sha256:1111111111111111111111111111111111111111111111111111111111111111' \
		'has both a tag and a digest'
	refused trust set --type reject docker.io/busybox:1 'is not fully qualified'
	refused trust set --type sigstoreSigned default 'needs at least one --key'
	refused trust set --type sigstoreSigned --key "$CFG/missing.pub" default \
		"--key \"$CFG/missing.pub\": No such file or directory"
	refused trust set --type sigstoreSigned --key "$CFG" default 'not a regular file'
	refused trust set --type reject --key "$KEY" default '--key applies to --type sigstoreSigned, not reject'
	refused trust set --type accept --key "$KEY" default '--key applies to --type sigstoreSigned, not accept'
	refused trust set --type sigstoreSigned --key "$KEY" --identity matchEverything default \
		'unknown --identity "matchEverything"'
	refused trust set --type sigstoreSigned --key "$KEY" --identity exactReference default \
		'--identity exactReference needs --identity-ref'
	refused trust set --type sigstoreSigned --key "$KEY" --identity exactReference \
		--identity-ref busybox default 'contains neither a tag nor a digest'
	refused trust set --type sigstoreSigned --key "$KEY" --identity remapIdentity \
		--identity-prefix a.io default '--identity-signed-prefix'
	refused trust set --type sigstoreSigned --key "$KEY" --identity-ref a.io/b:1 default \
		'need --identity'
	refused trust set --type reject --bogus default 'unknown flag: --bogus'
	refused trust set --type 'flag needs an argument: --type'
	refused trust show extra 'accepts no arguments'
	refused --trust-policy "$UFILE" trust set --system --type reject default \
		'--system and --trust-policy name two different files'
}

@test "trust set --system: root only" {
	if is_root_identity; then
		# root may, but this suite never writes the host's /etc: check the
		# refusal that comes before any write instead
		refused --trust-policy "$CFG/p.json" trust set --system --type reject default \
			'--system and --trust-policy'
		[[ ! -e $CFG/p.json ]] || fail "written"
	else
		local before
		before=$(cat /etc/moat/trust-policy.json 2>/dev/null | sha256sum)
		refused trust set --system --type reject default \
			'only root can change the system trust policy /etc/moat/trust-policy.json'
		[[ $(cat /etc/moat/trust-policy.json 2>/dev/null | sha256sum) == "$before" ]] ||
			fail "the system file changed"
	fi
}

@test "trust show: a missing or broken policy file is an error naming it" {
	refused --trust-policy "$CFG/nope.json" trust show \
		"trust policy $CFG/nope.json: No such file or directory"
	as_identity sh -c "printf '{\"default\": [\n  {\"type\": \"reject\"},,\n]}\n' >'$CFG/broken.json'"
	refused --trust-policy "$CFG/broken.json" trust show "$CFG/broken.json:2:"
	refused --trust-policy "$CFG" trust show "trust policy $CFG: is a directory"
	# a broken user file is never skipped
	as_identity mkdir -p "$CFG/moat"
	as_identity sh -c "printf '{\"default\": [{\"type\": \"rejet\"}]}' >'$UFILE'"
	refused trust show "$UFILE: default[0]: unknown requirement type \"rejet\""
	# and `set` does not overwrite it
	refused trust set --type reject default "unknown requirement type \"rejet\""
	grep -q rejet "$UFILE" || fail "the broken file was replaced"
}
