#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_cli.c into tests/fuzz/corpus/fuzz_cli/.

Each seed is NUL-separated strings: the values of the variables cli_parse reads, in the order
of ENV below (fuzz_cli.c's env_names[]; an empty one is unset), then the arguments after
argv[0]. The command lines are the README's and `obsprobe --help`'s examples, every flag with a
value at and past the ends of its range, and the mistakes --help warns of (--replay with --pid,
--exclude alone, a flag without its value, unknown flags and groups, ambiguous abbreviations);
the environments set the OTEL_* SDK variables obsprobe honours, valid and not. Run it again
after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_cli.py
"""
import os

ENV = ["OTEL_SERVICE_NAME", "OBSPROBE_HIDE_KERNEL_FEATURES", "OTEL_EXPORTER_OTLP_ENDPOINT",
       "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
       "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_HEADERS",
       "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TIMEOUT",
       "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_BLRP_MAX_QUEUE_SIZE",
       "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_BLRP_EXPORT_TIMEOUT",
       "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_SCHEDULE_DELAY",
       "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"]

FULL_ENV = {
    "OTEL_SERVICE_NAME": "checkout",
    "OBSPROBE_HIDE_KERNEL_FEATURES": "tp_btf,fentry",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example.com:4318/v1/traces",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:9090/api/v1/otlp/v1/metrics",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://loki:3100/otlp/v1/logs",
    "OTEL_LOGS_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc,x-tenant=acme%2Cinc",
    "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "5000",
    "OTEL_METRIC_EXPORT_INTERVAL": "15000",
    "OTEL_BLRP_MAX_QUEUE_SIZE": "4096",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "8192",
    "OTEL_BLRP_SCHEDULE_DELAY": "500",
    "OTEL_BLRP_EXPORT_TIMEOUT": "10000",
    "OTEL_BSP_MAX_QUEUE_SIZE": "8192",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2048",
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BSP_EXPORT_TIMEOUT": "30000",
    "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.namespace=shop,"
                                "k8s.pod.name=checkout-7d9f%3Dx",
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.25",
}

SEEDS = {
    # --help's examples
    "help_pid": ({}, ["--pid", "4242"]),
    "help_json": ({}, ["-p", "1234", "--console", "json"]),
    "help_prometheus": ({}, ["-p", "1234", "--prometheus", "0.0.0.0:9464", "--service-name",
                             "checkout"]),
    "help_disable": ({}, ["-p", "1234", "--disable", "http,pgsql"]),
    "help_node_wide": ({}, ["--all", "--exclude", "comm=sshd", "--console", "off",
                            "--prometheus", "0.0.0.0:9464"]),
    "help_exe": ({}, ["--exe", "*/nginx", "--exe", "*/postgres"]),
    "help_otlp_gzip": ({"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
                       ["-p", "1234", "--otlp-endpoint", "http://127.0.0.1:4318"]),
    "help_sampler": ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
                     ["-p", "1234", "--otlp-endpoint", "http://127.0.0.1:4318",
                      "--keep-slower-than", "500ms"]),
    "help": ({}, ["--help"]),
    "version": ({}, ["-vV"]),
    # README
    "probe_sites": ({}, ["--probe-sites", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]),
    "record": ({}, ["--pid", "1", "--record", "/tmp/events.bin", "-vv"]),
    "replay": ({"OTEL_LOGS_EXPORTER": "none"}, ["--replay", "/tmp/events.bin", "--console",
                                                "off", "--otlp-endpoint", "https://c:4318"]),
    "logs_budgets": ({}, ["--pid=7", "--logs", "on", "--log-bytes-per-second", "64K",
                          "--log-lines-per-second", "0", "--max-spans-per-second", "10000000"]),
    "selectors_all_kinds": ({}, ["--comm", "nginx", "--port", "8080", "--cgroup",
                                 "/system.slice/nginx.service", "--container",
                                 "0123456789abcdef0123", "--exclude", "exe=/usr/bin/*",
                                 "--exclude", "port=22", "--exclude", "cgroup=/user.slice",
                                 "--exclude", "container=abcdefabcdef"]),
    "every_flag": (FULL_ENV, ["-p", "1", "-p", "2147483647", "--capture-bytes", "4096",
                              "--max-routes", "100000", "--exited-ttl", "86400",
                              "--memory-limit", "1G", "--keep-slower-than", "1.5s",
                              "--disable", "tls,libpq,sched,memory,go,goroutines,errors",
                              "--otlp-endpoint", "http://x", "--service-name", "svc",
                              "--prometheus", "off", "--logs", "off", "-v", "--verbose"]),
    "full_env_only": (FULL_ENV, ["--all"]),
    "range_edges": ({}, ["-p", "1", "--capture-bytes", "64", "--max-routes", "1",
                         "--exited-ttl", "0", "--memory-limit", "16M", "--keep-slower-than",
                         "60m", "--log-bytes-per-second", "4G", "--memory-limit", "off"]),
    "durations": ({}, ["-p", "1", "--keep-slower-than", "250us", "--keep-slower-than", "2m",
                       "--keep-slower-than", "off", "--keep-slower-than", ".001ms"]),
    # mistakes
    "replay_with_pid": ({}, ["--replay", "f", "--pid", "1"]),
    "exclude_alone": ({}, ["--exclude", "comm=sshd"]),
    "nothing_to_watch": ({}, ["--console", "json"]),
    "missing_value": ({}, ["--pid"]),
    "missing_value_short": ({}, ["-v", "-p"]),
    "unknown_long": ({}, ["--pid", "1", "--frobnicate"]),
    "unknown_short_bundle": ({}, ["-vx"]),
    "ambiguous_abbrev": ({}, ["--pro", "x", "-p", "1"]),
    "abbrev_ok": ({}, ["--all", "--cons=json", "--serv", "s"]),
    "unexpected_argument": ({}, ["-p", "1", "nginx"]),
    "after_double_dash": ({}, ["-p", "1", "--", "--help"]),
    "pid_zero_negative": ({}, ["-p", "0", "-p", "-5", "-p", "2147483648"]),
    "pid_too_many": ({}, [a for i in range(65) for a in ("-p", str(i + 1))]),
    "selectors_too_many": ({}, [a for i in range(33) for a in ("--comm", f"c{i}")]),
    "bad_values": ({}, ["-p", "1", "--capture-bytes", "63", "--max-routes", "0x10"]),
    "bad_duration": ({}, ["-p", "1", "--keep-slower-than", "1e3ms"]),
    "duration_range": ({}, ["-p", "1", "--keep-slower-than", "0.5us"]),
    "bad_size": ({}, ["-p", "1", "--memory-limit", "15M"]),
    "bad_disable": ({}, ["-p", "1", "--disable", "http,,bogus"]),
    "empty_disable": ({}, ["-p", "1", "--disable", ","]),
    "long_disable": ({}, ["-p", "1", "--disable", "http," * 40]),
    "bad_console": ({}, ["-p", "1", "--console", "yaml"]),
    "bad_logs": ({}, ["-p", "1", "--logs", "yes"]),
    "bad_exclude": ({}, ["--all", "--exclude", "pid=1"]),
    "bad_port": ({}, ["--port", "65536"]),
    "bad_container": ({}, ["--container", "xyz"]),
    "bad_endpoint_flag": ({}, ["-p", "1", "--otlp-endpoint", "ftp://x"]),
    "endpoint_too_long": ({}, ["-p", "1", "--otlp-endpoint", "http://" + "a" * 1010]),
    "bad_env_endpoint": ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, ["-p", "1"]),
    # make fuzz-campaign's find: a base of slashes only lost its "//" to the trailing-slash trim
    "bad_env_endpoint_no_host": ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://////"}, ["--all"]),
    "bad_env_sampler": ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, ["-p", "1"]),
    "bad_env_ratio": ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
                      ["-p", "1"]),
    "bad_env_timeout": ({"OTEL_EXPORTER_OTLP_TIMEOUT": "-1"}, ["-p", "1"]),
    "bad_env_blrp": ({"OTEL_BLRP_MAX_QUEUE_SIZE": "0", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "99999"},
                     ["-p", "1"]),
    "bad_env_bsp": ({"OTEL_BSP_MAX_QUEUE_SIZE": "65537", "OTEL_BSP_SCHEDULE_DELAY": "-1"},
                    ["-p", "1"]),
    "bsp_batch_over_queue": ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                              "OTEL_BSP_MAX_QUEUE_SIZE": "64",
                              "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512"}, ["-p", "1"]),
    "bad_env_headers": ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue,=x,k=%zz"}, ["-p", "1"]),
    "many_headers": ({"OTEL_EXPORTER_OTLP_HEADERS": ",".join(f"h{i}=v{i}" for i in range(33))},
                     ["-p", "1"]),
    "long_resource": ({"OTEL_RESOURCE_ATTRIBUTES": "k=" + "v" * 500 + ",key" + "k" * 130 + "=1"},
                      ["-p", "1"]),
    "bad_env_logs": ({"OTEL_LOGS_EXPORTER": "console", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"},
                     ["-p", "1"]),
    "utf8_values": ({"OTEL_SERVICE_NAME": "caf\u00e9-\u65e5\u672c"},
                    ["--comm", "\u00e9\u00e8", "--exe", "/opt/\u00fc*/bin/[a-z]?", "--service-name",
                     "s\u00e9rvice"]),
}


def seed(env, args):
    vals = [env.get(name, "") for name in ENV]
    return "\0".join(vals + args).encode()


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_cli")
os.makedirs(here, exist_ok=True)
for name, (env, args) in SEEDS.items():
    assert set(env) <= set(ENV), name
    with open(os.path.join(here, name), "wb") as f:
        f.write(seed(env, args))
