# moat - one Makefile. `make` builds build/moat; `make demo` and `make check`
# are the two commands README.md promises (both install what is missing).

PREFIX ?= /usr/local
CC ?= gcc
PKGS := libseccomp libcap-ng libarchive jansson libcurl libmnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# moat itself loads libarchive and libcurl on first use (image/archive.c,
# image/registry.c), so `moat run` never pays for them; tests link them.
MOAT_LIBS := $(filter-out -larchive -lcurl,$(PKG_LIBS))

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wswitch-default -Wno-unused-parameter -Werror
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
BASE_CFLAGS := -std=gnu17 -D_GNU_SOURCE -I. -g $(WARN) $(PKG_CFLAGS)
CFLAGS ?= -O2
ALL_CFLAGS := $(BASE_CFLAGS) $(HARDEN) $(CFLAGS)
LDFLAGS_H := -pie -Wl,-z,relro,-z,now

MODULES := common policy image sandbox audit volume net engine cli
LIB_SRC := $(filter-out cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
HDRS := $(foreach m,$(MODULES),$(wildcard $(m)/*.h))
B := build
LIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard fuzz/*_fuzz.c)

# The default seccomp profile is compiled into the binary (no file lookup on
# the hot path); policy/profiles/default.json stays the source of truth.
GEN := $(B)/gen/default_profile.c

.PHONY: all install demo check deps unit unit-asan integration escape fuzz \
	format format-check clean probe
all: $(B)/moat

$(GEN): policy/profiles/default.json tools/embed.sh
	@mkdir -p $(dir $@)
	@sh tools/embed.sh moat_default_seccomp_profile $< > $@

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/obj/gen.o: $(GEN)
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libmoat.a: $(LIB_OBJ) $(B)/obj/gen.o
	@rm -f $@ && ar rcs $@ $^

$(B)/moat: $(B)/obj/cli/main.o $(B)/libmoat.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $^ $(MOAT_LIBS)

# The in-container probe and test helpers: static, so they run in a busybox rootfs.
probe: $(B)/probe $(B)/storage-attack
$(B)/probe: tests/probe/probe.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(B)/storage-attack: tests/escape/helpers/storage-attack.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

$(B)/unit/%: tests/unit/%.c $(B)/libmoat.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $< $(B)/libmoat.a $(PKG_LIBS) -lcmocka

install: $(B)/moat
	install -D -m 0755 $(B)/moat $(DESTDIR)$(PREFIX)/bin/moat

deps:
	@sh tools/deps.sh

demo: deps all
	@sh tools/demo.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(B)/unit unit

# The same unit tests built with ASan+UBSan in their own tree.
unit-asan:
	@$(MAKE) --no-print-directory B=build-asan CC=clang CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		HARDEN="-fPIE" build-asan/libmoat.a $(patsubst $(B)/%,build-asan/%,$(UNIT_BIN))
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/run-unit.sh build-asan/unit unit-asan

integration: all probe
	@sh tests/run-bats.sh integration

escape: all probe
	@sh tests/run-bats.sh escape

fuzz:
	@sh tests/run-fuzz.sh

check: deps
	@sh tests/check.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') && echo "format: ok"

clean:
	rm -rf build build-asan build-fuzz build-clang build-*
