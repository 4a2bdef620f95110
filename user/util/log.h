/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* obsprobe's own messages, on stderr, at the user's verbosity; libbpf's go through here too. */
#ifndef OBSPROBE_LOG_H
#define OBSPROBE_LOG_H

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void log_set_level(int level);
int log_get_level(void);
__attribute__((format(printf, 2, 3))) void log_msg(int level, const char *fmt, ...);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
/* What the run is doing, shown at the default verbosity: "watching pid", readiness, exit. */
#define log_notice(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* OBSPROBE_LOG_H */
