# tests/fuzz/fuzz.mk: libFuzzer harnesses, built with clang from Debian.
# Run from the top directory (the top Makefile's `make fuzz` does):
#   make -f tests/fuzz/fuzz.mk build              every tests/fuzz/fuzz_*.c
#   make -f tests/fuzz/fuzz.mk run FUZZ_SECONDS=60 each harness for that long
#   make -f tests/fuzz/fuzz.mk run FUZZ=record     only harnesses matching
# A harness is tests/fuzz/fuzz_<name>.c, linked with every core object
# (src/*.c but main.c); its seeds live in tests/fuzz/corpus/<name>/ and an
# optional dictionary in tests/fuzz/<name>.dict. New inputs the fuzzer finds
# go to build/fuzz/corpus/<name>/ (not checked in); crashes to
# build/fuzz/artifacts/. A crash worth keeping becomes a seed in the
# checked-in corpus, which tests/e2e/fuzz_smoke.sh replays in `make check`.

CLANG        ?= clang
FUZZ_SECONDS ?= 60
FUZZ         ?=
PKGS         := ncursesw formw menuw panelw libcrypto ldns libidn2 opendkim
SAN          := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer $(SAN) -Wall -Wextra \
                -Iinclude -Isrc -D_GNU_SOURCE -DDK_VERSION='"fuzz"' -DDK_DATADIR='"/nonexistent"' \
                $(shell pkg-config --cflags $(PKGS)) -pthread
FUZZ_LIBS    := $(shell pkg-config --libs $(PKGS)) -pthread

CORE_SRC     := $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
CORE_OBJ     := $(CORE_SRC:src/%.c=build/fuzz/obj/%.o)
HARNESS_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HARNESSES    := $(HARNESS_SRC:tests/fuzz/%.c=build/fuzz/%)
HDR          := $(wildcard include/*.h src/*.h)

.PHONY: build run
build: $(HARNESSES)

build/fuzz/obj/%.o: src/%.c $(HDR) | build/fuzz/obj
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# A harness that #includes a src/*.c file (to reach its static functions)
# names that file's object here, so it is not linked twice.
EXCLUDE_fuzz_dns_answer := build/fuzz/obj/dns.o

build/fuzz/%: tests/fuzz/%.c $(CORE_OBJ) $(HDR) $(wildcard src/*.c)
	$(CLANG) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< \
		$(filter-out $(EXCLUDE_$*),$(CORE_OBJ)) $(FUZZ_LIBS)

build/fuzz/obj:
	mkdir -p $@

# Each harness for FUZZ_SECONDS on its seeds plus what earlier runs found.
run: build
	tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ)
