/* result.c: see result.h. The object is built with cJSON (already the
 * JSON library of dd_api.c) and written as DEST is, atomically. */
#include "result.h"
#include "check_cmd.h"
#include "output.h"
#include "pprof.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void pf_result_init(pf_result *r)
{
	memset(r, 0, sizeof *r);
}

void pf_result_free(pf_result *r)
{
	cJSON_Delete(r->ids);
	cJSON_Delete(r->sources);
	free(r->debug_query);
	pf_result_init(r);
}

/* An integer as JSON writes it: cJSON's numbers are doubles, printed in
 * exponent form past 15 digits (an age in nanoseconds), which integer
 * decoders (Go's into int64) refuse. */
static cJSON *add_int(cJSON *o, const char *key, int64_t v)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)v);
	return cJSON_AddRawToObject(o, key, num);
}

/* Adds item to array (created on first use); a lost item marks r->oom. */
static void append(pf_result *r, cJSON **array, cJSON *item)
{
	if (!*array)
		*array = cJSON_CreateArray();
	if (!item || !*array || !cJSON_AddItemToArray(*array, item)) {
		cJSON_Delete(item);
		r->oom = true;
	}
}

void pf_result_source(pf_result *r, const char *key, const char *name, int64_t samples, double cpu_cores,
		      int64_t age_ns)
{
	if (!r)
		return;
	cJSON *s = cJSON_CreateObject();
	if (s && !(cJSON_AddStringToObject(s, key, name) && add_int(s, "samples", samples) &&
		   cJSON_AddNumberToObject(s, "cpu-cores", cpu_cores) &&
		   add_int(s, "age", age_ns))) {
		cJSON_Delete(s);
		s = NULL;
	}
	append(r, &r->sources, s);
}

void pf_result_wrote(pf_result *r, bool changed, int64_t samples, int64_t bytes, char *const *ids, size_t nids,
		     const char *debug_query)
{
	if (!r)
		return;
	r->outcome = changed ? "written" : "unchanged";
	r->changed = changed;
	r->samples = samples;
	r->bytes = bytes;
	for (size_t i = 0; i < nids; i++)
		append(r, &r->ids, cJSON_CreateString(ids[i]));
	if (debug_query && !(r->debug_query = strdup(debug_query)))
		r->oom = true;
}

void pf_result_skipped(pf_result *r)
{
	if (r)
		r->outcome = "skipped";
}

/* ---- the profile in place, when the run wrote none ---- */

/* The ids of the provenance comment "pgofetch: profile-id:(a OR b)" that
 * run.c adds. */
static void ids_from_comment(pf_result *r, const char *c)
{
	static const char head[] = "pgofetch: profile-id:(";
	size_t len = strlen(c);
	if (strncmp(c, head, sizeof head - 1) != 0 || len < sizeof head || c[len - 1] != ')')
		return;
	free(r->debug_query);
	cJSON_Delete(r->ids);
	r->ids = NULL;
	if (!(r->debug_query = strdup(c + strlen("pgofetch: "))))
		r->oom = true;
	const char *p = c + sizeof head - 1, *end = c + len - 1;
	while (p < end) {
		const char *sep = strstr(p, " OR ");
		const char *stop = sep && sep < end ? sep : end;
		char *id = strndup(p, (size_t)(stop - p));
		append(r, &r->ids, id ? cJSON_CreateString(id) : NULL);
		free(id);
		p = stop == end ? end : stop + 4;
	}
}

/* Fills what the result says of the profile at dest from the file: its
 * size, and, when it decodes, its samples and ids. A DEST that is not a
 * profile (say, -format preprofile) is still the file in place. */
static const char *describe_dest(pf_result *r, const pf_options *o)
{
	struct stat st;
	if (!o->dest || strstr(o->dest, "://") || stat(o->dest, &st) != 0 || !S_ISREG(st.st_mode))
		return "";
	r->bytes = (int64_t)st.st_size;
	pf_err ignored = {0};
	pf_profile *p = r->samples ? NULL : pf_check_read_profile(o->dest, &ignored);
	r->samples = p ? (int64_t)p->nsamples : r->samples;
	for (size_t i = 0; p && i < p->ncomments; i++)
		ids_from_comment(r, pf_profile_str(p, p->comments[i], NULL));
	pf_profile_free(p);
	return o->dest;
}

/* ---- rendering ---- */

/* Moves *item into o (then *item is NULL); on failure r keeps it. Not
 * cJSON_AddItemReferenceToObject: cJSON 1.7.15 leaks the reference when
 * copying the key fails. */
static bool move_into(cJSON *o, const char *key, cJSON **item)
{
	if (!*item || !cJSON_AddItemToObject(o, key, *item))
		return false;
	*item = NULL;
	return true;
}

cJSON *pf_result_json(pf_result *r, const pf_options *o, const pf_err *failure, int exit_code)
{
	const char *outcome = failure->code || !r->outcome ? "failed" : r->outcome;
	/* Written or unchanged: DEST is what the run made it; else, read it back. */
	bool wrote = strcmp(outcome, "failed") != 0 && strcmp(outcome, "skipped") != 0;
	const char *path = wrote ? o->dest : describe_dest(r, o);
	cJSON *j = cJSON_CreateObject();
	bool ok = j && cJSON_AddStringToObject(j, "version", PGOFETCH_VERSION) &&
		  cJSON_AddStringToObject(j, "outcome", outcome) &&
		  cJSON_AddStringToObject(j, "dest", o->dest ? o->dest : "") &&
		  cJSON_AddStringToObject(j, "path", path) &&
		  cJSON_AddBoolToObject(j, "changed", r->changed && *path) &&
		  add_int(j, "samples", r->samples) && add_int(j, "bytes", r->bytes);
	if (ok) {
		if (!r->ids)
			r->ids = cJSON_CreateArray();
		if (!r->sources)
			r->sources = cJSON_CreateArray();
		ok = move_into(j, "profile-ids", &r->ids) &&
		     cJSON_AddStringToObject(j, "debug-query", r->debug_query ? r->debug_query : "") &&
		     move_into(j, "sources", &r->sources) &&
		     cJSON_AddStringToObject(j, "error", failure->code ? failure->msg : "") &&
		     add_int(j, "error-code", failure->code) && add_int(j, "exit-code", exit_code);
	}
	if (!ok || r->oom) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* A value as one line: strings with line breaks as spaces, arrays of
 * strings space-separated, the sources as their number, the rest (true,
 * false, integers) as JSON writes them. */
static int put_value(pf_buf *b, const cJSON *v)
{
	char num[32];
	if (cJSON_IsString(v)) {
		for (const char *s = v->valuestring; *s; s++)
			if (pf_buf_putc(b, *s == '\n' || *s == '\r' ? ' ' : (uint8_t)*s) != 0)
				return -1;
		return 0;
	}
	if (cJSON_IsArray(v) && strcmp(v->string, "sources") == 0) {
		int n = snprintf(num, sizeof num, "%d", cJSON_GetArraySize(v));
		return pf_buf_append(b, num, (size_t)n);
	}
	if (cJSON_IsArray(v)) {
		for (const cJSON *it = v->child; it; it = it->next)
			if ((it != v->child && pf_buf_putc(b, ' ') != 0) || put_value(b, it) != 0)
				return -1;
		return 0;
	}
	char *text = cJSON_PrintUnformatted(v);
	int rc = text ? pf_buf_append(b, text, strlen(text)) : -1;
	free(text);
	return rc;
}

/* name=value lines, as $GITHUB_OUTPUT reads them. */
static int render_github(const cJSON *j, pf_buf *b)
{
	for (const cJSON *it = j->child; it; it = it->next)
		if (pf_buf_append(b, it->string, strlen(it->string)) != 0 || pf_buf_putc(b, '=') != 0 ||
		    put_value(b, it) != 0 || pf_buf_putc(b, '\n') != 0)
			return -1;
	return 0;
}

int pf_result_write(pf_result *r, const pf_options *o, const pf_err *failure, int exit_code, pf_err *e)
{
	cJSON *j = pf_result_json(r, o, failure, exit_code);
	pf_buf b = {0};
	int rc = 0;
	if (!j) {
		rc = -1;
	} else if (strcmp(o->result_format, "github") == 0) {
		rc = render_github(j, &b);
	} else {
		char *text = cJSON_PrintUnformatted(j);
		rc = text && pf_buf_append(&b, text, strlen(text)) == 0 && pf_buf_putc(&b, '\n') == 0 ? 0 : -1;
		free(text);
	}
	cJSON_Delete(j);
	bool changed;
	if (rc != 0)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "-result %s: out of memory", o->result);
	else
		rc = pf_write_dest(o->result, b.data, b.len, NULL, 0, &changed, e);
	pf_buf_free(&b);
	return rc;
}
