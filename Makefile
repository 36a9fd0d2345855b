# dkim-setup: plain Makefile, dependencies through pkg-config.
#   make            build build/dkim-setup
#   make check      install test dependencies (Debian, as root), build, run every test
#   make check-unit unit tests, plain and under ASan+UBSan: no root, no apt (dh_auto_test)
#   make bench      benchmarks (speed and memory are measured here, never in tests)
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (default 60; clang)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package, built in build/deb (dpkg-buildpackage -b)
# CC, CFLAGS, CPPFLAGS and LDFLAGS come from the environment or the command
# line (as dpkg-buildflags exports them); the hardening flags are always added.
# WERROR=0 builds without -Werror (distribution builds, newer compilers).

PROG     := dkim-setup
VERSION  := 0.1.0
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/dkim-setup
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR  ?=

# make's built-in CC=cc has origin "default": that counts as not set.
ifeq ($(origin CC),default)
CC       := gcc
endif
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
WERROR   ?= 1

PKGS     := ncursesw formw menuw panelw libcrypto ldns libidn2 opendkim
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# -Wformat-truncation is gcc's (clang rejects the name).
IS_CLANG := $(findstring clang,$(shell $(CC) --version 2>/dev/null))
WARN     := -Wall -Wextra $(if $(filter 0,$(WERROR)),,-Werror) -Wformat=2 \
            $(if $(IS_CLANG),,-Wno-format-truncation) -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Hardened by default: the program runs as root and parses network input.
# _FORTIFY_SOURCE needs optimisation (glibc warns without it), and is not
# defined a second time when CPPFLAGS (dpkg-buildflags) has it already.
OPT_LEVEL := $(lastword $(filter -O%,$(CFLAGS)))
FORTIFY  := $(if $(filter-out -O0,$(OPT_LEVEL)),$(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2))
HARDEN_CFLAGS  := -fstack-protector-strong -fPIE $(FORTIFY)
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now
CPPFLAGS_ALL := -Iinclude -D_GNU_SOURCE -DDK_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS := -std=c11 $(WARN) $(CPPFLAGS_ALL) $(PKG_CFLAGS) -pthread $(HARDEN_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(HARDEN_LDFLAGS) $(LDFLAGS)
LIBS     := $(PKG_LIBS) -pthread
# Only the files that use DK_DATADIR depend on its value (see datadir.stamp).
DATADIR_DEF := -DDK_DATADIR='"$(DATADIR)"'

# FORTIFY's checked functions hide overflows from ASan's own checks.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
             -U_FORTIFY_SOURCE

SRC      := $(sort $(wildcard src/*.c))
CORE_SRC := $(filter-out src/main.c,$(SRC))
# include/: the contracts; src/*.h: private headers, next to their sources
HDR      := $(wildcard include/*.h src/*.h)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

OBJ      := $(CORE_SRC:src/%.c=build/obj/%.o)
SAN_OBJ  := $(CORE_SRC:src/%.c=build/asan/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
SAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
DATADIR_SRC := $(shell grep -l DK_DATADIR $(SRC))
DATADIR_OBJ := $(DATADIR_SRC:src/%.c=build/obj/%.o) $(DATADIR_SRC:src/%.c=build/asan/obj/%.o)

# Completion for bash, installed to $(BASHCOMPDIR); not part of $(DATADIR).
BASHCOMP := assets/bash-completion/$(PROG)

.PHONY: all check check-only check-unit deps bench install uninstall clean distclean asan unit fuzz demo demo-clean lab lab-check lab-clean deb FORCE

all: build/$(PROG)

# Stamps rewritten only when their text changes. Other compiler or flags
# rebuild everything; another DATADIR recompiles the files that use it and
# relinks, so `make && make install PREFIX=/usr` installs a binary that
# reads its texts from /usr/share/dkim-setup.
shq = '$(subst ','\'',$(1))'
build/flags.stamp: FORCE
	@mkdir -p build; t=$(call shq,$(CC) $(ALL_CFLAGS) | $(SAN_FLAGS) | $(ALL_LDFLAGS) | $(LIBS)); \
	[ "$$(cat $@ 2>/dev/null)" = "$$t" ] || printf '%s\n' "$$t" >$@
build/datadir.stamp: FORCE
	@mkdir -p build; t=$(call shq,$(DATADIR)); \
	[ "$$(cat $@ 2>/dev/null)" = "$$t" ] || printf '%s\n' "$$t" >$@
$(DATADIR_OBJ): build/datadir.stamp

build/obj/%.o: src/%.c $(HDR) build/flags.stamp | build/obj
	$(CC) $(ALL_CFLAGS) $(DATADIR_DEF) -c -o $@ $<
build/asan/obj/%.o: src/%.c $(HDR) build/flags.stamp | build/asan/obj
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(DATADIR_DEF) -c -o $@ $<

build/libcore.a: $(OBJ)
	rm -f $@
	ar rcs $@ $^
build/asan/libcore.a: $(SAN_OBJ)
	rm -f $@
	ar rcs $@ $^

build/$(PROG): build/obj/main.o build/libcore.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
build/asan/$(PROG): build/asan/obj/main.o build/asan/libcore.a
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

build/tests/%: tests/unit/%.c build/libcore.a $(HDR) | build/tests
	$(CC) $(ALL_CFLAGS) -Isrc -Wno-missing-prototypes $(ALL_LDFLAGS) -o $@ $< build/libcore.a $(CMOCKA_LIBS) $(LIBS)
build/asan/tests/%: tests/unit/%.c build/asan/libcore.a $(HDR) | build/asan/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Isrc -Wno-missing-prototypes $(ALL_LDFLAGS) -o $@ $< build/asan/libcore.a $(CMOCKA_LIBS) $(LIBS)

# The test build's dkim-setup: the same objects, plus a strong fs_test_hook
# that pauses at named moments (tests/lib/hook.c; attack_swap.sh).
build/tests/dkim-setup-hook: build/obj/main.o tests/lib/hook.c build/libcore.a $(HDR) | build/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ build/obj/main.o tests/lib/hook.c build/libcore.a $(LIBS)

# The corpus verifier of the cross-test with dkimpy (tests/e2e/verify_corpus.sh):
# src/verify.c's verdict on one message, keys from a file.
build/tests/dkverify: tests/lib/dkverify.c build/libcore.a $(HDR) | build/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< build/libcore.a $(LIBS)

build/obj build/asan/obj build/tests build/asan/tests:
	mkdir -p $@

# The one test build with AddressSanitizer and UBSan.
asan: build/asan/$(PROG) $(SAN_UNIT_BIN)
unit: $(UNIT_BIN) build/tests/dkim-setup-hook build/tests/dkverify

deps:
	tests/install-deps.sh

# TESTS=pattern runs only the matching tests.
check: deps
	$(MAKE) all unit asan
	tests/run.sh $(TESTS)

check-only: all unit asan
	tests/run.sh $(TESTS)

# The unit tests alone, plain and under ASan+UBSan, for package builds:
# nothing installed, no root, no network but sockets on 127.0.0.1.
check-unit: $(UNIT_BIN) $(SAN_UNIT_BIN)
	@failed=; for t in $^; do \
		echo "== $$t"; \
		TOP='$(CURDIR)' ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
		UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		$$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "check-unit: FAILED:$$failed"; exit 1; fi; \
	echo "check-unit: all $(words $^) unit test programs passed"

# The README's first command: the whole flow on one machine, in a sandbox.
demo: deps all
	tests/demo/demo.sh

demo-clean:
	rm -rf demo

# The troubleshooting lab (assets/lab/README): `make lab` lists the scenarios,
# `make lab SCENARIO=name` sets one up broken and opens the lab shell,
# `make lab-check` says whether it is solved, `make lab-clean` removes it.
SCENARIO ?=
lab: deps all
	tests/demo/lab.sh $(if $(SCENARIO),start $(SCENARIO),list)

lab-check:
	tests/demo/lab.sh check $(SCENARIO)

lab-clean:
	tests/demo/lab.sh clean

bench: deps all
	tests/bench/run.sh

# libFuzzer harnesses tests/fuzz/fuzz_*.c (see tests/fuzz/fuzz.mk).
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -f tests/fuzz/fuzz.mk run FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ=$(FUZZ)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 build/$(PROG) $(DESTDIR)$(SBINDIR)/$(PROG)
	install -m 0644 man/$(PROG).8 $(DESTDIR)$(MANDIR)/man8/$(PROG).8
	install -m 0644 $(BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/$(PROG)
	cp -R assets/. $(DESTDIR)$(DATADIR)/
	rm -rf $(DESTDIR)$(DATADIR)/$(dir $(BASHCOMP:assets/%=%))
	rm -rf $(DESTDIR)$(DATADIR)/lab   # the lab runs from a checkout (make lab)
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)
	# rotate --auto's service and daily timer: installed, not enabled
	rm -rf $(DESTDIR)$(DATADIR)/systemd
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' assets/systemd/dkim-setup-rotate.service >$(DESTDIR)$(SYSTEMDUNITDIR)/dkim-setup-rotate.service
	install -m 0644 assets/systemd/dkim-setup-rotate.timer $(DESTDIR)$(SYSTEMDUNITDIR)/dkim-setup-rotate.timer
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/dkim-setup-rotate.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man8/$(PROG).8
	rm -f $(DESTDIR)$(BASHCOMPDIR)/$(PROG)
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/dkim-setup-rotate.service $(DESTDIR)$(SYSTEMDUNITDIR)/dkim-setup-rotate.timer
	rm -rf $(DESTDIR)$(DATADIR)

# dpkg-buildpackage writes its results next to the source tree, so it
# builds a copy of this tree in $(DEB_DIR)/src; the packages land in
# $(DEB_DIR) (under build/ or outside the tree). The working tree stays as
# it was.
DEB_DIR ?= build/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -cf - --exclude=./build --exclude=./demo --exclude=./lab --exclude=./.git . | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b -Jauto
	@ls -1 $(DEB_DIR)/*.deb

# build/roots holds the test roots (minutes to rebuild, rebuilt anyway when
# their package list changes): `make clean` keeps them, distclean does not.
clean:
	if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name roots -exec rm -rf {} +; fi

distclean: clean
	rm -rf build

# The README's commands on a fresh Debian 12 root from a clean clone of HEAD
# (tests/fresh.sh; FRESH_VARIANT=none|exim|postfix; root, network for apt).
.PHONY: fresh
fresh:
	tests/fresh.sh
