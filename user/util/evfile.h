/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event recordings: the ring-buffer records obsprobe read, in order, as `--record FILE` writes
 * them and `--replay FILE` reads them back (bench/cost.sh profiles the pipeline on one, where
 * instruction counts repeat exactly from run to run).
 *
 * Format: the line "obsprobe events 1\n", then each record as its size (4 bytes, little
 * endian, at most EVFILE_MAX_RECORD) and that many bytes. Records are the wire structs of
 * include/obsprobe/ as this build defines them: a recording is read by the build that wrote it.
 */
#ifndef OBSPROBE_EVFILE_H
#define OBSPROBE_EVFILE_H

#include <stddef.h>
#include <stdio.h>

/* larger than any record a ring buffer hands over (capture sizes are a few KiB) */
#define EVFILE_MAX_RECORD (1u << 20)

/* The header. 0, or -errno. */
int evfile_write_header(FILE *f);

/* One record of size bytes (at most EVFILE_MAX_RECORD). 0, or -errno. */
int evfile_write(FILE *f, const void *data, size_t size);

/* Checks the header. 0, or -EINVAL when f is no recording (or another version of one). */
int evfile_read_header(FILE *f);

/* The next record into *buf (malloc'd, grown as needed, *cap its size; aligned as malloc
 * aligns, as libbpf's records are), its size in *size. 1 for a record, 0 at the end of the
 * file, -EINVAL for a truncated or oversized record, -ENOMEM. */
int evfile_read(FILE *f, void **buf, size_t *cap, size_t *size);

#endif
