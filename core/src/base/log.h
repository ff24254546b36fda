/* log.h: every line pgofetch prints goes through here.
 *
 * Text lines look like datadog-pgo's (Go slog with the tint handler, no time):
 *   INF wrote PGO file path=cmd/foo/default.pgo samples=1234 bytes=5678
 * With -json, one object per line as Go's slog.JSONHandler writes them:
 *   {"time":"...","level":"INFO","msg":"wrote PGO file","path":"...",...}
 * Attributes are typed so that numbers stay numbers in JSON and durations
 * print as Go does (text: "1.5s", JSON: integer nanoseconds). */
#ifndef PGOFETCH_LOG_H
#define PGOFETCH_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pf_level { PF_DEBUG = -4, PF_INFO = 0, PF_WARN = 4, PF_ERROR = 8 };

typedef struct {
	FILE *out;
	bool json;
	bool verbose; /* shows PF_DEBUG lines */
	bool color;   /* ANSI colours; only when out is a terminal */
	bool quiet;   /* shows PF_INFO lines only when verbose (refresh's packages) */
	const char *package; /* refresh: every line names its package, or NULL */
	struct pf_result *result; /* -result: what the run did (result.h), or NULL */
} pf_log;

enum pf_attr_kind { PF_A_STR, PF_A_INT, PF_A_FLOAT, PF_A_DUR, PF_A_BOOL };

typedef struct {
	const char *key;
	enum pf_attr_kind kind;
	union {
		const char *s;
		int64_t i;
		double f;
	} v;
} pf_attr;

#define PF_STR(k, x) ((pf_attr){.key = (k), .kind = PF_A_STR, .v.s = (x)})
#define PF_INT(k, x) ((pf_attr){.key = (k), .kind = PF_A_INT, .v.i = (int64_t)(x)})
#define PF_FLOAT(k, x) ((pf_attr){.key = (k), .kind = PF_A_FLOAT, .v.f = (double)(x)})
#define PF_DUR(k, x) ((pf_attr){.key = (k), .kind = PF_A_DUR, .v.i = (int64_t)(x)})
#define PF_BOOL(k, x) ((pf_attr){.key = (k), .kind = PF_A_BOOL, .v.i = !!(x)})

/* Sets up a logger on out; colour only when out is a terminal and NO_COLOR
 * is unset. */
void pf_log_init(pf_log *l, FILE *out, bool json, bool verbose);

/* Prints one line: level, message, then the attributes in order. */
void pf_log_attrs(const pf_log *l, enum pf_level level, const char *msg,
		  const pf_attr *attrs, size_t nattrs);

/* Convenience forms: pf_info(l, "msg", PF_STR("k", v), ...). At least one
 * attribute; use pf_log_attrs(l, level, msg, NULL, 0) for none. */
#define PF_ATTRS_(...) (pf_attr[]){__VA_ARGS__}, (sizeof((pf_attr[]){__VA_ARGS__}) / sizeof(pf_attr))
#define pf_debug(l, msg, ...) pf_log_attrs((l), PF_DEBUG, (msg), PF_ATTRS_(__VA_ARGS__))
#define pf_info(l, msg, ...) pf_log_attrs((l), PF_INFO, (msg), PF_ATTRS_(__VA_ARGS__))
#define pf_warn(l, msg, ...) pf_log_attrs((l), PF_WARN, (msg), PF_ATTRS_(__VA_ARGS__))

/* Writes s as the body of a JSON string (no quotes), as encoding/json
 * escapes it, each byte that is not UTF-8 as U+FFFD: a profile id or a
 * file name from elsewhere may hold any bytes, and a -json line must stay
 * JSON. */
void pf_json_escaped(FILE *f, const char *s);

/* Returns a copy of url with any user:password@ part replaced by "REDACTED@",
 * for logging; the caller frees it. NULL on OOM. */
char *pf_redact_url(const char *url);

#endif
