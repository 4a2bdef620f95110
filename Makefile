# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# obsprobe: `make` builds build/obsprobe; `make test`, `make demo`, `make bench` as in README.md.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool

UNAME_M := $(shell uname -m)
ifeq ($(UNAME_M),x86_64)
ARCH := x86
else ifeq ($(UNAME_M),aarch64)
ARCH := arm64
else
$(error obsprobe: unsupported architecture '$(UNAME_M)' (known: x86_64, aarch64))
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h
WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
CFLAGS    += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -Iexporters -I$(BUILD)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -Wno-unused-function \
	      -Wno-unused-parameter \
	      -Iinclude -Ivmlinux/$(ARCH) -I/usr/include/$(UNAME_M)-linux-gnu
LDLIBS    := $(shell pkg-config --libs libbpf libmicrohttpd 2>/dev/null || echo -lbpf -lmicrohttpd) \
	     -lelf -lz -lm -lpthread

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# Pure logic: no libbpf, no I/O beyond what callers hand in. Unit tests and fuzzers link these.
CORE_SRCS := user/strbuf.c user/http_parser.c user/route.c user/metrics.c user/span.c \
	     user/http.c exporters/console.c
APP_SRCS  := $(filter-out $(CORE_SRCS),$(wildcard user/*.c exporters/*.c))
CORE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
APP_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(APP_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps test unit fuzz demo bench vmlinux check-root

all: $(BUILD)/obsprobe

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h include/*.h) $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# snprintf truncation is how captured strings are bounded here, not a mistake (gcc only: clang
# 14 has no such warning)
$(BUILD)/obj/%.o: %.c $(wildcard include/*.h user/*.h exporters/*.h) | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-format-truncation -c $< -o $@

# user/X.c embeds the skeleton of bpf/X.bpf.c
$(foreach s,$(patsubst bpf/%.bpf.c,%,$(BPF_SRCS)),$(eval $(BUILD)/obj/user/$(s).o: $(BUILD)/$(s).skel.h))

$(BUILD)/obsprobe: $(CORE_OBJS) $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/libobscore.a: $(CORE_OBJS)
	$(Q)ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libobscore.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-format-truncation $< $(BUILD)/libobscore.a -lcmocka -lm -lpthread -o $@

$(BUILD)/asan/%: tests/unit/%.c $(CORE_SRCS) $(wildcard include/*.h user/*.h exporters/*.h)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) $< $(CORE_SRCS) -lcmocka -lm -lpthread -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) $(wildcard include/*.h user/*.h exporters/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined $< $(CORE_SRCS) -lm -lpthread -o $@

unit: $(UNIT_BINS) $(ASAN_BINS)
fuzz: $(FUZZ_BINS)

check-root:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "obsprobe: this target loads BPF programs and installs packages: run it as root (sudo make $(MAKECMDGOALS))" >&2; \
		exit 1; fi

deps: check-root
	$(Q)scripts/install-deps.sh

# The README's test command: installs, builds, runs every test.
test: deps
	$(Q)$(MAKE) --no-print-directory all unit fuzz
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/nginx.sh

vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)mkdir -p $(dir $(VMLINUX_H))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H)

clean:
	rm -rf $(BUILD)
