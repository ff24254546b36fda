/* refresh.h: `pgofetch refresh`, every main package of a list file at once. */
#ifndef PGOFETCH_REFRESH_H
#define PGOFETCH_REFRESH_H

/* Runs `pgofetch refresh [OPTIONS] [PKG...]` (argv[0] is "refresh");
 * returns the exit code. */
int pf_refresh_main(int argc, char **argv);

/* Splits a list line in place into words: blanks separate them, '...' and
 * "..." group (the quotes dropped), no other escapes. words has room for
 * strlen(line) / 2 + 1 of them. Returns their count, or -1 when a quote is
 * not closed. */
int pf_list_split(char *line, char **words);

#endif
