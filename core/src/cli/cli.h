/* cli.h: pgofetch's command line, in the grammar of Go's flag package
 * (datadog-pgo is a Go program; pgofetch takes the same arguments). */
#ifndef PGOFETCH_CLI_H
#define PGOFETCH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "limits.h"
#include "pgo.h"

/* A -weight: its value and its text as given (for -comment). */
typedef struct {
	double value;
	const char *text;
} pf_weight;

typedef struct {
	const char **ins; /* -in SOURCE, in order */
	pf_weight *in_weights; /* each -in's weight, the -weight before it */
	size_t nin;
	pf_weight weight; /* in force after the flags: the QUERY arguments' */
	bool weight_unused; /* a -weight no -in followed */
	const char **queries; /* QUERY arguments */
	size_t nqueries;
	const char *dest;

	const char *api_url; /* -api-url, else $PGOFETCH_API_URL, else NULL (empty is unset) */
	const char *api_url_from; /* "-api-url" or "PGOFETCH_API_URL", for messages */
	const char *endpoint;
	const char *format;
	const char *result;        /* -result FILE, or NULL */
	const char *result_format; /* -result-format: json or github */
	const char *go;            /* -go, else NULL: go on PATH */
	int64_t from_ns;
	int64_t timeout_ns;
	int64_t max_age_ns;
	int64_t profiles;
	bool fail, json, verbose, noinline, trim, comment, normalize;
	pf_limit_set limits; /* -limit NAME=VALUE */
	pf_noinline_list noinline_list; /* -noinline-func, -noinline-file */
	bool help, version;
} pf_options;

/* Parses argv into o. Returns 0, or -1 with e holding a PF_EXIT_USAGE
 * message (the caller prints it and the usage). -h/-help set o->help. */
int pf_cli_parse(int argc, char **argv, pf_options *o, pf_err *e);
void pf_cli_free(pf_options *o);

/* How many words the flag word arg ("-x", "--x=v") takes after it: 0 (a
 * boolean, -x=v, -h), 1, or -1 when pgofetch has no such flag. */
int pf_cli_flag_words(const char *arg);

/* strconv.ParseBool: 1, t, T, true, TRUE, True and their opposites. */
int pf_parse_bool(const char *s, bool *v);

/* Prints the usage text (README's "Command line" section is this text). */
void pf_cli_usage(FILE *out);

#endif
