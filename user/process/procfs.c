// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "process/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procfs_read_stat(uint32_t pid, uint32_t tid, struct procfs_stat *out)
{
	char path[64], buf[1024], *open_p, *close_p;
	size_t n, cl;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f) /* out of descriptors or memory is no proof the task is gone */
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may itself hold spaces and parentheses: it ends at the last ')' */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -EINVAL;
	cl = (size_t)(close_p - open_p - 1);
	if (cl >= sizeof(out->comm))
		cl = sizeof(out->comm) - 1;
	memcpy(out->comm, open_p + 1, cl);
	out->comm[cl] = '\0';
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
	 * cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(close_p + 1,
		   " %c %u %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
		   "%*d %*d %*d %llu",
		   &out->state, &out->ppid, &out->utime, &out->stime, &out->start_time) != 5)
		return -EINVAL;
	return 0;
}

int procfs_read_status(uint32_t pid, const char *const *keys, unsigned long long *vals, size_t n)
{
	char path[64], line[256];
	int found = 0;
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < n; i++) {
			size_t len = strlen(keys[i]);

			if (strncmp(line, keys[i], len) == 0 && line[len] == ':' &&
			    sscanf(line + len + 1, "%llu", &vals[i]) == 1) {
				found++;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

int procfs_environ_find(const char *buf, size_t buflen, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name), i = 0;

	while (i < buflen) {
		const char *e = buf + i;
		const char *end = memchr(e, '\0', buflen - i);
		size_t elen = end ? (size_t)(end - e) : buflen - i;

		if (elen > nlen && e[nlen] == '=' && !memcmp(e, name, nlen)) {
			size_t vlen = elen - nlen - 1;

			if (len) {
				if (vlen > len - 1)
					vlen = len - 1;
				memcpy(out, e + nlen + 1, vlen);
				out[vlen] = '\0';
			}
			return 0;
		}
		i += elen + 1;
	}
	return -ENOENT;
}

int procfs_read_environ(uint32_t pid, const char *name, char *out, size_t len)
{
	char path[64], *buf;
	size_t n = 0;
	ssize_t r;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	buf = malloc(PROCFS_ENVIRON_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < PROCFS_ENVIRON_MAX && (r = read(fd, buf + n, PROCFS_ENVIRON_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	err = procfs_environ_find(buf, n, name, out, len);
	free(buf);
	return err;
}

static bool parse_num(const char **p, int base, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(*p, &end, base);
	if (end == *p || errno)
		return false;
	*p = end;
	return true;
}

static bool skip_spaces(const char **p)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s == *p)
		return false;
	*p = s;
	return true;
}

int maps_parse_line(char *line, struct maps_entry *e)
{
	static const char deleted[] = " (deleted)";
	const char *p = line;
	uint64_t maj, min;
	size_t len;
	char *nl;

	memset(e, 0, sizeof(*e));
	e->path = "";
	if (!parse_num(&p, 16, &e->start) || *p++ != '-' || !parse_num(&p, 16, &e->end) ||
	    !skip_spaces(&p))
		return -EINVAL;
	if (strlen(p) < 4 || (p[0] != 'r' && p[0] != '-'))
		return -EINVAL;
	e->exec = p[2] == 'x';
	p += 4;
	if (!skip_spaces(&p) || !parse_num(&p, 16, &e->offset) || !skip_spaces(&p) ||
	    !parse_num(&p, 16, &maj) || *p++ != ':' || !parse_num(&p, 16, &min) ||
	    !skip_spaces(&p) || !parse_num(&p, 10, &e->inode))
		return -EINVAL;
	e->dev_major = (uint32_t)maj;
	e->dev_minor = (uint32_t)min;
	while (*p == ' ' || *p == '\t')
		p++;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	len = strlen(p);
	if (len > sizeof(deleted) - 1 && !strcmp(p + len - (sizeof(deleted) - 1), deleted)) {
		e->deleted = true;
		((char *)p)[len - (sizeof(deleted) - 1)] = '\0';
	}
	e->path = p;
	return 0;
}

int procfs_exe(uint32_t pid, char *out, size_t len)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof(deleted) - 1;
	char path[64];
	ssize_t n;

	if (len < 2)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, out, len - 1);
	if (n < 0) {
		int err = errno;

		/* a kernel thread has no exe: ENOENT too, but its /proc entry is there */
		snprintf(path, sizeof(path), "/proc/%u", pid);
		return err == ENOENT && access(path, F_OK) ? -ESRCH : -err;
	}
	out[n] = '\0';
	if ((size_t)n > dl && !strcmp(out + n - dl, deleted)) {
		n -= (ssize_t)dl;
		out[n] = '\0';
	}
	return (int)n;
}

size_t procfs_parse_tcp_listen(const char *text, size_t len, uint16_t *ports, uint64_t *inodes,
			       size_t max)
{
	const char *p = text, *end = text + len;
	size_t n = 0;

	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];
		unsigned int port, state;
		unsigned long long inode;

		/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000
		 *  0 0 12345 ..." (tcp6: a 32-digit address); the header line does not parse */
		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			if (sscanf(line,
				   " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %llu",
				   &port, &state, &inode) == 3 &&
			    state == 0x0A && port > 0 && port <= 0xffff && inode) {
				ports[n] = (uint16_t)port;
				inodes[n] = inode;
				n++;
			}
		}
		p += ll + 1;
	}
	return n;
}

#define LISTEN_MAX 256

/* The listening sockets of pid's network namespace, from one table; appended at *n. */
static void read_listen_table(uint32_t pid, const char *table, uint16_t *ports, uint64_t *inodes,
			      size_t *n)
{
	char path[64], *buf;
	size_t len = 0, cap = 1 << 16;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/net/%s", pid, table);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	buf = malloc(cap);
	/* a host with many connections has a long table: its listeners come first, mostly, but
	 * not always; read it all, up to 16 MiB */
	while (buf && (r = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)r;
		if (len == cap && cap < (16u << 20)) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		} else if (len == cap) {
			break;
		}
	}
	close(fd);
	if (buf)
		*n += procfs_parse_tcp_listen(buf, len, ports + *n, inodes + *n, LISTEN_MAX - *n);
	free(buf);
}

int procfs_listen_ports(uint32_t pid, uint16_t *ports, size_t max)
{
	uint16_t lports[LISTEN_MAX];
	uint64_t inodes[LISTEN_MAX];
	size_t nl = 0, nout = 0, i, j;
	char path[64];
	struct dirent *de;
	DIR *d;

	read_listen_table(pid, "tcp", lports, inodes, &nl);
	read_listen_table(pid, "tcp6", lports, inodes, &nl);
	if (!nl)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d)) && nout < max) {
		char link[64], target[64];
		unsigned long long inode;
		ssize_t k;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%.16s", path, de->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		if (sscanf(target, "socket:[%llu]", &inode) != 1)
			continue;
		for (i = 0; i < nl; i++) {
			if (inodes[i] != inode)
				continue;
			for (j = 0; j < nout && ports[j] != lports[i]; j++)
				;
			if (j == nout)
				ports[nout++] = lports[i];
		}
	}
	closedir(d);
	return (int)nout;
}
