/*
 * wizard.h: the curses wizard. Needs a terminal; main() checks that first.
 */
#ifndef DKIM_WIZARD_H
#define DKIM_WIZARD_H

#include "options.h"

/* Runs the whole wizard; returns the exit status. */
int wizard_run(const struct options *opt);

#endif
