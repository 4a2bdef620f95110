// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/sql.h"

#include <string.h>

/*
 * One lexer serves both functions, so that redaction and the summary agree on what is a
 * literal, a comment or a name. It follows PostgreSQL's scan.l with its default settings
 * (standard_conforming_strings on: a backslash is an escape only in E'..'), is lenient where
 * PostgreSQL would report an error, and reports a quote or comment that the end of the input
 * cuts short as open rather than failing.
 */
enum tok_kind {
	TK_SPACE,
	TK_COMMENT,
	TK_IDENT,   /* identifier or keyword, unquoted */
	TK_QIDENT,  /* "quoted identifier" or U&"..." */
	TK_LITERAL, /* string constant, dollar-quoted string or number */
	TK_PARAM,   /* $1 */
	TK_OP,	    /* any other byte, one at a time (but ..) */
	TK_END,
};

struct tok {
	enum tok_kind kind;
	size_t pos;
	size_t len;
	bool open; /* a quote or comment the end of the input cut short */
};

/* Byte classes, one table lookup each: the scanner's every step asks one of these. C_COPY: a
 * byte redaction copies as it is, whatever follows: a blank, or an operator byte no other
 * token starts with ('=', ',', '(', ...: not '-', '/', '.', a quote, '$', a digit or a word's
 * byte). */
enum { C_ALPHA = 1, C_DIGIT = 2, C_SPACE = 4, C_IDSTART = 8, C_IDCONT = 16, C_COPY = 32 };

#define LETTER (C_ALPHA | C_IDSTART | C_IDCONT)
/* one class a line, in byte order */
/* clang-format off */
static const unsigned char cls[256] = {
	[0 ... 0x08] = C_COPY,
	['\t' ... '\r'] = C_SPACE | C_COPY,
	[0x0e ... 0x1f] = C_COPY,
	[' '] = C_SPACE | C_COPY,
	['!'] = C_COPY,
	['#'] = C_COPY,
	['$'] = C_IDCONT,
	['%' ... '&'] = C_COPY,
	['(' ... ','] = C_COPY,
	['0' ... '9'] = C_DIGIT | C_IDCONT,
	[':' ... '@'] = C_COPY,
	['A' ... 'Z'] = LETTER,
	['[' ... '^'] = C_COPY,
	['_'] = C_IDSTART | C_IDCONT,
	['`'] = C_COPY,
	['a' ... 'z'] = LETTER,
	['{' ... 0x7f] = C_COPY,
	[0x80 ... 0xff] = C_IDSTART | C_IDCONT,
};
/* clang-format on */

static bool is_alpha(unsigned char c)
{
	return cls[c] & C_ALPHA;
}

static bool is_digit(unsigned char c)
{
	return cls[c] & C_DIGIT;
}

static bool is_space(unsigned char c)
{
	return cls[c] & C_SPACE;
}

/* letters, '_' and every byte of a multibyte character */
static bool is_ident_start(unsigned char c)
{
	return cls[c] & C_IDSTART;
}

static bool is_ident_cont(unsigned char c)
{
	return cls[c] & C_IDCONT;
}

/* Where the word whose bytes after its first go on from s[j] ends. */
static size_t word_end(const unsigned char *s, size_t n, size_t j)
{
	while (j < n && is_ident_cont(s[j]))
		j++;
	return j;
}

static bool in_base(unsigned char c, unsigned char base)
{
	switch (base) {
	case 'x':
		return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
	case 'o':
		return c >= '0' && c <= '7';
	default:
		return c == '0' || c == '1';
	}
}

static char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* The input ends at len or at its first NUL: it may be a C string that was cut. */
static size_t input_len(const char *sql, size_t len)
{
	const char *nul;

	if (!sql)
		return 0;
	nul = memchr(sql, '\0', len);
	return nul ? (size_t)(nul - sql) : len;
}

/*
 * Length of s without a multibyte character cut short at its end. Repeated, because removing
 * one cut character can expose another ("\xe2\x82\xe2\x82"). Invalid bytes that are not the
 * start of a cut character are left alone: they are not ours to fix.
 */
static size_t utf8_trim(const unsigned char *s, size_t len)
{
	for (;;) {
		size_t j = len, cont = 0, need;
		unsigned char c;

		while (j && cont < 3 && (s[j - 1] & 0xc0) == 0x80) {
			j--;
			cont++;
		}
		if (!j)
			return len;
		c = s[j - 1];
		if (c < 0xc0 || c >= 0xf8)
			return len;
		need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		if (cont >= need)
			return len;
		len = j - 1;
	}
}

/* End of a quoted run whose opening quote is at s[i]; a doubled quote stands for itself. */
static size_t quoted_end(const unsigned char *s, size_t n, size_t i, bool backslash, bool *open)
{
	unsigned char q = s[i];

	for (i++; i < n; i++) {
		if (backslash && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] != q)
			continue;
		if (i + 1 < n && s[i + 1] == q) {
			i++;
			continue;
		}
		return i + 1;
	}
	/* Also a doubled quote or a backslash as the last byte: the input may go on after it. */
	*open = true;
	return n;
}

/* Length of a dollar-quote delimiter ($$, $tag$) at s[i], else 0. A tag does not start with a
 * digit, which is what tells $1 (a parameter) apart. */
static size_t dollar_delim(const unsigned char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && is_ident_start(s[j]))
		while (j < n && is_ident_cont(s[j]) && s[j] != '$')
			j++;
	return j < n && s[j] == '$' ? j + 1 - i : 0;
}

static size_t dollar_end(const unsigned char *s, size_t n, size_t i, size_t dlen, bool *open)
{
	size_t j;

	for (j = i + dlen; j + dlen <= n; j++)
		if (s[j] == '$' && !memcmp(s + j, s + i, dlen))
			return j + dlen;
	*open = true;
	return n;
}

static size_t skip_digits(const unsigned char *s, size_t n, size_t i)
{
	while (i < n && (is_digit(s[i]) || s[i] == '_'))
		i++;
	return i;
}

/*
 * End of the number at s[i] (a digit, or a '.' before one): 42, 1_000, 3.14, 1., .5, 1e10,
 * 2.5E-3, 0x1F, 0o17, 0b101. What PostgreSQL 16 calls trailing junk (123abc) ends the number
 * and starts an identifier, as older versions read it. A prefix or exponent marker at the very
 * end of the input is taken as a number cut short.
 */
static size_t number_end(const unsigned char *s, size_t n, size_t i)
{
	size_t j;

	if (s[i] == '0' && i + 1 < n) {
		unsigned char base = s[i + 1] | 0x20;

		if (base == 'x' || base == 'o' || base == 'b') {
			for (j = i + 2; j < n && (s[j] == '_' || in_base(s[j], base)); j++)
				;
			if (j > i + 2 || j == n)
				return j;
		}
	}
	j = skip_digits(s, n, i);
	/* "1..10" is an integer and a range (PL/pgSQL), not "1." and ".10" */
	if (j < n && s[j] == '.' && !(j + 1 < n && s[j + 1] == '.'))
		j = skip_digits(s, n, j + 1);
	if (j < n && (s[j] | 0x20) == 'e') {
		size_t k = j + 1;

		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k == n)
			return n;
		if (is_digit(s[k]))
			j = skip_digits(s, n, k);
	}
	return j;
}

/* The token at s[i], i < n. Every token is at least one byte long. */
static void scan(const unsigned char *s, size_t n, size_t i, struct tok *t)
{
	unsigned char c = s[i], c1 = i + 1 < n ? s[i + 1] : 0, c2 = i + 2 < n ? s[i + 2] : 0;
	size_t j = i + 1, d;

	t->pos = i;
	t->open = false;
	if (is_space(c)) {
		t->kind = TK_SPACE;
		while (j < n && is_space(s[j]))
			j++;
	} else if (c == '-' && c1 == '-') {
		t->kind = TK_COMMENT;
		while (j < n && s[j] != '\n' && s[j] != '\r')
			j++;
	} else if (c == '/' && c1 == '*') {
		unsigned depth = 1;

		t->kind = TK_COMMENT;
		for (j = i + 2; depth && j < n; j++) {
			if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
				depth++;
				j++;
			} else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
				depth--;
				j++;
			}
		}
		t->open = depth > 0;
		if (j > n)
			j = n;
	} else if (c == '\'') {
		t->kind = TK_LITERAL;
		j = quoted_end(s, n, i, false, &t->open);
	} else if (c == '"') {
		t->kind = TK_QIDENT;
		j = quoted_end(s, n, i, false, &t->open);
	} else if (c1 == '\'' && ((c | 0x20) == 'e' || (c | 0x20) == 'b' || (c | 0x20) == 'x' ||
				  (c | 0x20) == 'n')) {
		/* The prefix belongs to the literal: E'..' becomes '?', not 'E?'. */
		t->kind = TK_LITERAL;
		j = quoted_end(s, n, i + 1, (c | 0x20) == 'e', &t->open);
	} else if ((c | 0x20) == 'u' && c1 == '&' && (c2 == '\'' || c2 == '"')) {
		t->kind = c2 == '\'' ? TK_LITERAL : TK_QIDENT;
		j = quoted_end(s, n, i + 2, false, &t->open);
	} else if (is_ident_start(c)) {
		t->kind = TK_IDENT;
		j = word_end(s, n, j);
	} else if (c == '$' && (d = dollar_delim(s, n, i))) {
		t->kind = TK_LITERAL;
		j = dollar_end(s, n, i, d, &t->open);
	} else if (c == '$' && is_digit(c1)) {
		t->kind = TK_PARAM;
		while (j < n && is_digit(s[j]))
			j++;
	} else if (is_digit(c) || (c == '.' && is_digit(c1))) {
		t->kind = TK_LITERAL;
		j = number_end(s, n, i);
	} else {
		t->kind = TK_OP;
		/* A range (PL/pgSQL's 1..10) stays one, rather than '.' and the number .10. */
		if (c == '.' && c1 == '.')
			j++;
	}
	t->len = j - i;
}

/* Bounded output; once something does not fit, everything after it is dropped too. */
struct out {
	char *buf;
	size_t size;
	size_t len;
	bool full;
};

static void out_put(struct out *o, const void *p, size_t n)
{
	if (o->full)
		return;
	if (n > o->size - 1 - o->len) {
		n = o->size - 1 - o->len;
		o->full = true;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

size_t sql_redact(const char *sql, size_t len, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)sql;
	struct out o = { out, outsz, 0, false };
	size_t n = input_len(sql, len), i;
	struct tok t;

	size_t run = 0; /* the tokens copied as they are, from run to i, go out in one piece */

	if (!out || !outsz)
		return 0;
	for (i = 0; i < n && !o.full; i += t.len) {
		/* Most of a statement is copied as it is, without scan()'s tests: a blank or an
		 * operator byte, and a word (not one byte followed by a quote or '&': a literal's
		 * prefix, E'..', U&'..', maybe), whose digits and '$' are its own. */
		if (cls[s[i]] & C_COPY) {
			t.len = 1;
			continue;
		}
		if (is_ident_start(s[i]) && !(i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '&'))) {
			t.len = word_end(s, n, i + 1) - i;
			continue;
		}
		scan(s, n, i, &t);
		if (t.kind != TK_LITERAL && t.kind != TK_COMMENT &&
		    !(t.kind == TK_QIDENT && t.open))
			continue;
		out_put(&o, s + run, i - run);
		run = i + t.len;
		if (t.kind == TK_LITERAL)
			out_put(&o, "?", 1);
		else if (t.kind == TK_COMMENT)
			/* A space, not nothing: a comment between two names must not join them. */
			out_put(&o, " ", 1);
		/* an open quoted name is dropped: half a name is no use, and its end cannot be
		 * told from its content */
	}
	if (i > run)
		out_put(&o, s + run, i - run);
	o.len = utf8_trim((const unsigned char *)out, o.len);
	out[o.len] = '\0';
	return o.len;
}

/* The summary reads the statement as a sequence of tokens. */
struct cur {
	const unsigned char *s;
	size_t n;
	size_t i;
};

/* Next token, whitespace and comments skipped. */
static void next(struct cur *c, struct tok *t)
{
	do {
		if (c->i >= c->n) {
			t->kind = TK_END;
			t->pos = c->n;
			t->len = 0;
			t->open = false;
			return;
		}
		scan(c->s, c->n, c->i, t);
		c->i += t->len;
	} while (t->kind == TK_SPACE || t->kind == TK_COMMENT);
}

static void peek(const struct cur *c, struct tok *t)
{
	struct cur tmp = *c;

	next(&tmp, t);
}

static bool is_op(const struct cur *c, const struct tok *t, char ch)
{
	return t->kind == TK_OP && t->len == 1 && c->s[t->pos] == (unsigned char)ch;
}

/* Keywords are ASCII and case-insensitive; no locale is involved. */
static bool is_kw(const struct cur *c, const struct tok *t, const char *kw)
{
	size_t k;

	if (t->kind != TK_IDENT || t->len != strlen(kw))
		return false;
	for (k = 0; k < t->len; k++)
		if (upper(c->s[t->pos + k]) != kw[k])
			return false;
	return true;
}

static bool is_kw_of(const struct cur *c, const struct tok *t, const char *const *kws)
{
	for (; *kws; kws++)
		if (is_kw(c, t, *kws))
			return true;
	return false;
}

/* Consumes the keywords of a NULL-terminated list if they come next, all of them. */
static bool accept_seq(struct cur *c, const char *const *kws)
{
	struct cur tmp = *c;
	struct tok t;

	for (; *kws; kws++) {
		next(&tmp, &t);
		if (!is_kw(&tmp, &t, *kws))
			return false;
	}
	*c = tmp;
	return true;
}

static bool accept(struct cur *c, const char *kw)
{
	const char *kws[] = { kw, NULL };

	return accept_seq(c, kws);
}

static bool accept_if_exists(struct cur *c)
{
	static const char *const if_exists[] = { "IF", "EXISTS", NULL };

	return accept_seq(c, if_exists);
}

static bool accept_if_not_exists(struct cur *c)
{
	static const char *const if_not_exists[] = { "IF", "NOT", "EXISTS", NULL };

	return accept_seq(c, if_not_exists);
}

/* After an opening parenthesis: up to and including the one that closes it. */
static bool skip_parens(struct cur *c)
{
	unsigned depth = 1;
	struct tok t;

	for (;;) {
		next(c, &t);
		if (t.kind == TK_END)
			return false;
		if (is_op(c, &t, '('))
			depth++;
		else if (is_op(c, &t, ')') && !--depth)
			return true;
	}
}

struct name {
	char buf[SQL_COLLECTION_MAX];
	size_t len;
};

static void name_put(struct name *nm, unsigned char ch)
{
	if (nm->len < sizeof(nm->buf) - 1)
		nm->buf[nm->len++] = (char)ch;
}

/* One part of a name: an identifier as written, or a quoted one without its quotes. */
static bool name_part(struct name *nm, const struct cur *c, const struct tok *t)
{
	const unsigned char *p = c->s + t->pos;
	size_t k;

	if (t->kind == TK_IDENT) {
		for (k = 0; k < t->len; k++)
			name_put(nm, p[k]);
		return true;
	}
	if (t->kind != TK_QIDENT)
		return false;
	k = p[0] == '"' ? 1 : 3; /* "name" or U&"name" */
	for (; k < t->len - 1; k++) {
		name_put(nm, p[k]);
		if (p[k] == '"')
			k++;
	}
	return true;
}

/* A possibly schema-qualified name (db.schema.table), into nm. */
static bool read_name(struct cur *c, struct name *nm)
{
	struct tok t;

	nm->len = 0;
	next(c, &t);
	if (!name_part(nm, c, &t))
		return false;
	for (;;) {
		peek(c, &t);
		if (!is_op(c, &t, '.'))
			return true;
		next(c, &t);
		next(c, &t);
		name_put(nm, '.');
		/* "s." at the end of a cut input is no name yet */
		if (!name_part(nm, c, &t))
			return false;
	}
}

static void set_collection(struct sql_summary *out, const struct name *nm)
{
	size_t len = utf8_trim((const unsigned char *)nm->buf, nm->len);

	memcpy(out->collection, nm->buf, len);
	out->collection[len] = '\0';
}

/* The name that comes next is the collection; with one_of_list, only if no other follows. */
static void take_name(struct cur *c, struct sql_summary *out, bool one_of_list)
{
	struct name nm;
	struct tok t;

	if (!read_name(c, &nm))
		return;
	peek(c, &t);
	/* DROP TABLE a, b and TRUNCATE a, b act on more than one table */
	if (one_of_list && is_op(c, &t, ','))
		return;
	set_collection(out, &nm);
}

static const char *const join_kws[] = {
	"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", NULL,
};

/* What may follow the one table of a FROM list. */
static const char *const from_end_kws[] = {
	"WHERE",  "GROUP", "ORDER",  "LIMIT",	  "OFFSET", "FOR", "HAVING",
	"WINDOW", "UNION", "EXCEPT", "INTERSECT", "FETCH",  NULL,
};

/* After a top-level FROM: the table, if it is the only item of the list. */
static void from_list(struct cur *c, struct sql_summary *out)
{
	struct name nm;
	struct tok t;

	accept(c, "ONLY");
	if (!read_name(c, &nm))
		return; /* a subquery, LATERAL (..) or a cut input */
	peek(c, &t);
	if (is_op(c, &t, '('))
		return; /* a set-returning function: FROM generate_series(1, 10) */
	if (is_kw(c, &t, "AS")) {
		next(c, &t);
		next(c, &t);
		if (t.kind != TK_IDENT && t.kind != TK_QIDENT)
			return;
	} else if (t.kind == TK_QIDENT || (t.kind == TK_IDENT && !is_kw_of(c, &t, from_end_kws) &&
					   !is_kw_of(c, &t, join_kws))) {
		next(c, &t);
	}
	peek(c, &t);
	if (is_op(c, &t, '(')) {
		/* column aliases: FROM t AS a (x, y) */
		next(c, &t);
		if (!skip_parens(c))
			return;
		peek(c, &t);
	}
	if (t.kind == TK_END || is_op(c, &t, ';') || is_op(c, &t, ')') ||
	    is_kw_of(c, &t, from_end_kws))
		set_collection(out, &nm);
}

static void select_stmt(struct cur *c, struct sql_summary *out)
{
	bool after_distinct = false;
	unsigned depth = 0;
	struct tok t;

	for (;;) {
		next(c, &t);
		if (t.kind == TK_END)
			return;
		if (is_op(c, &t, '(')) {
			depth++;
		} else if (is_op(c, &t, ')')) {
			if (!depth)
				return; /* the end of a parenthesised statement */
			depth--;
		} else if (!depth && is_op(c, &t, ';')) {
			return;
		} else if (!depth && !after_distinct && is_kw(c, &t, "FROM")) {
			from_list(c, out);
			return;
		}
		/* a IS DISTINCT FROM b is no FROM clause */
		after_distinct = is_kw(c, &t, "DISTINCT");
	}
}

static const char *const rel_kinds[] = { "TABLE", "INDEX", "VIEW", "SEQUENCE", NULL };

/* CREATE [OR REPLACE] [UNIQUE] [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] [MATERIALIZED|RECURSIVE]
 * TABLE|INDEX|VIEW|SEQUENCE .. */
static void create_stmt(struct cur *c, struct sql_summary *out)
{
	static const char *const or_replace[] = { "OR", "REPLACE", NULL };
	struct name idx, tbl;
	struct tok t;

	accept_seq(c, or_replace);
	accept(c, "UNIQUE");
	if (!accept(c, "GLOBAL"))
		accept(c, "LOCAL");
	if (!accept(c, "TEMP") && !accept(c, "TEMPORARY"))
		accept(c, "UNLOGGED");
	if (!accept(c, "MATERIALIZED"))
		accept(c, "RECURSIVE");
	next(c, &t);
	if (!is_kw_of(c, &t, rel_kinds))
		return;
	if (!is_kw(c, &t, "INDEX")) {
		accept_if_not_exists(c);
		take_name(c, out, false);
		return;
	}
	/* CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table: the table it indexes,
	 * or the index's name when the input ends before the table. */
	accept(c, "CONCURRENTLY");
	accept_if_not_exists(c);
	idx.len = 0;
	if (!accept(c, "ON")) {
		if (!read_name(c, &idx))
			return;
		if (!accept(c, "ON")) {
			set_collection(out, &idx);
			return;
		}
	}
	accept(c, "ONLY");
	if (read_name(c, &tbl))
		set_collection(out, &tbl);
	else if (idx.len)
		set_collection(out, &idx);
}

/* DROP|ALTER [MATERIALIZED] TABLE|INDEX|VIEW|SEQUENCE [CONCURRENTLY] [IF EXISTS] [ONLY] name */
static void drop_alter_stmt(struct cur *c, struct sql_summary *out, bool drop)
{
	struct tok t;

	accept(c, "MATERIALIZED");
	next(c, &t);
	if (!is_kw_of(c, &t, rel_kinds))
		return;
	if (drop)
		accept(c, "CONCURRENTLY");
	accept_if_exists(c);
	if (!drop)
		accept(c, "ONLY");
	take_name(c, out, drop);
}

/* The collection of the statement whose keyword (in upper case) is op. */
static void statement(struct cur *c, const char *op, struct sql_summary *out)
{
	if (!strcmp(op, "SELECT")) {
		select_stmt(c, out);
	} else if (!strcmp(op, "INSERT") || !strcmp(op, "MERGE")) {
		if (accept(c, "INTO")) {
			accept(c, "ONLY");
			take_name(c, out, false);
		}
	} else if (!strcmp(op, "UPDATE") || !strcmp(op, "TABLE")) {
		accept(c, "ONLY");
		take_name(c, out, false);
	} else if (!strcmp(op, "DELETE")) {
		if (accept(c, "FROM")) {
			accept(c, "ONLY");
			take_name(c, out, false);
		}
	} else if (!strcmp(op, "COPY")) {
		/* COPY (query) TO .. names no table; read_name refuses the '(' */
		take_name(c, out, false);
	} else if (!strcmp(op, "TRUNCATE")) {
		accept(c, "TABLE");
		accept(c, "ONLY");
		take_name(c, out, true);
	} else if (!strcmp(op, "CREATE")) {
		create_stmt(c, out);
	} else if (!strcmp(op, "DROP")) {
		drop_alter_stmt(c, out, true);
	} else if (!strcmp(op, "ALTER")) {
		drop_alter_stmt(c, out, false);
	}
}

/* The words PostgreSQL's SQL commands begin with. Anything else (a typo, a client's own
 * command) names no operation: it would make a metric series of its own. */
static const char *const commands[] = {
	"ABORT",   "ALTER",   "ANALYZE", "BEGIN",    "CALL",	  "CHECKPOINT", "CLOSE",
	"CLUSTER", "COMMENT", "COMMIT",	 "COPY",     "CREATE",	  "DEALLOCATE", "DECLARE",
	"DELETE",  "DISCARD", "DO",	 "DROP",     "END",	  "EXECUTE",	"EXPLAIN",
	"FETCH",   "GRANT",   "IMPORT",	 "INSERT",   "LISTEN",	  "LOAD",	"LOCK",
	"MERGE",   "MOVE",    "NOTIFY",	 "PREPARE",  "REASSIGN",  "REFRESH",	"REINDEX",
	"RELEASE", "RESET",   "REVOKE",	 "ROLLBACK", "SAVEPOINT", "SECURITY",	"SELECT",
	"SET",	   "SHOW",    "START",	 "TABLE",    "TRUNCATE",  "UNLISTEN",	"UPDATE",
	"VACUUM",  "VALUES",  "WITH",	 NULL,
};

/* The keyword of t in upper case into op, if it is a command's: letters only, and short
 * enough. op is left as it was otherwise. */
static bool keyword(const struct cur *c, const struct tok *t, char *op)
{
	char word[SQL_OP_MAX];
	size_t k;

	if (t->kind != TK_IDENT || t->len >= SQL_OP_MAX)
		return false;
	for (k = 0; k < t->len; k++)
		if (!is_alpha(c->s[t->pos + k]))
			return false;
	for (k = 0; k < t->len; k++)
		word[k] = upper(c->s[t->pos + k]);
	word[k] = '\0';
	for (k = 0; commands[k]; k++)
		if (!strcmp(word, commands[k])) {
			memcpy(op, word, t->len + 1);
			return true;
		}
	return false;
}

static const char *const main_kws[] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE", NULL,
};

/*
 * WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (..) [SEARCH ..] [CYCLE ..] [, ..]:
 * leaves c before the main statement's keyword and returns true, or false when the input
 * ends (or stops making sense) before it.
 */
static bool skip_ctes(struct cur *c)
{
	struct tok t;

	accept(c, "RECURSIVE");
	for (;;) {
		next(c, &t);
		if (t.kind != TK_IDENT && t.kind != TK_QIDENT)
			return false;
		peek(c, &t);
		if (is_op(c, &t, '(')) {
			next(c, &t);
			if (!skip_parens(c))
				return false;
		}
		if (!accept(c, "AS"))
			return false;
		accept(c, "NOT");
		accept(c, "MATERIALIZED");
		next(c, &t);
		if (!is_op(c, &t, '(') || !skip_parens(c))
			return false;
		/* SEARCH and CYCLE clauses hold no parentheses and no statement keyword */
		for (;;) {
			struct cur before = *c;

			next(c, &t);
			if (t.kind == TK_END || is_op(c, &t, ';'))
				return false;
			if (is_op(c, &t, ','))
				break;
			if (is_op(c, &t, '(')) {
				/* WITH .. (SELECT ..): the main statement in parentheses */
				while (peek(c, &t), is_op(c, &t, '('))
					next(c, &t);
				return true;
			}
			if (is_kw_of(c, &t, main_kws)) {
				*c = before;
				return true;
			}
		}
	}
}

/*
 * How much of the input the summary reads: what sql_redact keeps of it. A quoted identifier
 * that the end cuts short is dropped, and so is a character cut short before that end (the
 * bytes involved are identifier bytes, copied as they are), so that the summary of a
 * statement and of its redacted text are the same.
 */
static size_t summary_len(const unsigned char *s, size_t n)
{
	struct tok t;
	size_t i;

	for (i = 0; i < n; i += t.len) {
		scan(s, n, i, &t);
		if (t.kind == TK_QIDENT && t.open) {
			n = i;
			break;
		}
	}
	return utf8_trim(s, n);
}

void sql_summarize(const char *sql, size_t len, struct sql_summary *out)
{
	struct cur c = { (const unsigned char *)sql, input_len(sql, len), 0 };
	struct tok t;

	if (!out)
		return;
	out->op[0] = '\0';
	out->collection[0] = '\0';
	c.n = summary_len(c.s, c.n);
	do
		next(&c, &t);
	while (is_op(&c, &t, '('));
	if (!keyword(&c, &t, out->op))
		return;
	if (!strcmp(out->op, "WITH")) {
		/* Without its main statement, a cut WITH query is still a WITH query. */
		if (!skip_ctes(&c))
			return;
		next(&c, &t);
		if (!keyword(&c, &t, out->op))
			return;
	}
	statement(&c, out->op, out);
}
