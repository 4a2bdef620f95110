// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/logline.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "util/utf8.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One byte more than a line may have: the '\r' of a LOG_LINE_MAX line's CRLF, whichever write it
 * comes in, so that line is whole. */
#define LINE_HOLD (LOG_LINE_MAX + 1)

struct log_lines {
	size_t n;
	bool skip; /* dropping bytes up to the next newline: the rest of a cut line */
	char buf[LINE_HOLD + 1];
};

struct log_lines *log_lines_new(void)
{
	return calloc(1, sizeof(struct log_lines));
}

void log_lines_free(struct log_lines *l)
{
	free(l);
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void emit(struct log_lines *l, bool truncated, log_line_fn fn, void *ctx)
{
	size_t n = l->n, i;

	l->n = 0;
	if (!truncated && n && l->buf[n - 1] == '\r')
		n--;
	if (n > LOG_LINE_MAX) {
		n = LOG_LINE_MAX;
		truncated = true;
	}
	for (i = 0; i < n && is_blank((unsigned char)l->buf[i]); i++)
		;
	if (i == n)
		return;
	l->buf[n] = '\0';
	fn(ctx, l->buf, n, truncated);
}

void log_lines_feed(struct log_lines *l, const uint8_t *data, size_t len, uint64_t gap,
		    log_line_fn fn, void *ctx)
{
	const uint8_t *p = data, *end = len ? data + len : data, *nl;
	size_t take;

	while (len && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (l->skip) {
			if (!nl)
				break;
			l->skip = false;
			p = nl + 1;
			continue;
		}
		take = (size_t)((nl ? nl : end) - p);
		if (take > LINE_HOLD - l->n) {
			/* cut at the limit; the rest of the line, newline included, is dropped */
			if (l->n < LOG_LINE_MAX)
				memcpy(l->buf + l->n, p, LOG_LINE_MAX - l->n);
			l->n = LOG_LINE_MAX;
			emit(l, true, fn, ctx);
			l->skip = !nl;
			p = nl ? nl + 1 : end;
			continue;
		}
		memcpy(l->buf + l->n, p, take);
		l->n += take;
		if (!nl)
			break;
		emit(l, false, fn, ctx);
		p = nl + 1;
	}
	if (gap) {
		if (l->n)
			emit(l, true, fn, ctx);
		l->skip = true;
	}
}

void log_lines_flush(struct log_lines *l, log_line_fn fn, void *ctx)
{
	if (l->n)
		emit(l, false, fn, ctx);
	l->skip = false;
}

void log_record_init(struct log_record *r)
{
	memset(r, 0, sizeof(*r));
	r->arena_used = 1; /* offset 0 is "" */
}

/* Copies len bytes of s into the arena as valid UTF-8 (invalid bytes and NULs as U+FFFD), cut
 * at a character when the arena is full (*cut, when not NULL, tells). Returns the offset; 0 ("")
 * when the arena is full. */
static uint16_t arena_put_cut(struct log_record *r, const char *s, size_t len, bool *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = r->arena_used, room, n, i;
	char *dst;

	if (cut)
		*cut = true;
	if (off + 1 >= LOG_ARENA)
		return 0;
	room = LOG_ARENA - off - 1; /* bytes of text; the NUL is reserved */
	dst = r->arena + off;
	for (i = 0; i < len;) {
		n = p[i] ? utf8_seq_len(p + i, len - i) : 0;
		if ((n ? n : 3) > room)
			break;
		memcpy(dst, n ? s + i : "\xef\xbf\xbd", n ? n : 3);
		dst += n ? n : 3;
		room -= n ? n : 3;
		i += n ? n : 1;
	}
	*dst++ = '\0';
	r->arena_used = (size_t)(dst - r->arena);
	if (cut)
		*cut = i < len;
	return (uint16_t)off;
}

static uint16_t arena_put(struct log_record *r, const char *s, size_t len)
{
	return arena_put_cut(r, s, len, NULL);
}

/* Cut at a character so the text stays valid UTF-8; a byte that starts none becomes '?'. */
static void set_severity_text(struct log_record *r, const char *s, size_t len)
{
	size_t i = 0, o = 0, k;

	while (i < len) {
		k = s[i] ? utf8_seq_len((const unsigned char *)s + i, len - i) : 0;
		if (o + (k ? k : 1) > LOG_SEVERITY_TEXT_MAX - 1)
			break;
		if (k)
			memcpy(r->severity_text + o, s + i, k);
		else
			r->severity_text[o] = '?';
		o += k ? k : 1;
		i += k ? k : 1;
	}
	r->severity_text[o] = '\0';
}

static const struct {
	const char *word;
	uint8_t sev;
} level_words[] = {
	{ "trace", 1 },		{ "debug", 5 },	 { "info", 9 },	   { "information", 9 },
	{ "informational", 9 }, { "notice", 9 }, { "warn", 13 },   { "warning", 13 },
	{ "error", 17 },	{ "err", 17 },	 { "dpanic", 17 }, { "fatal", 21 },
	{ "critical", 21 },	{ "crit", 21 },	 { "panic", 21 },  { "emergency", 21 },
	{ "emerg", 21 },	{ "alert", 21 },
};

static uint8_t word_severity(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NELEM(level_words); i++) {
		if (strlen(level_words[i].word) == len && !strncasecmp(s, level_words[i].word, len))
			return level_words[i].sev;
	}
	return 0;
}

/* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal */
static uint8_t pino_severity(long long n)
{
	static const uint8_t by_ten[] = { 1, 5, 9, 13, 17, 21 };

	if (n < 10 || n >= 70)
		return 0;
	return by_ten[n / 10 - 1];
}

uint8_t log_severity_of(const char *s, size_t len)
{
	size_t w = 0, i;
	long long d = 0;
	uint8_t sev;

	if (len && isdigit((unsigned char)s[0])) {
		for (i = 0; i < len && i < 4 && isdigit((unsigned char)s[i]); i++)
			d = d * 10 + (s[i] - '0');
		return i == len ? pino_severity(d) : 0;
	}
	while (w < len && isalpha((unsigned char)s[w]))
		w++;
	sev = word_severity(s, w);
	if (!sev || w == len)
		return sev;
	/* slog: "INFO+2", "DEBUG-4": an offset from the level, kept within its range */
	if ((s[w] != '+' && s[w] != '-') || w + 1 == len || len - w > 4)
		return 0;
	for (i = w + 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		d = d * 10 + (s[i] - '0');
	}
	if (s[w] == '-')
		return sev;
	return (uint8_t)(sev + (d > 3 ? 3 : d));
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/* RFC 3339 ("2024-05-01T10:00:00.123456789+02:00", 'T' or ' ', Z or an offset) to Unix ns; 0
 * when s is not one: a time without a zone says nothing certain. */
static uint64_t rfc3339_ns(const char *s)
{
	unsigned y, mo, d, h, mi, sec, oh, om;
	size_t n = strlen(s), i = 19;
	uint64_t frac = 0, scale = 100000000;
	int64_t t;

	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	if (s[i] == '.' || s[i] == ',') {
		for (i++; isdigit((unsigned char)s[i]); i++) {
			frac += (uint64_t)(s[i] - '0') * scale;
			scale /= 10;
		}
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if ((s[i] == 'Z' || s[i] == 'z') && !s[i + 1]) {
		/* UTC */
	} else if ((s[i] == '+' || s[i] == '-') && n == i + 6 && digits(s + i + 1, 2, &oh) &&
		   s[i + 3] == ':' && digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
		t += (s[i] == '+' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
	} else {
		return 0;
	}
	/* past 2554 Unix ns do not fit 64 bits */
	return t > 0 && t < 18000000000 ? (uint64_t)t * 1000000000u + frac : 0;
}

/* Epoch seconds, ms (> 1e11) or ns (> 1e17) to Unix ns. */
static uint64_t epoch_ns(double v)
{
	double ns = v > 1e17 ? v : v > 1e11 ? v * 1e6 : v * 1e9;

	return v > 0 && ns < 1.8e19 ? (uint64_t)ns : 0;
}

/* A JSON number's text ("1714550400.123456") read exactly: a double would lose the
 * microseconds. 0 when it has an exponent or is not plain decimal. */
static uint64_t epoch_text_ns(const char *s)
{
	uint64_t ip = 0, frac = 0, scale = 1000000000, unit;
	size_t i = 0, nd = 0;

	for (; isdigit((unsigned char)s[i]); i++, nd++) {
		if (nd >= 19)
			return 0;
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	}
	if (!nd)
		return 0;
	unit = ip > 100000000000000000ull ? 1 : ip > 100000000000ull ? 1000000 : 1000000000;
	if (ip > UINT64_MAX / unit - 1)
		return 0;
	if (s[i] == '.') {
		for (i++; isdigit((unsigned char)s[i]); i++) {
			scale /= 10;
			frac += (uint64_t)(s[i] - '0') * scale;
		}
	}
	if (s[i])
		return 0;
	if (unit == 1)
		return ip;
	return ip * unit + (unit == 1000000 ? frac / 1000 : frac);
}

static uint64_t json_time_ns(struct json_object *v)
{
	uint64_t ns;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return rfc3339_ns(json_object_get_string(v));
	case json_type_int:
		return epoch_ns((double)json_object_get_int64(v))
			       ? epoch_text_ns(json_object_get_string(v))
			       : 0;
	case json_type_double:
		ns = epoch_text_ns(json_object_get_string(v));
		return ns ? ns : epoch_ns(json_object_get_double(v));
	default:
		return 0;
	}
}

static bool is_secret(const char *key)
{
	static const char *const words[] = { "authorization", "password", "passwd",
					     "secret",	      "token",	  "api_key",
					     "apikey",	      "cookie",	  "credential" };
	size_t i;

	for (i = 0; i < NELEM(words); i++) {
		if (strcasestr(key, words[i]))
			return true;
	}
	return false;
}

static const char *const sev_keys[] = { "level",     "severity",  "lvl",
					"levelname", "log.level", "@level" };
static const char *const msg_keys[] = { "msg", "message", "event" };
static const char *const time_keys[] = { "time", "timestamp", "ts", "@timestamp", "t" };

/* The first of keys that root has with a value fit for it (ok), or NULL. */
static const char *pick(struct json_object *root, const char *const *keys, size_t n,
			bool (*ok)(struct json_object *), struct json_object **val)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (json_object_object_get_ex(root, keys[i], val) && ok(*val))
			return keys[i];
	}
	return NULL;
}

static bool sev_ok(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int);
}

static bool msg_ok(struct json_object *v)
{
	return json_object_is_type(v, json_type_string);
}

static bool time_ok(struct json_object *v)
{
	return json_time_ns(v) != 0;
}

/* A new attribute named key, its value "": NULL when attrs are full or the key does not fit
 * whole (a cut key is no key). */
static struct log_attr *attr_new(struct log_record *r, const char *key)
{
	struct log_attr *a;
	uint16_t koff;
	bool cut;

	if (r->nattrs >= LOG_MAX_ATTRS)
		return NULL;
	koff = arena_put_cut(r, key, strlen(key), &cut);
	if (cut) {
		if (koff)
			r->arena_used = koff;
		return NULL;
	}
	a = &r->attrs[r->nattrs++];
	memset(a, 0, sizeof(*a)); /* no value left over from the record's last line */
	a->koff = koff;
	a->type = LOG_VAL_STR;
	return a;
}

void log_record_set_body(struct log_record *r, const char *s, size_t len)
{
	r->body_off = arena_put(r, s, len);
}

size_t log_record_room(const struct log_record *r)
{
	return r->arena_used + 1 < LOG_ARENA ? LOG_ARENA - r->arena_used - 1 : 0;
}

int log_record_add_str(struct log_record *r, const char *key, const char *s, size_t len)
{
	struct log_attr *a = attr_new(r, key);

	if (!a)
		return -ENOSPC;
	a->soff = arena_put(r, s, len);
	return 0;
}

int log_record_add_int(struct log_record *r, const char *key, int64_t v)
{
	struct log_attr *a = attr_new(r, key);

	if (!a)
		return -ENOSPC;
	a->type = LOG_VAL_INT;
	a->i = v;
	return 0;
}

int log_record_add_bool(struct log_record *r, const char *key, bool v)
{
	struct log_attr *a = attr_new(r, key);

	if (!a)
		return -ENOSPC;
	a->type = LOG_VAL_BOOL;
	a->i = v;
	return 0;
}

static void add_attr(struct log_record *r, const char *key, struct json_object *v)
{
	struct log_attr *a;
	const char *s;

	if (json_object_is_type(v, json_type_null))
		return;
	a = attr_new(r, key);
	if (!a)
		return;
	if (is_secret(key)) {
		a->soff = arena_put(r, "[REDACTED]", 10);
		return;
	}
	switch (json_object_get_type(v)) {
	case json_type_int:
		a->type = LOG_VAL_INT;
		a->i = json_object_get_int64(v);
		return;
	case json_type_double:
		a->type = LOG_VAL_DOUBLE;
		a->d = json_object_get_double(v);
		return;
	case json_type_boolean:
		a->type = LOG_VAL_BOOL;
		a->i = json_object_get_boolean(v) ? 1 : 0;
		return;
	case json_type_string:
		a->soff = arena_put(r, json_object_get_string(v),
				    (size_t)json_object_get_string_len(v));
		return;
	default: /* object, array: compact JSON text */
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
		a->soff = s ? arena_put(r, s, strlen(s)) : 0;
		return;
	}
}

static struct json_object *parse_object(const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	/* a raw NUL is no JSON, and json-c would stop at it */
	if (len > INT32_MAX || memchr(line, '\0', len))
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	for (; o && end < len; end++) {
		if (!is_blank((unsigned char)line[end])) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static bool parse_json(struct log_record *r, const char *line, size_t len)
{
	struct json_object *root = parse_object(line, len), *sev, *msg, *tm;
	const char *sev_key, *msg_key, *time_key, *s;

	if (!root)
		return false;
	r->json = true;
	sev_key = pick(root, sev_keys, NELEM(sev_keys), sev_ok, &sev);
	msg_key = pick(root, msg_keys, NELEM(msg_keys), msg_ok, &msg);
	time_key = pick(root, time_keys, NELEM(time_keys), time_ok, &tm);
	if (sev_key) {
		s = json_object_get_string(sev);
		r->severity = log_severity_of(s, strlen(s));
		set_severity_text(r, s, strlen(s));
	}
	if (time_key)
		r->time_unix_ns = json_time_ns(tm);
	/* the body first: when the arena runs short, attributes are what gets cut */
	if (msg_key)
		r->body_off = arena_put(r, json_object_get_string(msg),
					(size_t)json_object_get_string_len(msg));
	else
		r->body_off = arena_put(r, line, len);
	json_object_object_foreach(root, key, val)
	{
		if ((sev_key && !strcmp(key, sev_key)) || (msg_key && !strcmp(key, msg_key)) ||
		    (time_key && !strcmp(key, time_key)))
			continue;
		add_attr(r, key, val);
	}
	json_object_put(root);
	return true;
}

/* A token that looks like (part of) a timestamp: "2024-01-02", "03:04:05,123",
 * "2024-01-02T03:04:05Z", "[2024-01-02T03:04:05.1+02:00]", "2024/01/02". */
static bool time_like(const char *s, size_t n)
{
	bool sep = false;
	size_t i;

	if (n && s[0] == '[')
		s++, n--;
	if (n && s[n - 1] == ']')
		n--;
	if (!n || !isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '-' || s[i] == ':' || s[i] == '/')
			sep = true;
		else if (!isdigit((unsigned char)s[i]) && !strchr(".,TZ+", s[i]))
			return false;
	}
	return sep;
}

static size_t token_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	return i;
}

/* logfmt's: a quoted value ("a b \" c") is part of its token */
static size_t logfmt_token_end(const char *s, size_t i, size_t len)
{
	bool quoted = false;

	for (; i < len && (quoted || (s[i] != ' ' && s[i] != '\t')); i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
	}
	return i < len ? i : len;
}

static size_t skip_space(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* logfmt: level=X, lvl=X or severity=X as a token of its own, X bare or quoted */
static bool logfmt_level(struct log_record *r, const char *s, size_t len)
{
	static const char *const keys[] = { "level=", "lvl=", "severity=" };
	size_t i, k, e, kl;
	const char *v;

	for (i = skip_space(s, 0, len); i < len; i = skip_space(s, e, len)) {
		e = logfmt_token_end(s, i, len);
		for (k = 0; k < NELEM(keys); k++) {
			kl = strlen(keys[k]);
			if (e - i <= kl || strncmp(s + i, keys[k], kl))
				continue;
			v = s + i + kl;
			if (*v == '"') {
				const char *q = memchr(v + 1, '"', (size_t)(s + e - v - 1));

				if (!q)
					return false;
				r->severity = log_severity_of(v + 1, (size_t)(q - v - 1));
				set_severity_text(r, v + 1, (size_t)(q - v - 1));
			} else {
				r->severity = log_severity_of(v, (size_t)(s + e - v));
				set_severity_text(r, v, (size_t)(s + e - v));
			}
			if (!r->severity)
				r->severity_text[0] = '\0';
			return r->severity != 0;
		}
	}
	return false;
}

static bool all_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isupper((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * The line's first token, after at most two timestamp-like ones: "[ERROR]", "error:",
 * "WARNING:root:msg", or a bare upper-case word ("INFO"): a capitalised first word ("Error
 * connecting") is as likely prose.
 */
static void leading_level(struct log_record *r, const char *s, size_t len)
{
	size_t i = skip_space(s, 0, len), e, w, k;
	bool bracket;
	uint8_t sev;

	for (k = 0; k < 2; k++) {
		e = token_end(s, i, len);
		if (!time_like(s + i, e - i))
			break;
		i = skip_space(s, e, len);
	}
	bracket = i < len && s[i] == '[';
	i += bracket;
	for (w = i; w < len && isalpha((unsigned char)s[w]); w++)
		;
	if (w == i)
		return;
	if (bracket) {
		if (w == len || s[w] != ']')
			return;
	} else if (w < len && s[w] != ':' && s[w] != ' ' && s[w] != '\t') {
		return;
	} else if ((w == len || s[w] != ':') && !all_upper(s + i, w - i)) {
		return;
	}
	sev = word_severity(s + i, w - i);
	if (!sev)
		return;
	r->severity = sev;
	set_severity_text(r, s + i, w - i);
}

void log_parse_line(struct log_record *r, const char *line, size_t len, bool truncated)
{
	size_t i;

	r->arena_used = 1;
	r->arena[0] = '\0';
	r->nattrs = 0;
	r->body_off = 0;
	r->severity = 0;
	r->severity_text[0] = '\0';
	r->time_unix_ns = 0;
	r->json = false;
	r->truncated = truncated;
	for (i = 0; i < len && is_blank((unsigned char)line[i]); i++)
		;
	if (i < len && line[i] == '{' && parse_json(r, line, len))
		return;
	r->body_off = arena_put(r, line, len);
	if (!logfmt_level(r, line, len))
		leading_level(r, line, len);
}
