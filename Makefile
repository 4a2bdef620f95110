# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# obsprobe: `make` builds build/obsprobe; `make test`, `make demo`, `make bench` as in README.md.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PROTOC_C ?= protoc-c
# parallel jobs of `make test`'s build (its own -j: CI calls plain `make test`)
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

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
GEN       := $(BUILD)/gen
WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
# Positional initialisers that leave trailing fields zero ({ "key", "value" } for a struct that
# has grown a field since) are C, not a mistake; the kernel does not warn about them either.
# positional initialisers of structs that later grew fields (metric_label, families) stay valid
CFLAGS    += $(WARN) -Wno-missing-field-initializers -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I. \
	     -I$(BUILD) -I$(GEN)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -Wno-unused-function \
	      -Wno-unused-parameter \
	      -Iinclude -Ivmlinux/$(ARCH) -I/usr/include/$(UNAME_M)-linux-gnu
# libcurl is not linked: user/util/curl_lib.c opens it when an exporter first needs it
LDLIBS    := $(shell pkg-config --libs libbpf libprotobuf-c json-c 2>/dev/null || \
		echo -lbpf -lprotobuf-c -ljson-c) -ldw -lelf -ldeflate -lm -lpthread

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# No libbpf: pure logic with no I/O beyond what callers hand in, goruntime.c, which reads
# executables and /proc, and targets.c, which reads /proc. Unit tests and fuzzers link these.
CORE_SRCS := user/util/strbuf.c user/protocols/http_parser.c user/pipeline/route.c \
	     user/pipeline/metrics.c user/pipeline/span.c user/process/elfsyms.c \
	     user/process/procfs.c user/process/tlslib.c user/process/x86sites.c \
	     user/process/gotrace.c user/process/unwind.c user/process/cgroup.c user/process/k8s_meta.c \
	     user/protocols/pg_parser.c user/protocols/h2_hpack.c user/protocols/h2_parser.c \
	     user/protocols/sql.c user/protocols/pg.c user/protocols/http.c user/protocols/http_span.c \
	     user/protocols/http2.c user/protocols/http_genai.c \
	     user/otel_config.c \
	     user/process/goruntime.c user/util/log.c user/cli.c user/pipeline/red.c \
	     user/pipeline/health.c user/pipeline/conn.c user/pipeline/actors.c user/probes/sock_events.c \
	     user/pipeline/targets.c user/pipeline/select.c user/pipeline/tracesample.c user/util/utf8.c user/util/ready.c user/util/budget.c user/util/evfile.c user/util/ringread.c \
	     user/pipeline/logline.c user/pipeline/errors.c user/process/gopanic.c \
	     user/pipeline/logs.c user/util/bytering.c user/util/dl.c \
	     exporters/console.c \
	     exporters/otlp_encode.c exporters/pb_write.c exporters/gzip.c exporters/otlp.c \
	     user/util/curl_lib.c exporters/prometheus_text.c exporters/prom_http.c
# What CORE_SRCS link against besides libc: goruntime.c and tlslib.c read ELF symbols, goruntime.c
# DWARF too, k8s_meta.c reads the API server's JSON, gzip.c compresses with libdeflate; x86sites.c
# opens capstone itself (dlopen).
CORE_LIBS := -ldw -lelf $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c) -ldeflate
APP_SRCS  := $(filter-out $(CORE_SRCS),$(wildcard user/*.c user/*/*.c exporters/*.c))
# Every header a C file may include: a change to any rebuilds
HDRS      := $(wildcard include/obsprobe/*.h user/*.h user/*/*.h exporters/*.h)
# OTLP messages: our subset of the official .proto files, compiled by protoc-c into $(GEN).
PROTO_DIR := exporters/proto
PROTOS    := $(addprefix $(PROTO_DIR)/opentelemetry/proto/,common/v1/common.proto \
	       resource/v1/resource.proto trace/v1/trace.proto metrics/v1/metrics.proto \
	       logs/v1/logs.proto collector/trace/v1/trace_service.proto \
	       collector/metrics/v1/metrics_service.proto collector/logs/v1/logs_service.proto)
PB_SRCS   := $(patsubst $(PROTO_DIR)/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PB_HDRS   := $(PB_SRCS:.c=.h)
PB_OBJS   := $(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$(PB_SRCS))
CORE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRCS)) $(PB_OBJS)
APP_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(APP_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps test test-kernels unit fuzzers fuzz fuzz-campaign demo bench vmlinux check-root

all: $(BUILD)/obsprobe

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h include/obsprobe/*.h) $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# One protoc-c run writes every .pb-c.c and .pb-c.h (a grouped target: make runs it once).
$(PB_SRCS) $(PB_HDRS) &: $(PROTOS)
	$(call msg,PROTOC,$(GEN))
	$(Q)mkdir -p $(GEN)
	$(Q)$(PROTOC_C) --c_out=$(GEN) -I$(PROTO_DIR) $(PROTOS)

$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(PB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# snprintf truncation is how captured strings are bounded here, not a mistake (gcc only: clang
# 14 has no such warning)
NO_TRUNC_WARN := $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
$(BUILD)/obj/%.o: %.c $(HDRS) $(PB_HDRS) | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(NO_TRUNC_WARN) -c $< -o $@

# user/probes/ embeds the skeletons (tls.c: its own and the sock object's)
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/probes/*.c)): $(SKELS)

$(BUILD)/obsprobe: $(CORE_OBJS) $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# afresh: ar would keep the members of sources no longer in CORE_SRCS
$(BUILD)/libobscore.a: $(CORE_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libobscore.a $(PB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(NO_TRUNC_WARN) $< $(BUILD)/libobscore.a -lcmocka -lprotobuf-c \
		$(CORE_LIBS) $(TEST_LIBS) -lm -lpthread -o $@

# test_otlp_gzip inflates every body with zlib, a decoder independent of the one that compressed it
$(BUILD)/tests/test_otlp_gzip $(BUILD)/asan/test_otlp_gzip: TEST_LIBS := -lz
# test_vmlinux_btf checks obsprobe's load of the kernel's BTF against libbpf's, and libbpf's
# lookups taking it
$(BUILD)/tests/test_vmlinux_btf $(BUILD)/asan/test_vmlinux_btf: $(BUILD)/obj/user/probes/vmlinux_btf.o
$(BUILD)/tests/test_vmlinux_btf $(BUILD)/asan/test_vmlinux_btf: \
	TEST_LIBS := $(BUILD)/obj/user/probes/vmlinux_btf.o -lbpf

# test_otlp_queue's collector is the benchmarks' sink, bench/otlp_sink.c
$(BUILD)/tests/test_otlp_queue: $(BUILD)/obj/bench/otlp_sink.o
$(BUILD)/tests/test_otlp_queue: TEST_LIBS := $(BUILD)/obj/bench/otlp_sink.o
$(BUILD)/asan/test_otlp_queue: $(BUILD)/asan/obj/bench/otlp_sink.o
$(BUILD)/asan/test_otlp_queue: TEST_LIBS := $(BUILD)/asan/obj/bench/otlp_sink.o
$(BUILD)/tsan/test_otlp_queue: $(BUILD)/tsan/obj/bench/otlp_sink.o
$(BUILD)/tsan/test_otlp_queue: TEST_LIBS := $(BUILD)/tsan/obj/bench/otlp_sink.o

# The sources compiled once per instrumentation, then linked into every sanitized binary: ASan
# and UBSan (build/asan/: the unit tests again, and obsprobe itself), and the fuzzers'
# coverage besides (build/fuzzobj/).
$(BUILD)/asan/obj/gen/%.o: $(GEN)/%.c $(PB_HDRS)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c $(HDRS) $(PB_HDRS) | $(SKELS)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/fuzzobj/gen/%.o: $(GEN)/%.c $(PB_HDRS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

$(BUILD)/fuzzobj/%.o: %.c $(HDRS) $(PB_HDRS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

ASAN_CORE_OBJS := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(CORE_SRCS)) \
		  $(patsubst $(GEN)/%.c,$(BUILD)/asan/obj/gen/%.o,$(PB_SRCS))
ASAN_APP_OBJS  := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(APP_SRCS))
FUZZ_CORE_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(CORE_SRCS)) \
		  $(patsubst $(GEN)/%.c,$(BUILD)/fuzzobj/gen/%.o,$(PB_SRCS))

# afresh, as libobscore.a
$(BUILD)/asan/libobscore.a: $(ASAN_CORE_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzzobj/libobscore.a: $(FUZZ_CORE_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/%: tests/unit/%.c $(BUILD)/asan/libobscore.a $(PB_HDRS) $(HDRS)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) $< $(BUILD)/asan/libobscore.a -lcmocka -lprotobuf-c \
		$(CORE_LIBS) $(TEST_LIBS) -lm -lpthread -o $@

# obsprobe itself under ASan and UBSan, for the integration tests' @asan runs (tests/run.sh)
$(BUILD)/asan/obsprobe: $(ASAN_CORE_OBJS) $(ASAN_APP_OBJS)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzzobj/libobscore.a $(PB_HDRS) $(HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined $< \
		$(BUILD)/fuzzobj/libobscore.a -lprotobuf-c $(CORE_LIBS) $(FUZZ_LIBS) -lm -lpthread -o $@

# fuzz_x86sites decodes each input with capstone itself too, to check the walks against it
$(BUILD)/fuzz/fuzz_x86sites: FUZZ_LIBS := -lcapstone

# Micro-benchmarks of pure code, run by hand: build/bench/otlp_encode_bench
$(BUILD)/bench/%: bench/%.c $(BUILD)/libobscore.a $(PB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(BUILD)/libobscore.a -lprotobuf-c $(CORE_LIBS) -lm -lpthread -o $@

# The floor of the scheduler hooks (bench/saturation.sh): empty programs, and their loader
$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/floor: bench/floor.c $(BUILD)/bench/floor.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

# The programs loaded, with the verifier's work on each (bench/startup.sh)
$(BUILD)/bench/proginfo: bench/proginfo.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

# The exporter end to end: encoder, batching, libcurl, to an in-process sink on loopback
$(BUILD)/bench/otlp_send_bench: bench/otlp_send_bench.c bench/otlp_sink.c $(BUILD)/libobscore.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibench $< bench/otlp_sink.c $(BUILD)/libobscore.a $(LDLIBS) \
		-lprotobuf-c -o $@

# The OTLP exporter's queue and its byte ring, which two threads share without a lock, under
# ThreadSanitizer (build/tsan/, run by tests/run.sh): the tests and the sources whose memory both
# threads touch, instrumented; the rest of the core as it is. Built for the unit tests whose
# header says "ThreadSanitizer (build/tsan/)", as tests/run.sh finds them.
TSAN_SRCS := exporters/otlp.c exporters/otlp_encode.c exporters/pb_write.c user/util/bytering.c \
	     user/pipeline/span.c
TSAN_OBJS := $(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(TSAN_SRCS))
TSAN_UNITS := $(shell grep -l 'ThreadSanitizer (build/tsan/)' tests/unit/test_*.c)
TSAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tsan/%,$(TSAN_UNITS))

$(BUILD)/tsan/obj/%.o: %.c $(HDRS) $(PB_HDRS)
	$(call msg,TSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread -c $< -o $@

$(BUILD)/tsan/%: tests/unit/%.c $(TSAN_OBJS) $(BUILD)/libobscore.a $(PB_HDRS) $(HDRS)
	$(call msg,TSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread $< $(TSAN_OBJS) $(BUILD)/libobscore.a -lcmocka \
		-lprotobuf-c $(CORE_LIBS) $(TEST_LIBS) -lm -lpthread -o $@

unit: $(UNIT_BINS) $(ASAN_BINS) $(TSAN_BINS) $(BUILD)/asan/obsprobe
# The fuzzers, built: make test runs each for FUZZ_SECONDS (20) from its seeds
fuzzers: $(FUZZ_BINS)

# `make fuzz`: every fuzzer for CAMPAIGN_SECONDS (300) each, its corpus kept under the build
# directory, then a table of what each did (tests/fuzz/campaign.sh; FUZZ_JOBS); not part of
# make test. fuzz-campaign is the same.
fuzz fuzz-campaign: $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) tests/fuzz/campaign.sh

check-root:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "obsprobe: this target loads BPF programs and installs packages: run it as root (sudo make $(MAKECMDGOALS))" >&2; \
		exit 1; fi

deps: check-root
	$(Q)scripts/install-deps.sh

# The README's test command: installs, builds, runs every test.
test: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all unit fuzzers
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# The integration tests again inside Debian's 6.1 and 6.12 kernels, under qemu (tests/kernels/)
test-kernels: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/kernels/run.sh

# `make bench`: the scripts in this order, each run even when one before it failed, then the
# table of the figures they reported (bench/summary.sh: each against its target, or "not
# measured"); fails at the end if a script did.
BENCH_SCRIPTS := startup nginx saturation go go_trace tls http2 go_tls uprobe_sites pgbench node_wide logs cost
BENCH_FIGURES := $(abspath $(BUILD))/bench-figures.tsv

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)mkdir -p $(dir $(BENCH_FIGURES)) && : >$(BENCH_FIGURES)
	$(Q)failed=""; \
	for s in $(BENCH_SCRIPTS); do \
		OBSPROBE=$(abspath $(BUILD))/obsprobe BENCH_FIGURES=$(BENCH_FIGURES) bench/$$s.sh || \
			failed="$$failed $$s"; \
	done; \
	bench/summary.sh $(BENCH_FIGURES); \
	if [ -n "$$failed" ]; then echo "bench: failed:$$failed" >&2; exit 1; fi

# `make soak`: a 30-minute soak, not in `make test` (tests/soak/soak.sh; SOAK_MINUTES, SOAK_OUT)
SOAK_OUT ?= $(abspath $(BUILD))/soak/summary.md
.PHONY: soak
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)OBSPROBE=$(abspath $(BUILD))/obsprobe SOAK_OUT=$(SOAK_OUT) tests/soak/soak.sh

vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)mkdir -p $(dir $(VMLINUX_H))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H)

clean:
	rm -rf $(BUILD)
