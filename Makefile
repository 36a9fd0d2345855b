# dkim-setup: plain Makefile, dependencies through pkg-config.
#   make            build build/dkim-setup
#   make check      install test dependencies (Debian, as root), build, run every test
#   make bench      benchmarks (speed and memory are measured here, never in tests)
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (default 60; clang)
#   make install    PREFIX=/usr/local DESTDIR=

PROG     := dkim-setup
VERSION  := 0.1.0
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/dkim-setup
DESTDIR  ?=

CC       := gcc
PKGS     := ncursesw formw menuw panelw libcrypto ldns libidn2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wno-format-truncation -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_ALL := -Iinclude -D_GNU_SOURCE -DDK_VERSION='"$(VERSION)"' -DDK_DATADIR='"$(DATADIR)"'
ALL_CFLAGS := -std=c11 $(WARN) $(CPPFLAGS_ALL) $(PKG_CFLAGS) -pthread $(CFLAGS)
LIBS     := $(PKG_LIBS) -pthread

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(sort $(wildcard src/*.c))
CORE_SRC := $(filter-out src/main.c,$(SRC))
# include/: the contracts; src/*.h: private headers, next to their sources
HDR      := $(wildcard include/*.h src/*.h)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

OBJ      := $(CORE_SRC:src/%.c=build/obj/%.o)
SAN_OBJ  := $(CORE_SRC:src/%.c=build/asan/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
SAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

.PHONY: all check check-only deps bench install uninstall clean asan unit fuzz demo demo-clean

all: build/$(PROG)

build/obj/%.o: src/%.c $(HDR) | build/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
build/asan/obj/%.o: src/%.c $(HDR) | build/asan/obj
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/libcore.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^
build/asan/libcore.a: $(SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

build/$(PROG): build/obj/main.o build/libcore.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/asan/$(PROG): build/asan/obj/main.o build/asan/libcore.a
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LIBS)

build/tests/%: tests/unit/%.c build/libcore.a $(HDR) | build/tests
	$(CC) $(ALL_CFLAGS) -Isrc -Wno-missing-prototypes -o $@ $< build/libcore.a $(CMOCKA_LIBS) $(LIBS)
build/asan/tests/%: tests/unit/%.c build/asan/libcore.a $(HDR) | build/asan/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Isrc -Wno-missing-prototypes -o $@ $< build/asan/libcore.a $(CMOCKA_LIBS) $(LIBS)

# The test build's dkim-setup: the same objects, plus a strong fs_test_hook
# that pauses at named moments (tests/lib/hook.c; attack_swap.sh).
build/tests/dkim-setup-hook: build/obj/main.o tests/lib/hook.c build/libcore.a $(HDR) | build/tests
	$(CC) $(ALL_CFLAGS) -o $@ build/obj/main.o tests/lib/hook.c build/libcore.a $(LIBS)

build/obj build/asan/obj build/tests build/asan/tests:
	mkdir -p $@

# The one test build with AddressSanitizer and UBSan.
asan: build/asan/$(PROG) $(SAN_UNIT_BIN)
unit: $(UNIT_BIN) build/tests/dkim-setup-hook

deps:
	tests/install-deps.sh

# TESTS=pattern runs only the matching tests.
check: deps
	$(MAKE) all unit asan
	tests/run.sh $(TESTS)

check-only: all unit asan
	tests/run.sh $(TESTS)

# The README's first command: the whole flow on one machine, in a sandbox.
demo: deps all
	tests/demo/demo.sh

demo-clean:
	rm -rf demo

bench: deps all
	tests/bench/run.sh

# libFuzzer harnesses tests/fuzz/fuzz_*.c (see tests/fuzz/fuzz.mk).
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -f tests/fuzz/fuzz.mk run FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ=$(FUZZ)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)
	install -m 0755 build/$(PROG) $(DESTDIR)$(SBINDIR)/$(PROG)
	install -m 0644 man/$(PROG).8 $(DESTDIR)$(MANDIR)/man8/$(PROG).8
	cp -R assets/. $(DESTDIR)$(DATADIR)/
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man8/$(PROG).8
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

# The README's commands on a fresh Debian 12 root from a clean clone of HEAD
# (tests/fresh.sh; FRESH_VARIANT=none|exim|postfix; root, network for apt).
.PHONY: fresh
fresh:
	tests/fresh.sh
