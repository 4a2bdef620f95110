/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SQL text as obsprobe exports it: literals replaced by '?', and the operation and collection a
 * statement names (db.operation.name, db.collection.name). Pure string functions: no I/O, no
 * allocation; the input is untrusted, possibly cut short, not NUL-terminated.
 */
#ifndef OBSPROBE_SQL_H
#define OBSPROBE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#define SQL_OP_MAX 32
#define SQL_COLLECTION_MAX 64

/* Writes sql (len bytes) to out (outsz > 0, always NUL-terminated) with every literal replaced
 * by '?': string constants ('..' with '' inside, E'..' with backslash escapes, U&'..', B'..',
 * X'..', N'..'), dollar-quoted strings ($$..$$, $tag$..$tag$), and numbers (42, -1 stays '-?',
 * 3.14, 1e10, .5, 0x1F) that are not part of an identifier (t1, "a 1") or a parameter ($1).
 * Comments (-- to end of line, nested block comments) are removed, each replaced by one space,
 * because they can carry anything. Quoted identifiers are kept as they are. A literal that the
 * input cuts short (an unclosed quote) is still replaced: no byte of it is copied. Returns the
 * length written (excluding the NUL); output that does not fit is cut, never mid-way through
 * a multibyte UTF-8 character. */
size_t sql_redact(const char *sql, size_t len, char *out, size_t outsz);

/* The operation and the collection of a statement, as OpenTelemetry's database semantic
 * conventions name them: op is the first keyword in upper case (SELECT, INSERT, UPDATE, DELETE,
 * MERGE, BEGIN, COMMIT, END, ROLLBACK, CREATE, DROP, ALTER, TRUNCATE, COPY, SET, SHOW, ...;
 * a WITH query takes the operation of its main statement), "" when there is none. collection
 * is the one table the statement acts on, as written (schema-qualified names kept whole,
 * quotes of a quoted identifier removed): SELECT .. FROM t (only when there is one table:
 * no join, no comma list, no subquery in FROM), INSERT INTO t, UPDATE t, DELETE FROM t,
 * MERGE INTO t, COPY t, TRUNCATE [TABLE] t, CREATE/DROP/ALTER TABLE|INDEX|VIEW .. t (IF [NOT]
 * EXISTS skipped); "" otherwise. Leading whitespace, comments and parentheses are skipped. */
struct sql_summary {
	char op[SQL_OP_MAX];
	char collection[SQL_COLLECTION_MAX];
};
void sql_summarize(const char *sql, size_t len, struct sql_summary *out);

#endif /* OBSPROBE_SQL_H */
