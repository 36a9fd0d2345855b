/* record.c: building and parsing DKIM key records (RFC 6376 3.6.1, RFC 8463). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"

char *record_value(enum dk_alg alg, const char *p)
{
	char *v;
	if (asprintf(&v, "v=DKIM1; k=%s; p=%s", keygen_alg_name(alg), p) < 0)
		return NULL;
	return v;
}

int record_fqdn(const char *domain, const char *selector, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s._domainkey.%s", selector, domain);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int record_relative(const char *selector, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s._domainkey", selector);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

size_t record_split(const char *value, size_t max, char ***out)
{
	*out = NULL;
	if (max == 0 || max > RECORD_STRING_MAX)
		max = RECORD_STRING_MAX;
	size_t len = strlen(value);
	size_t n = len == 0 ? 1 : (len + max - 1) / max;
	char **v = calloc(n + 1, sizeof *v);
	if (v == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t off = i * max, l = len - off < max ? len - off : max;
		if ((v[i] = strndup(value + off, l)) == NULL) {
			record_strings_free(v);
			return 0;
		}
	}
	*out = v;
	return n;
}

void record_strings_free(char **strings)
{
	if (strings == NULL)
		return;
	for (char **s = strings; *s != NULL; s++)
		free(*s);
	free(strings);
}

char *record_zone(const char *fqdn, const char *value)
{
	char **parts;
	size_t n = record_split(value, RECORD_STRING_MAX, &parts);
	if (n == 0)
		return NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL) {
		record_strings_free(parts);
		return NULL;
	}
	/* Our values hold no '"' or '\\', so strings need no escaping. */
	if (n == 1) {
		fprintf(f, "%s. 3600 IN TXT \"%s\"", fqdn, parts[0]);
	} else {
		fprintf(f, "%s. 3600 IN TXT ( \"%s\"", fqdn, parts[0]);
		for (size_t i = 1; i < n; i++)
			fprintf(f, "\n\t\"%s\"", parts[i]);
		fputs(" )", f);
	}
	record_strings_free(parts);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int is_ws(char c);

char *record_chunks(const char *value)
{
	char **parts;
	size_t n = record_split(value, RECORD_STRING_MAX, &parts);
	if (n == 0)
		return NULL;
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 3;
	char *out = malloc(len);
	if (out != NULL) {
		out[0] = '\0';
		for (size_t i = 0; i < n; i++)
			snprintf(out + strlen(out), len - strlen(out), "%s\"%s\"", i ? " " : "", parts[i]);
	}
	record_strings_free(parts);
	return out;
}

static void provider_set(struct record_provider *p, const char *key, const char *val)
{
	if (strcmp(key, "ns") == 0)
		snprintf(p->ns, sizeof p->ns, "%s", val);
	else if (strcmp(key, "name") == 0)
		p->fqdn_name = strcmp(val, "fqdn") == 0;
	else if (strcmp(key, "field") == 0)
		snprintf(p->field, sizeof p->field, "%s", val);
	else if (strcmp(key, "value") == 0)
		p->chunks = strcmp(val, "chunks") == 0;
	else if (strcmp(key, "ttl") == 0)
		snprintf(p->ttl, sizeof p->ttl, "%s", val);
	else if (strcmp(key, "note") == 0)
		snprintf(p->note, sizeof p->note, "%s", val);
}

static void provider_default(struct record_provider *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->field, sizeof p->field, "Name");
	snprintf(p->ttl, sizeof p->ttl, "3600");
}

size_t record_providers_parse(const char *text, struct record_provider **out,
			      struct record_provider *fallback)
{
	size_t n = 0, cap = 0;
	struct record_provider *cur = NULL;
	*out = NULL;
	provider_default(fallback);
	snprintf(fallback->name, sizeof fallback->name, "*");
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
		line = nl != NULL ? nl + 1 : NULL;
		char *b = buf;
		while (is_ws(*b))
			b++;
		for (size_t l = strlen(b); l > 0 && is_ws(b[l - 1]); l--)
			b[l - 1] = '\0';
		if (*b == '#' || *b == '\0')
			continue;
		char *close = strchr(b, ']');
		if (*b == '[' && close != NULL) {
			*close = '\0';
			if (strcmp(b + 1, "*") == 0) {
				cur = fallback;
				continue;
			}
			if (n == cap) {
				size_t ncap = cap != 0 ? cap * 2 : 16;
				struct record_provider *grown = realloc(*out, ncap * sizeof **out);
				if (grown == NULL) {   /* out of memory: the general advice stands */
					cur = NULL;
					continue;
				}
				*out = grown;
				cap = ncap;
			}
			cur = &(*out)[n++];
			provider_default(cur);
			snprintf(cur->name, sizeof cur->name, "%s", b + 1);
			continue;
		}
		char *eq = strchr(b, '=');
		if (cur == NULL || eq == NULL)
			continue;
		char *k = b, *v = eq + 1;
		for (char *e = eq; e > k && is_ws(e[-1]); e--)
			e[-1] = '\0';
		*eq = '\0';
		while (is_ws(*v))
			v++;
		provider_set(cur, k, v);
	}
	return n;
}

/* Does `part` occur in `name` at the start of a label? */
static bool ns_has_part(const char *name, const char *part, size_t plen)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + plen <= nl; i++)
		if ((i == 0 || name[i - 1] == '.') && strncasecmp(name + i, part, plen) == 0 &&
		    (name[i + plen] == '\0' || name[i + plen] == '.' || name[i + plen] == '-' ||
		     (name[i + plen] >= '0' && name[i + plen] <= '9')))
			return true;
	return false;
}

const struct record_provider *record_provider_match(const struct record_provider *p, size_t n,
						    const char (*names)[256], size_t nnames)
{
	for (size_t i = 0; i < n; i++)
		for (const char *t = p[i].ns; *t != '\0';) {
			while (*t == ' ')
				t++;
			size_t tl = strcspn(t, " ");
			for (size_t k = 0; tl > 0 && k < nnames; k++)
				if (ns_has_part(names[k], t, tl))
					return &p[i];
			t += tl;
		}
	return NULL;
}

/* RFC 6376 3.2: FWS is whitespace here (the strings are already unfolded). */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy [b, e) trimmed into out; -1 if it does not fit. */
static int copy_trim(const char *b, const char *e, char *out, size_t outlen)
{
	while (b < e && is_ws(*b))
		b++;
	while (e > b && is_ws(e[-1]))
		e--;
	if ((size_t)(e - b) >= outlen)
		return -1;
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
	return 0;
}

/* Does a colon-separated list (RFC 6376 tag values) contain `word`? */
static int list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p != '\0';) {
		while (*p == ':' || is_ws(*p))
			p++;
		const char *s = p;
		while (*p != '\0' && *p != ':' && !is_ws(*p))
			p++;
		if ((size_t)(p - s) == wl && strncasecmp(s, word, wl) == 0)
			return 1;
		while (is_ws(*p))
			p++;
	}
	return 0;
}

int record_parse(const char *txt, size_t len, struct dkim_keyrec *rec, char *why, size_t whylen)
{
	memset(rec, 0, sizeof *rec);
	strcpy(rec->k, "rsa");
	char seen[64][16];
	size_t nseen = 0;
	bool have_p = false;
	char tag[16];
	char shown[96];   /* DNS text in messages: never raw control bytes */
	const char *end = txt + len;

	if (memchr(txt, '\0', len) != NULL)
		return fail(why, whylen, "the record contains a NUL byte%s", "");
	for (const char *p = txt; p < end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *te = semi != NULL ? semi : end;
		/* An empty final tag-spec (trailing ';', whitespace) is allowed. */
		const char *q = p;
		while (q < te && is_ws(*q))
			q++;
		if (q == te) {
			/* Empty tag-specs (";;", a trailing ';') are tolerated, as verifiers do. */
			if (semi == NULL)
				break;
			p = te + 1;
			continue;
		}
		const char *eq = memchr(q, '=', (size_t)(te - q));
		if (eq == NULL) {
			char snip[24];
			size_t sl = (size_t)(te - q) < sizeof snip - 1 ? (size_t)(te - q) : sizeof snip - 1;
			for (size_t i = 0; i < sl; i++)
				snip[i] = isprint((unsigned char)q[i]) ? q[i] : '?';
			snip[sl] = '\0';
			return fail(why, whylen, "a tag without '=' (\"%s\")", snip);
		}
		if (copy_trim(q, eq, tag, sizeof tag) < 0 || tag[0] == '\0')
			return fail(why, whylen, "a tag name is empty or too long%s", "");
		for (const char *c = tag; *c != '\0'; c++)
			if (!(isalnum((unsigned char)*c) || *c == '_') || !isalpha((unsigned char)tag[0]))
				return fail(why, whylen, "invalid tag name \"%s\"",
					    dk_printable(tag, shown, sizeof shown));
		for (size_t i = 0; i < nseen; i++)
			if (strcmp(seen[i], tag) == 0)
				return fail(why, whylen, "the tag %s= appears twice", tag);
		if (nseen < sizeof seen / sizeof seen[0])
			strcpy(seen[nseen++], tag);
		else
			return fail(why, whylen, "too many tags%s", "");
		const char *vb = eq + 1, *ve = te;

		if (strcmp(tag, "v") == 0) {
			char v[16];
			if (nseen != 1)
				return fail(why, whylen, "v= must be the first tag%s", "");
			if (copy_trim(vb, ve, v, sizeof v) < 0 || strcmp(v, "DKIM1") != 0)
				return fail(why, whylen, "v= must be DKIM1%s", "");
			rec->has_v = true;
		} else if (strcmp(tag, "k") == 0) {
			if (copy_trim(vb, ve, rec->k, sizeof rec->k) < 0)
				return fail(why, whylen, "k= is too long%s", "");
			for (char *c = rec->k; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		} else if (strcmp(tag, "h") == 0) {
			if (copy_trim(vb, ve, rec->h, sizeof rec->h) < 0)
				return fail(why, whylen, "h= is too long%s", "");
		} else if (strcmp(tag, "s") == 0) {
			if (copy_trim(vb, ve, rec->s, sizeof rec->s) < 0)
				return fail(why, whylen, "s= is too long%s", "");
		} else if (strcmp(tag, "t") == 0) {
			if (copy_trim(vb, ve, rec->t, sizeof rec->t) < 0)
				return fail(why, whylen, "t= is too long%s", "");
			rec->testing = list_has(rec->t, "y");
			rec->strict = list_has(rec->t, "s");
		} else if (strcmp(tag, "p") == 0) {
			have_p = true;
			char *pv = malloc((size_t)(ve - vb) + 1);
			if (pv == NULL)
				return fail(why, whylen, "out of memory%s", "");
			size_t n = 0;
			for (const char *c = vb; c < ve; c++) {
				if (is_ws(*c))
					continue;
				if (!(isalnum((unsigned char)*c) || *c == '+' || *c == '/' || *c == '=')) {
					free(pv);
					char bad[8];
					snprintf(bad, sizeof bad, isprint((unsigned char)*c) ? "'%c'" : "\\x%02x",
						 (unsigned char)*c);
					return fail(why, whylen, "p= is not base64 (it contains %s)", bad);
				}
				pv[n++] = *c;
			}
			pv[n] = '\0';
			rec->p = pv;
			rec->revoked = n == 0;
			if (n % 4 != 0 || (n > 0 && strchr(pv, '=') != NULL &&
					   strspn(strchr(pv, '='), "=") != strlen(strchr(pv, '='))))
				return fail(why, whylen, "p= is not valid base64 (wrong length or padding: "
					    "was the value cut or split badly?)%s", "");
		}
		/* Other tags (n=, g= of old records, ...) are ignored. */
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	if (!have_p)
		return fail(why, whylen, "no p= tag: not a DKIM key record%s", "");
	if (strcmp(rec->k, "rsa") != 0 && strcmp(rec->k, "ed25519") != 0)
		return fail(why, whylen, "unknown key type k=%s", dk_printable(rec->k, shown, sizeof shown));
	if (rec->s[0] != '\0' && !list_has(rec->s, "*") && !list_has(rec->s, "email"))
		return fail(why, whylen, "s=%s: the key is not for email",
			    dk_printable(rec->s, shown, sizeof shown));
	return 0;
}

void record_keyrec_clear(struct dkim_keyrec *rec)
{
	free(rec->p);
	rec->p = NULL;
}

bool record_allows_hash(const struct dkim_keyrec *rec, const char *hash)
{
	const char *list = rec->h;
	if (list[0] == '\0')
		return true;
	size_t wl = strlen(hash);
	for (const char *p = list; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ':')
			p++;
		const char *e = p;
		while (*e != '\0' && *e != ':' && *e != ' ' && *e != '\t')
			e++;
		if ((size_t)(e - p) == wl && strncasecmp(p, hash, wl) == 0)
			return true;
		p = e;
	}
	return false;
}
