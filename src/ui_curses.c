/* ui_curses.c: STUB until the wizard issue lands. */
#include <stdio.h>

#include "wizard.h"

int wizard_run(const struct options *opt)
{
	(void)opt;
	fprintf(stderr, "dkim-setup: the wizard is not implemented yet; use --batch\n");
	return 2;
}
