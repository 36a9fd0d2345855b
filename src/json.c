/* json.c: a small streaming JSON writer. */
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
}

/* Length of the valid UTF-8 sequence at c (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *c)
{
	if (c[0] < 0x80)
		return 1;
	size_t n;
	unsigned min;
	unsigned cp;
	if ((c[0] & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = c[0] & 0x1f;
	else if ((c[0] & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = c[0] & 0x0f;
	else if ((c[0] & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = c[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((c[i] & 0xc0) != 0x80)
			return 0;   /* also stops at the NUL */
		cp = cp << 6 | (c[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON text must be valid UTF-8 (RFC 8259): control bytes are escaped,
 * valid sequences pass, and each byte of an invalid one becomes U+FFFD. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0';) {
		size_t n = 1;
		switch (*c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*c < 0x20 || *c == 0x7f)
				fprintf(out, "\\u%04x", *c);
			else if ((n = utf8_len(c)) == 0) {
				fputs("\\ufffd", out);
				n = 1;
			} else
				fwrite(c, 1, n, out);
		}
		c += n;
	}
	fputc('"', out);
}

/* Comma and key before a value at the current depth. */
static void member(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key != NULL) {
		put_string(j->out, key);
		fputc(':', j->out);
	}
}

static void open(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	if (j->depth < JSON_DEPTH_MAX - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->out);
}

void json_object_begin(struct json *j, const char *key) { open(j, key, '{'); }
void json_object_end(struct json *j) { close_(j, '}'); }
void json_array_begin(struct json *j, const char *key) { open(j, key, '['); }
void json_array_end(struct json *j) { close_(j, ']'); }

void json_string(struct json *j, const char *key, const char *value)
{
	member(j, key);
	if (value == NULL)
		fputs("null", j->out);
	else
		put_string(j->out, value);
}

void json_int(struct json *j, const char *key, long long value)
{
	member(j, key);
	fprintf(j->out, "%lld", value);
}

void json_bool(struct json *j, const char *key, bool value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void json_finish(struct json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}
