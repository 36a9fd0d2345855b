/* cmd.c: the command table (include/cmd.h). */
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "cmd.h"
#include "lifecycle.h"
#include "wizard.h"

static int cmd_help(const struct options *opt)
{
	(void)opt;
	options_usage(stdout);
	return DK_OK;
}

static int cmd_version(const struct options *opt)
{
	(void)opt;
	printf("dkim-setup %s\n", DK_VERSION);
	return DK_OK;
}

static const struct cmd_entry cmds[] = {
	{ .word = NULL, .mode = MODE_WIZARD, .uses_files = true, .needs_terminal = true, .writes = true,
	  .exec = wizard_run },
	{ .word = NULL, .mode = MODE_BATCH, .uses_files = true, .writes = true, .exec = batch_run },
	{ .word = "check", .mode = MODE_CHECK, .uses_files = true, .needs_domain = true, .exec = cmd_check },
	{ .word = "record", .mode = MODE_RECORD, .uses_files = true, .needs_domain = true, .exec = cmd_record },
	{ .word = "status", .mode = MODE_STATUS, .uses_files = true, .exec = cmd_status },
	{ .word = "rotate", .mode = MODE_ROTATE, .uses_files = true, .writes = true, .exec = cmd_rotate },
	{ .word = "retire", .mode = MODE_RETIRE, .uses_files = true, .writes = true, .exec = cmd_retire },
	{ .word = NULL, .mode = MODE_HELP, .exec = cmd_help },
	{ .word = NULL, .mode = MODE_VERSION, .exec = cmd_version },
};
#define N_CMDS (sizeof cmds / sizeof cmds[0])

const struct cmd_entry *cmd_by_mode(enum dk_mode mode)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (cmds[i].mode == mode)
			return &cmds[i];
	return NULL;
}

const struct cmd_entry *cmd_by_word(const char *word)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (cmds[i].word != NULL && strcmp(cmds[i].word, word) == 0)
			return &cmds[i];
	return NULL;
}

const char *cmd_words(void)
{
	static char words[128];
	if (words[0] == '\0') {
		size_t n = 0, k = 0;
		for (size_t i = 0; i < N_CMDS; i++)
			n += cmds[i].word != NULL;
		for (size_t i = 0; i < N_CMDS; i++) {
			if (cmds[i].word == NULL)
				continue;
			size_t u = strlen(words);
			snprintf(words + u, sizeof words - u, "%s%s", k == 0 ? "" : k + 1 == n ? " or " : ", ",
				 cmds[i].word);
			k++;
		}
	}
	return words;
}
