# tests/lib/storage.bash - shared by the storage escape suites: the
# attacker's static helper (tests/escape/helpers/storage-attack.c) as
# $MOAT_T/bin/sa and in the image "sa" (with the probe). Load after
# helpers.bash.

# The Makefile's static build when there is one (next to the probe, from
# `make probe`), else compiled here from its source.
storage_helper_build() {
	local src=$MOAT_REPO/tests/escape/helpers/storage-attack.c
	local pre=${STORAGE_ATTACK_BUILD:-$(dirname "$PROBE_BUILD")/storage-attack}

	if [[ -x $pre && ! $src -nt $pre ]]; then
		install -m 0755 -o root -g root "$pre" "$MOAT_T/bin/sa"
	elif command -v "${CC:-cc}" >/dev/null; then
		"${CC:-cc}" -static -O2 -Wall -Wextra -Werror -o "$MOAT_T/bin/sa" "$src" || return 1
		chmod 0755 "$MOAT_T/bin/sa"
	else
		echo "# $pre is missing and there is no C compiler to build it" >&3
		return 1
	fi
	moat_as demo-image --tag sa --add "$PROBE:/probe" --add "$MOAT_T/bin/sa:/sa" >/dev/null
}
