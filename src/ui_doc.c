/* ui_doc.c: wrapping text for the wizard's panes (see include/ui_doc.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_doc.h"

void doc_add(struct doc *d, const char *s, size_t len, unsigned long a)
{
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 64;
		struct doc_line *v = realloc(d->v, (size_t)cap * sizeof *v);
		if (v == NULL)
			return;
		d->v = v;
		d->cap = cap;
	}
	char *copy = strndup(s, len);
	if (copy == NULL)
		return;
	d->v[d->n++] = (struct doc_line){ copy, a };
}

void doc_free(struct doc *d)
{
	for (int i = 0; i < d->n; i++)
		free(d->v[i].s);
	free(d->v);
	memset(d, 0, sizeof *d);
}

void doc_blank(struct doc *d)
{
	doc_add(d, "", 0, 0);
}

/* Word-wrapped prose; `indent` spaces before continuation lines too. */
void doc_para(struct doc *d, int indent, unsigned long a, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	int width = d->width - indent;
	if (width < 10)
		width = 10;
	for (char *para = buf; para != NULL;) {
		char *nl = strchr(para, '\n');
		if (nl != NULL)
			*nl = '\0';
		const char *p = para;
		do {
			char line[4096];
			size_t len = strlen(p);
			size_t take = len;
			if ((int)len > width) {
				take = (size_t)width;
				while (take > 0 && p[take] != ' ')
					take--;
				if (take == 0)
					take = (size_t)width;
			}
			snprintf(line, sizeof line, "%*s%.*s", indent, "", (int)take, p);
			doc_add(d, line, strlen(line), a);
			p += take;
			while (*p == ' ')
				p++;
		} while (*p != '\0');
		para = nl != NULL ? nl + 1 : NULL;
	}
}

/* Text cut at exactly the width (base64, diffs): no character lost. */
void doc_hard(struct doc *d, int indent, unsigned long a, const char *s)
{
	int width = d->width - indent;
	if (width < 10)
		width = 10;
	for (const char *line = s; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t raw = nl != NULL ? (size_t)(nl - line) : strlen(line);
		/* tabs (zone-file form) become spaces: curses would expand them past the width */
		char exp[4096];
		size_t len = 0;
		for (size_t i = 0; i < raw && len < sizeof exp - 9; i++) {
			if (line[i] == '\t')
				do
					exp[len++] = ' ';
				while (len % 8 != 0);
			else
				exp[len++] = line[i];
		}
		size_t off = 0;
		do {
			char buf[512];
			size_t take = len - off > (size_t)width ? (size_t)width : len - off;
			snprintf(buf, sizeof buf, "%*s%.*s", indent, "", (int)take, exp + off);
			doc_add(d, buf, strlen(buf), a);
			off += take;
		} while (off < len);
		line = nl != NULL ? nl + 1 : NULL;
	}
}


void doc_copy(struct doc *d, int indent, unsigned long a, const char *s)
{
	int width = d->width - indent;
	if (width < 10)
		width = 10;
	size_t len = strlen(s), off = 0;
	do {
		char buf[512];
		size_t take = len - off;
		bool more = take > (size_t)width;
		if (more)
			take = (size_t)width - 1;
		snprintf(buf, sizeof buf, "%*s%.*s%s", indent, "", (int)take, s + off,
			 more ? (char[]){ DOC_CONT, '\0' } : "");
		doc_add(d, buf, strlen(buf), a);
		off += take;
	} while (off < len);
}

void doc_cmd(struct doc *d, int indent, unsigned long a, const char *cmd)
{
	int width = d->width - indent;
	if (width < 12)
		width = 12;
	const char *p = cmd;
	bool first = true;
	while (*p != '\0') {
		int room = width - (first ? 0 : 2) - 2;   /* "  " before, " \" after */
		size_t len = strlen(p), take = len;
		if ((int)len > room + 2) {
			take = (size_t)room;
			while (take > 0 && p[take] != ' ')
				take--;
			if (take == 0)
				take = (size_t)room;   /* one word longer than the line */
		}
		bool more = take < len;
		char buf[512];
		snprintf(buf, sizeof buf, "%*s%s%.*s%s", indent, "", first ? "" : "  ", (int)take, p,
			 more ? " \\" : "");
		doc_add(d, buf, strlen(buf), a);
		p += take;
		while (*p == ' ')
			p++;
		first = false;
	}
}
