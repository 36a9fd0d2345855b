/*
 * ui_doc.h: text laid out for a window of a given width: prose word-wrapped,
 * values (base64, diffs, zone files) cut at exactly the width so that no
 * character is lost. Each line keeps an attribute for the front end (curses
 * attributes in ui_curses.c). No curses here; the unit tests use it as is.
 */
#ifndef DKIM_UI_DOC_H
#define DKIM_UI_DOC_H

#include <stddef.h>

/* What a line stands for; the front end picks the look (ui_curses.c maps
 * these to colours or bold/reverse). */
enum doc_attr { DA_NORMAL, DA_BOLD, DA_OK, DA_WARN, DA_ERR, DA_ADD, DA_DEL };

struct doc_line {
	char *s;
	unsigned long a;         /* enum doc_attr */
};

struct doc {
	struct doc_line *v;
	int n, cap;
	int width;               /* set by the caller before adding */
};

void doc_add(struct doc *d, const char *s, size_t len, unsigned long a);
void doc_blank(struct doc *d);
/* Word-wrapped prose; every line (continuations too) starts with `indent`
 * spaces; '\n' starts a new paragraph. */
void doc_para(struct doc *d, int indent, unsigned long a, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Each line of s cut at exactly the width after `indent`; tabs become
 * spaces (to 8-column stops) first. */
void doc_hard(struct doc *d, int indent, unsigned long a, const char *s);
/* Something people copy (a command, a diff line, a record value): one line
 * when it fits; else cut at width - 1 with a "\\" at the end of every line
 * that continues, so a cut is never mistaken for the end. */
#define DOC_CONT '\\'
void doc_copy(struct doc *d, int indent, unsigned long a, const char *s);
/* A shell command: wrapped at spaces, each continued line ending in " \\"
 * (the shell's own continuation), so the lines paste as one command. */
void doc_cmd(struct doc *d, int indent, unsigned long a, const char *cmd);
void doc_free(struct doc *d);

#endif
