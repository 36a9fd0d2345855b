/*
 * cmd.h: the commands as one table (as tmux's cmd_entry): each mode of the
 * program, the word that selects it on the command line (if any), what it
 * needs before it runs, and the function that runs it. main() looks the
 * mode up here and asks nothing else; options_parse() looks command words
 * up here. A new command (status, rotate, retire) is one entry.
 */
#ifndef DKIM_CMD_H
#define DKIM_CMD_H

#include <stdbool.h>

#include "options.h"

struct cmd_entry {
	const char *word;          /* "check", "record"; NULL: chosen by an option */
	enum dk_mode mode;
	bool uses_files;           /* reads or writes below --root (opened first); not help */
	bool needs_terminal;       /* the curses wizard */
	bool needs_domain;         /* -d and -s are required */
	bool writes;               /* writes the system: root, unless --root or --dry-run */
	int (*exec)(const struct options *opt);   /* returns the exit status */
};

/* The entry of a mode (every mode has one). */
const struct cmd_entry *cmd_by_mode(enum dk_mode mode);

/* The entry whose command word is `word`, or NULL. */
const struct cmd_entry *cmd_by_word(const char *word);

/* The command words, "check or record", for messages. */
const char *cmd_words(void);

#endif
