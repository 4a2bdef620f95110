// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "protocols/sql.h"

struct redact_case {
	const char *in;
	const char *want;
};

struct summary_case {
	const char *in;
	const char *op;
	const char *collection;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_redact(const char *in, size_t len, const char *want)
{
	char out[1024];
	size_t n;

	memset(out, 0x55, sizeof(out));
	n = sql_redact(in, len, out, sizeof(out));
	if (strcmp(out, want) || n != strlen(want))
		fail_msg("\"%s\": got \"%s\" (%zu), want \"%s\"", in, out, n, want);
}

static void run_redact(const struct redact_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_redact(c[i].in, strlen(c[i].in), c[i].want);
}

/* The examples the exporter's documentation gives. */
UNIT_TEST(test_redact_examples)
{
	static const struct redact_case cases[] = {
		{ "SELECT * FROM users WHERE name = 'bob' AND id = 42",
		  "SELECT * FROM users WHERE name = ? AND id = ?" },
		{ "UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 5;",
		  "UPDATE pgbench_accounts SET abalance = abalance + -? WHERE aid = ?;" },
		{ "INSERT INTO t (a, b) VALUES ($1, $2)", "INSERT INTO t (a, b) VALUES ($1, $2)" },
		{ "select $$sec'ret$$, $x$a$x$, E'it\\'s', 'it''s', 1.5e3, .5, 0x1F, t1.c2 "
		  "from \"Tab 1\"",
		  "select ?, ?, ?, ?, ?, ?, ?, t1.c2 from \"Tab 1\"" },
		/* The comment becomes one space and the space before it stays. */
		{ "SELECT 1 -- password=abc", "SELECT ?  " },
		{ "SELECT 1 -- password=abc\n", "SELECT ?  \n" },
		{ "SELECT 'unterminated", "SELECT ?" },
		{ "select a/*c*/b", "select a b" },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_strings)
{
	static const struct redact_case cases[] = {
		{ "'a'", "?" },
		{ "''", "?" },
		{ "'a''b'", "?" },
		{ "''''", "?" },
		/* standard_conforming_strings: a backslash is just a backslash in '..' */
		{ "'a\\' b", "? b" },
		{ "E'it\\'s' x", "? x" },
		{ "e'\\\\' x", "? x" },
		{ "E'a''b' x", "? x" },
		{ "E'\\n\\t\\x41'", "?" },
		{ "U&'d\\0061t\\+000061'", "?" },
		{ "u&'x' UESCAPE '!'", "? UESCAPE ?" },
		{ "B'101'", "?" },
		{ "b'1'", "?" },
		{ "X'1F'", "?" },
		{ "x'ff'", "?" },
		{ "N'text'", "?" },
		{ "n'x'", "?" },
		{ "'a' 'b'", "? ?" },
		{ "'a'\n'b'", "?\n?" },
		{ "'1'::int", "?::int" },
		{ "a<>'x'", "a<>?" },
		{ "'--not a comment' x", "? x" },
		{ "'/*' x '*/'", "? x ?" },
		{ "'\"' \"'\"", "? \"'\"" },
		{ "'é ü 名'", "?" },
		/* The prefix letter only counts at the start of a word. */
		{ "xE'a'", "xE?" },
		{ "sale'x'", "sale?" },
		{ "WHERE'x'", "WHERE?" },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_dollar)
{
	static const struct redact_case cases[] = {
		{ "$$a$$", "?" },
		{ "$$$$", "?" },
		{ "$$it's$$ x", "? x" },
		{ "$tag$ $x$ inner $x$ $tag$ y", "? y" },
		{ "$a$x$b$y$a$", "?" },
		{ "$_1$a$_1$", "?" },
		{ "$é$a$é$", "?" },
		{ "$A$a$a$ b $A$", "?" },
		{ "DO $body$BEGIN RAISE 'x'; END$body$;", "DO ?;" },
		{ "$$unterminated", "?" },
		{ "$x$unterminated $x", "?" },
		{ "$1", "$1" },
		{ "$12 + $3", "$12 + $3" },
		{ "$1::int", "$1::int" },
		{ "$1abc", "$1abc" },
		{ "$", "$" },
		{ "$ a", "$ a" },
		{ "$a", "$a" },
		{ "a$1", "a$1" },
		{ "a$b$c", "a$b$c" },
		{ "x $1$", "x $1$" },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_numbers)
{
	static const struct redact_case cases[] = {
		{ "42", "?" },
		{ "0", "?" },
		{ "1_000_000", "?" },
		{ "3.14", "?" },
		{ "1.", "?" },
		{ ".5", "?" },
		{ "1e10", "?" },
		{ "2.5E-3", "?" },
		{ "1e+5", "?" },
		{ ".5e-3", "?" },
		{ "0x1F", "?" },
		{ "0X_ff", "?" },
		{ "0o17", "?" },
		{ "0b101", "?" },
		{ "0B1_0", "?" },
		{ "-1", "-?" },
		{ "+.5", "+?" },
		{ "a-1", "a-?" },
		{ "1..10", "?..?" },
		{ "arr[1:2]", "arr[?:?]" },
		{ "x::numeric(10,2)", "x::numeric(?,?)" },
		{ "1+2*3", "?+?*?" },
		/* operator bytes (copied without the full scan) right before a literal */
		{ "a=1,b=(2);c<>'x'", "a=?,b=(?);c<>?" },
		{ "f(1)||E'\\n'!~$$x$$", "f(?)||?!~?" },
		{ "@1#2%3^4&5|6`7\\8", "@?#?%?^?&?|?`?\\?" },
		/* trailing junk (PostgreSQL 16) is read as an identifier, as before 16 */
		{ "123abc", "?abc" },
		{ "0xZZ", "?xZZ" },
		{ "1e", "?" },
		{ "1e x", "?e x" },
		{ "1.2.3", "??" },
		{ "t.5", "t?" },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_identifiers)
{
	static const struct redact_case cases[] = {
		{ "t1", "t1" },
		{ "col_2", "col_2" },
		{ "_1", "_1" },
		{ "t1.c2", "t1.c2" },
		{ "été2 名前3", "été2 名前3" },
		{ "\"a 1\"", "\"a 1\"" },
		{ "\"x\"\"y 2\"", "\"x\"\"y 2\"" },
		{ "\"it's 'q'\" 1", "\"it's 'q'\" ?" },
		{ "U&\"d\\0061t\" 1", "U&\"d\\0061t\" ?" },
		{ "\"--\" \"/*\"", "\"--\" \"/*\"" },
		{ "SeLeCt\t1\r\n  FROM\fT", "SeLeCt\t?\r\n  FROM\fT" },
		{ "a>=b AND c @> d || e", "a>=b AND c @> d || e" },
		{ "SELECT \"unclosed", "SELECT " },
		{ "SELECT \"unclosed\"\"", "SELECT " },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_comments)
{
	static const struct redact_case cases[] = {
		{ "a -- c\nb", "a  \nb" },
		{ "a --c\r\nb", "a  \r\nb" },
		{ "a--", "a " },
		{ "-- only", " " },
		{ "/* a /* nested */ still */x", " x" },
		{ "a/* open", "a " },
		{ "a/* /* */ still open", "a " },
		{ "a/*/b", "a " },
		{ "a - -1", "a - -?" },
		{ "a -/* */- b", "a - - b" },
		{ "a/**/1", "a ?" },
		{ "SELECT 'a' /* 'b' */ 'c'", "SELECT ?   ?" },
		{ "x */ y", "x */ y" },
		{ "a/-b", "a/-b" },
	};

	(void)state;
	run_redact(cases, N(cases));
}

UNIT_TEST(test_redact_nul_and_edges)
{
	static const char with_nul[] = "SELECT 1\0 'x' SECRET";
	char out[64], one[1];

	(void)state;
	check_redact(with_nul, sizeof(with_nul) - 1, "SELECT ?");
	check_redact("SELECT 42", 8, "SELECT ?");
	check_redact("SELECT 'abc'", 10, "SELECT ?");
	check_redact("", 0, "");
	assert_int_equal(sql_redact(NULL, 10, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	memset(one, 0x55, sizeof(one));
	assert_int_equal(sql_redact("SELECT 1", 8, one, sizeof(one)), 0);
	assert_int_equal(one[0], '\0');
	assert_int_equal(sql_redact("SELECT 1", 8, NULL, 0), 0);
}

static bool has_any(const char *s, const char *set)
{
	return s[strcspn(s, set)] != '\0';
}

/* Inputs cut at every length: nothing of a literal or comment ever shows. The marker letters
 * Z and q occur nowhere but inside literals and comments. */
UNIT_TEST(test_redact_cut_inputs)
{
	static const char *const stmts[] = {
		("SELECT 'ZqZq''Zq', E'Zq\\'Zq\\\\', $$Zq$$, $t$Zq$t$, U&'Zq', X'Zq', B'Zq', "
		 "N'Zq', 1 /* Zq /* Zq */ Zq */ -- Zq\n FROM t WHERE a = $1"),
		"UPDATE t SET a = E'\\'Zq' || 'Zq''' WHERE b = $tag$ $x$ Zq $x$ $tag$;",
		"INSERT INTO t VALUES ('Zq', 'Zq')/* Zq */, ($$Zq'Zq$$)--Zq",
		"SELECT \"col 1\", 'Zq' FROM \"My Tab\" WHERE x = 'é Zq 名'",
	};
	char out[512], prev[512];
	size_t s, k;

	(void)state;
	for (s = 0; s < N(stmts); s++) {
		size_t len = strlen(stmts[s]);

		for (k = 0; k <= len; k++) {
			size_t n;

			memset(out, 0x55, sizeof(out));
			n = sql_redact(stmts[s], k, out, sizeof(out));
			assert_non_null(memchr(out, '\0', sizeof(out)));
			assert_int_equal(n, strlen(out));
			assert_true(n <= k);
			if (has_any(out, "Zq'"))
				fail_msg("\"%.*s\": got \"%s\"", (int)k, stmts[s], out);
			/* Redacting again changes nothing. */
			sql_redact(out, n, prev, sizeof(prev));
			assert_string_equal(prev, out);
		}
	}
}

static bool on_boundary(const char *s, size_t i)
{
	return s[i] == '\0' || ((unsigned char)s[i] & 0xc0) != 0x80;
}

/* Every output size: the longest prefix of the full output that ends between characters. */
UNIT_TEST(test_redact_out_sizes)
{
	static const char *const stmts[] = {
		"SELECT \"été\", 名前 FROM t WHERE x = 'ö' AND y = 𝄞1",
		"ü",
		"SELECT 'x' -- 名\n, 🙂",
	};
	char full[256], out[256];
	size_t s, size;

	(void)state;
	for (s = 0; s < N(stmts); s++) {
		size_t flen = sql_redact(stmts[s], strlen(stmts[s]), full, sizeof(full));

		for (size = 1; size <= flen + 2; size++) {
			size_t n, want = size - 1 < flen ? size - 1 : flen;

			while (!on_boundary(full, want))
				want--;
			memset(out, 0x55, sizeof(out));
			n = sql_redact(stmts[s], strlen(stmts[s]), out, size);
			assert_int_equal(out[n], '\0');
			assert_int_equal(n, strlen(out));
			assert_true(n < size);
			assert_int_equal(n, want);
			assert_memory_equal(out, full, n);
		}
	}
}

/* A character that the input cuts short is not copied either. */
UNIT_TEST(test_redact_cut_utf8)
{
	(void)state;
	check_redact("SELECT é", strlen("SELECT é") - 1, "SELECT ");
	check_redact("SELECT 名", strlen("SELECT 名") - 1, "SELECT ");
	check_redact("SELECT 名", strlen("SELECT 名") - 2, "SELECT ");
	check_redact("x \xe2\x82\xe2\x82", 6, "x ");
	check_redact("a\xc3\"b", 4, "a");
	/* Invalid bytes that are not a cut character are not ours to fix. */
	check_redact("a\x80", 2, "a\x80");
	check_redact("a\xff", 2, "a\xff");
}

static void check_summary(const char *in, size_t len, const char *op, const char *collection)
{
	struct sql_summary s;
	char red[1024];

	memset(&s, 0x55, sizeof(s));
	sql_summarize(in, len, &s);
	if (strcmp(s.op, op) || strcmp(s.collection, collection))
		fail_msg("\"%s\": got %s \"%s\", want %s \"%s\"", in, s.op, s.collection, op,
			 collection);
	/* The summary of the redacted text is the same. */
	sql_redact(in, len, red, sizeof(red));
	memset(&s, 0x55, sizeof(s));
	sql_summarize(red, strlen(red), &s);
	if (strcmp(s.op, op) || strcmp(s.collection, collection))
		fail_msg("redacted \"%s\": got %s \"%s\", want %s \"%s\"", red, s.op, s.collection,
			 op, collection);
}

static void run_summary(const struct summary_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_summary(c[i].in, strlen(c[i].in), c[i].op, c[i].collection);
}

/* What pgbench's TPC-B-like script sends. */
UNIT_TEST(test_summary_pgbench)
{
	static const struct summary_case cases[] = {
		{ "BEGIN;", "BEGIN", "" },
		{ "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", "UPDATE",
		  "pgbench_accounts" },
		{ "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", "SELECT",
		  "pgbench_accounts" },
		{ "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;", "UPDATE",
		  "pgbench_tellers" },
		{ "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;", "UPDATE",
		  "pgbench_branches" },
		{ "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
		  "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);",
		  "INSERT", "pgbench_history" },
		{ "END;", "END", "" },
		/* the simple protocol: literals in the text */
		{ "UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 5;",
		  "UPDATE", "pgbench_accounts" },
		{ "SELECT abalance FROM pgbench_accounts WHERE aid = 98765;", "SELECT",
		  "pgbench_accounts" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_op)
{
	static const struct summary_case cases[] = {
		{ "end", "END", "" },
		{ "commit", "COMMIT", "" },
		{ "ROLLBACK", "ROLLBACK", "" },
		{ "  \n\t/* x */ -- y\n BEGIN", "BEGIN", "" },
		{ "((SELECT 1))", "SELECT", "" },
		{ " ( ( select 1 ) )", "SELECT", "" },
		{ "SET search_path = x", "SET", "" },
		{ "SHOW work_mem", "SHOW", "" },
		{ "VACUUM t", "VACUUM", "" },
		{ "ANALYZE t", "ANALYZE", "" },
		{ "EXPLAIN SELECT * FROM t", "EXPLAIN", "" },
		{ "PREPARE p AS SELECT * FROM t", "PREPARE", "" },
		{ "EXECUTE p(1)", "EXECUTE", "" },
		{ "DEALLOCATE p", "DEALLOCATE", "" },
		{ "LISTEN ch", "LISTEN", "" },
		{ "NOTIFY ch, 'x'", "NOTIFY", "" },
		{ "DO $$BEGIN END$$", "DO", "" },
		{ "CALL p()", "CALL", "" },
		{ "FETCH 10 FROM c", "FETCH", "" },
		{ "DECLARE c CURSOR FOR SELECT * FROM t", "DECLARE", "" },
		{ "CLOSE c", "CLOSE", "" },
		{ "LOCK TABLE t", "LOCK", "" },
		{ "GRANT SELECT ON t TO r", "GRANT", "" },
		{ "REVOKE ALL ON t FROM r", "REVOKE", "" },
		{ "START TRANSACTION", "START", "" },
		{ "SAVEPOINT s", "SAVEPOINT", "" },
		{ "RELEASE s", "RELEASE", "" },
		{ "VALUES (1), (2)", "VALUES", "" },
		{ "", "", "" },
		{ "   ", "", "" },
		{ ")))", "", "" },
		{ "(((", "", "" },
		{ ";", "", "" },
		{ "-- only a comment", "", "" },
		{ "/* open comment", "", "" },
		{ "42", "", "" },
		{ "'SELECT'", "", "" },
		{ "\"SELECT\" 1", "", "" },
		{ "$1", "", "" },
		{ "select1 x", "", "" },
		{ "sel_ect", "", "" },
		{ "é", "", "" },
		/* only the words SQL commands begin with: a typo or a made-up word names nothing */
		{ "SELEC 1", "", "" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE", "", "" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "", "" },
		{ "checkpoint", "CHECKPOINT", "" },
		{ "Abort", "ABORT", "" },
		/* cut input */
		{ "SEL", "", "" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_select)
{
	static const struct summary_case cases[] = {
		{ "SELECT * FROM users", "SELECT", "users" },
		{ "sElEcT * fRoM MyTab", "SELECT", "MyTab" },
		{ "select * from Users u where u.id = 1", "SELECT", "Users" },
		{ "SELECT * FROM users AS u", "SELECT", "users" },
		{ "SELECT * FROM users AS u (a, b) WHERE a = 1", "SELECT", "users" },
		{ "SELECT * FROM users \"U\" LIMIT 1", "SELECT", "users" },
		{ "SELECT * FROM ONLY t", "SELECT", "t" },
		{ "SELECT * FROM t;", "SELECT", "t" },
		{ "SELECT * FROM t\n", "SELECT", "t" },
		{ "SELECT * FROM t GROUP BY a", "SELECT", "t" },
		{ "SELECT * FROM t ORDER BY 1 LIMIT 5", "SELECT", "t" },
		{ "SELECT * FROM t LIMIT 5", "SELECT", "t" },
		{ "SELECT * FROM t OFFSET 5", "SELECT", "t" },
		{ "SELECT * FROM t FOR UPDATE", "SELECT", "t" },
		{ "SELECT a FROM t HAVING count(*) > 1", "SELECT", "t" },
		{ "SELECT * FROM t WINDOW w AS ()", "SELECT", "t" },
		{ "SELECT * FROM t FETCH FIRST 1 ROW ONLY", "SELECT", "t" },
		{ "SELECT a FROM t UNION SELECT a FROM u", "SELECT", "t" },
		{ "SELECT a FROM t EXCEPT SELECT a FROM u", "SELECT", "t" },
		{ "SELECT a FROM t INTERSECT SELECT a FROM u", "SELECT", "t" },
		{ "(SELECT a FROM t) UNION (SELECT a FROM u)", "SELECT", "t" },
		{ "((select a from t))", "SELECT", "t" },
		{ "/* c */ -- c\n SELECT * FROM t", "SELECT", "t" },
		{ "SELECT * FROM t WHERE s = 'FROM x'", "SELECT", "t" },
		{ "SELECT (SELECT max(id) FROM t2) FROM t1", "SELECT", "t1" },
		{ "SELECT extract(year FROM now()) FROM t", "SELECT", "t" },
		{ "SELECT a IS DISTINCT FROM b FROM t", "SELECT", "t" },
		{ "SELECT * FROM t WHERE x IN (SELECT y FROM u, v)", "SELECT", "t" },
		{ "SELECT DISTINCT a FROM t", "SELECT", "t" },
		{ "SELECT DISTINCT ON (a) a FROM t", "SELECT", "t" },
		{ "SELECT * FROM users WHERE name = ? AND id = ?", "SELECT", "users" },
		{ "SELECT * FROM public.pgbench_accounts", "SELECT", "public.pgbench_accounts" },
		{ "SELECT * FROM db.public.t", "SELECT", "db.public.t" },
		{ "SELECT * FROM \"My Table\"", "SELECT", "My Table" },
		{ "SELECT * FROM \"My \"\"Quoted\"\" Table\"", "SELECT", "My \"Quoted\" Table" },
		{ "SELECT * FROM \"Sch\".\"Tab\" x", "SELECT", "Sch.Tab" },
		{ "SELECT * FROM s.\"T\"", "SELECT", "s.T" },
		{ "SELECT * FROM été", "SELECT", "été" },
		{ "SELECT * FROM a, b", "SELECT", "" },
		{ "SELECT * FROM t1 x, t2 y", "SELECT", "" },
		{ "SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "" },
		{ "SELECT * FROM a INNER JOIN b USING (id)", "SELECT", "" },
		{ "SELECT * FROM a LEFT JOIN b ON true", "SELECT", "" },
		{ "SELECT * FROM a RIGHT OUTER JOIN b ON true", "SELECT", "" },
		{ "SELECT * FROM a FULL JOIN b ON true", "SELECT", "" },
		{ "SELECT * FROM a CROSS JOIN b", "SELECT", "" },
		{ "SELECT * FROM a NATURAL JOIN b", "SELECT", "" },
		{ "SELECT * FROM a x JOIN b y ON true", "SELECT", "" },
		{ "SELECT * FROM a AS x LEFT JOIN b ON true", "SELECT", "" },
		{ "SELECT * FROM (SELECT * FROM t) s", "SELECT", "" },
		{ "SELECT * FROM LATERAL (SELECT 1) s", "SELECT", "" },
		{ "SELECT * FROM generate_series(1, 10)", "SELECT", "" },
		{ "SELECT * FROM t TABLESAMPLE SYSTEM (10)", "SELECT", "" },
		{ "SELECT 1", "SELECT", "" },
		{ "SELECT 'x FROM y'", "SELECT", "" },
		{ "SELECT a -- FROM t\n", "SELECT", "" },
		{ "SELECT a /* FROM t */", "SELECT", "" },
		{ "SELECT \"from\" FROM t", "SELECT", "t" },
		/* cut inputs */
		{ "SELECT * FROM", "SELECT", "" },
		{ "SELECT * FROM s.", "SELECT", "" },
		{ "SELECT * FROM \"unclosed", "SELECT", "" },
		{ "SELECT * FROM t AS", "SELECT", "" },
		{ "SELECT * FROM t \"unclosed alias", "SELECT", "t" },
		{ "SELECT * FROM s.\"a \"T \"  (a )WHERE", "SELECT", "s.a " },
		{ "SELECT * FROM t WHERE a = 'cut", "SELECT", "t" },
		{ "SELECT (a FROM t", "SELECT", "" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_dml)
{
	static const struct summary_case cases[] = {
		{ "INSERT INTO t VALUES (1)", "INSERT", "t" },
		{ "insert into s.t(a) values ($1)", "INSERT", "s.t" },
		{ "INSERT INTO \"T\" AS x VALUES (1)", "INSERT", "T" },
		{ "INSERT INTO t SELECT * FROM u", "INSERT", "t" },
		{ "INSERT t", "INSERT", "" },
		{ "INSERT INTO", "INSERT", "" },
		{ "UPDATE t SET a = 1", "UPDATE", "t" },
		{ "UPDATE ONLY t SET a = 1", "UPDATE", "t" },
		{ "update \"x y\" set a = 1", "UPDATE", "x y" },
		{ "UPDATE t SET a = u.a FROM u WHERE t.id = u.id", "UPDATE", "t" },
		{ "DELETE FROM t WHERE a = 1", "DELETE", "t" },
		{ "DELETE FROM ONLY s.t", "DELETE", "s.t" },
		{ "DELETE FROM t USING u WHERE t.id = u.id", "DELETE", "t" },
		{ "DELETE t", "DELETE", "" },
		{ "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE", "t" },
		{ "MERGE INTO ONLY t AS x USING s ON true", "MERGE", "t" },
		{ "COPY t FROM STDIN", "COPY", "t" },
		{ "COPY public.t (a, b) TO STDOUT", "COPY", "public.t" },
		{ "COPY (SELECT 1) TO STDOUT", "COPY", "" },
		{ "TABLE t", "TABLE", "t" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_ddl)
{
	static const struct summary_case cases[] = {
		{ "TRUNCATE t", "TRUNCATE", "t" },
		{ "TRUNCATE TABLE t", "TRUNCATE", "t" },
		{ "TRUNCATE TABLE ONLY t RESTART IDENTITY", "TRUNCATE", "t" },
		{ "TRUNCATE ONLY s.t;", "TRUNCATE", "s.t" },
		{ "TRUNCATE a, b", "TRUNCATE", "" },
		{ "CREATE TABLE t (a int)", "CREATE", "t" },
		{ "CREATE TEMP TABLE t (a int)", "CREATE", "t" },
		{ "CREATE TEMPORARY TABLE IF NOT EXISTS s.t (a int)", "CREATE", "s.t" },
		{ "CREATE UNLOGGED TABLE t (a int)", "CREATE", "t" },
		{ "CREATE GLOBAL TEMPORARY TABLE t (a int)", "CREATE", "t" },
		{ "create table \"Mixed Case\" (a int)", "CREATE", "Mixed Case" },
		{ "CREATE TABLE if (a int)", "CREATE", "if" },
		{ "CREATE UNIQUE INDEX i ON t (a)", "CREATE", "t" },
		{ "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t USING btree (a)", "CREATE",
		  "s.t" },
		{ "CREATE INDEX ON t (a)", "CREATE", "t" },
		{ "CREATE INDEX i", "CREATE", "i" },
		{ "CREATE INDEX i ON", "CREATE", "i" },
		{ "CREATE VIEW v AS SELECT * FROM t", "CREATE", "v" },
		{ "CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE", "v" },
		{ "CREATE OR REPLACE TEMP RECURSIVE VIEW v (n) AS SELECT 1", "CREATE", "v" },
		{ "CREATE MATERIALIZED VIEW mv AS SELECT 1", "CREATE", "mv" },
		{ "CREATE SEQUENCE IF NOT EXISTS s", "CREATE", "s" },
		{ "CREATE FUNCTION f() RETURNS int", "CREATE", "" },
		{ "CREATE TABLE", "CREATE", "" },
		{ "DROP TABLE t", "DROP", "t" },
		{ "DROP TABLE IF EXISTS t CASCADE", "DROP", "t" },
		{ "DROP TABLE a, b", "DROP", "" },
		{ "DROP INDEX CONCURRENTLY IF EXISTS i", "DROP", "i" },
		{ "DROP VIEW v", "DROP", "v" },
		{ "DROP MATERIALIZED VIEW IF EXISTS mv", "DROP", "mv" },
		{ "DROP SEQUENCE s", "DROP", "s" },
		{ "DROP FUNCTION f", "DROP", "" },
		{ "ALTER TABLE t ADD COLUMN a int", "ALTER", "t" },
		{ "ALTER TABLE IF EXISTS ONLY s.t ADD COLUMN a int", "ALTER", "s.t" },
		{ "alter table \"T\" rename to u", "ALTER", "T" },
		{ "ALTER INDEX i RENAME TO j", "ALTER", "i" },
		{ "ALTER ROLE r WITH LOGIN", "ALTER", "" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_with)
{
	static const struct summary_case cases[] = {
		{ "WITH x AS (SELECT * FROM a) SELECT * FROM x", "SELECT", "x" },
		{ "with x as (select 1) select * from Y", "SELECT", "Y" },
		{ "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 9) "
		  "SELECT * FROM r",
		  "SELECT", "r" },
		{ "WITH a AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (SELECT ')') "
		  "DELETE FROM t USING a",
		  "DELETE", "t" },
		{ "WITH u AS (UPDATE t SET x = 1 RETURNING *) INSERT INTO log SELECT * FROM u",
		  "INSERT", "log" },
		{ "WITH \"Q\" (a, b) AS (SELECT 1, 2) UPDATE t SET a = 1", "UPDATE", "t" },
		{ "WITH x AS (SELECT 1) (SELECT * FROM y)", "SELECT", "y" },
		{ "WITH x AS (SELECT 1) MERGE INTO t USING x ON true", "MERGE", "t" },
		{ "WITH RECURSIVE t(id) AS (SELECT 1) SEARCH DEPTH FIRST BY id SET ord "
		  "SELECT * FROM t",
		  "SELECT", "t" },
		{ "WITH RECURSIVE t(id) AS (SELECT 1) CYCLE id SET c TO 'y' DEFAULT 'n' USING p "
		  "SELECT * FROM t",
		  "SELECT", "t" },
		{ "with x as (select 1) values (1)", "VALUES", "" },
		{ "WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN a ON true", "SELECT", "" },
		{ "WITH x AS (SELECT '(' FROM a /* ( */) SELECT * FROM b", "SELECT", "b" },
		/* cut, or not making sense: still a WITH query */
		{ "WITH", "WITH", "" },
		{ "WITH x AS (SELECT 1", "WITH", "" },
		{ "WITH x AS (SELECT 1)", "WITH", "" },
		{ "WITH x AS (SELECT 1) SEL1", "WITH", "" },
		{ "WITH x (SELECT 1) SELECT 1", "WITH", "" },
	};

	(void)state;
	run_summary(cases, N(cases));
}

UNIT_TEST(test_summary_edges)
{
	static const char with_nul[] = "SELECT * FROM t\0 JOIN u";
	char name[200], sql[256];
	struct sql_summary s;
	size_t k;

	(void)state;
	check_summary(with_nul, sizeof(with_nul) - 1, "SELECT", "t");
	check_summary("SELECT * FROM tab WHERE", 16, "SELECT", "ta");
	/* a character cut short is not part of the name */
	check_summary("SELECT * FROM tä", strlen("SELECT * FROM tä") - 1, "SELECT", "t");
	/* as redaction drops a quoted identifier cut short, and then the bad character before it */
	check_summary("DO\xe2\xe2\"5  ", 7, "DO", "");
	check_summary("DROP TABLE t\xc3\"x", 15, "DROP", "t");

	/* Long names are cut to SQL_COLLECTION_MAX - 1 bytes, between characters. */
	memset(name, 'n', 100);
	name[100] = '\0';
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE a = 1", name);
	sql_summarize(sql, strlen(sql), &s);
	assert_int_equal(strlen(s.collection), SQL_COLLECTION_MAX - 1);
	assert_memory_equal(s.collection, name, SQL_COLLECTION_MAX - 1);
	memset(name, 'n', 62);
	strcpy(name + 62, "éé");
	snprintf(sql, sizeof(sql), "UPDATE %s SET a = 1", name);
	sql_summarize(sql, strlen(sql), &s);
	assert_int_equal(strlen(s.collection), 62);

	sql_summarize(NULL, 5, &s);
	assert_string_equal(s.op, "");
	assert_string_equal(s.collection, "");
	sql_summarize("SELECT 1", 8, NULL);

	/* Cut anywhere: always terminated, op upper-case letters. */
	strcpy(sql, "WITH x AS (SELECT '(', \"a\"\"b\" FROM s.\"T\") "
		    "SELECT * FROM x AS y WHERE z = 1");
	for (k = 0; k <= strlen(sql); k++) {
		size_t i;

		memset(&s, 0x55, sizeof(s));
		sql_summarize(sql, k, &s);
		assert_non_null(memchr(s.op, '\0', sizeof(s.op)));
		assert_non_null(memchr(s.collection, '\0', sizeof(s.collection)));
		for (i = 0; s.op[i]; i++)
			assert_true(s.op[i] >= 'A' && s.op[i] <= 'Z');
	}
}

UNIT_MAIN(NULL, NULL)
