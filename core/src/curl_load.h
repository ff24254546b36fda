/* curl_load.h: libcurl, loaded when a transfer needs it.
 *
 * Linked in, libcurl would bring its 30-odd libraries (two TLS stacks,
 * Kerberos, LDAP, SSH, ...) into every run, to be mapped, relocated and
 * started before main: 5.6 ms, and 1.2 ms more for curl_global_init,
 * against 1.7 ms for a program linking zlib and libzstd alone (perf stat,
 * 100 runs each). That was a fifth of a 30 ms run on a local profile,
 * which needs no network at all. So libcurl is opened (dlopen) by each
 * HTTP client, with the functions pgofetch calls looked up in it. Clients
 * are made on the main thread; curl_global_init may then run while
 * profiles decode on other threads, which never call libcurl. */
#ifndef PGOFETCH_CURL_LOAD_H
#define PGOFETCH_CURL_LOAD_H

#include <curl/curl.h>

#include "err.h"

/* The library opened: every distribution ships libcurl under this soname
 * (curl's ABI has kept it since 7.16). */
#ifndef PGOFETCH_LIBCURL
#define PGOFETCH_LIBCURL "libcurl.so.4"
#endif

typedef struct {
	void *lib; /* the dlopen handle */
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion age);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned n, int timeout_ms, int *ret);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
} pf_curl;

/* Opens the library named `name` (PGOFETCH_LIBCURL but in tests), looks up
 * every function above and starts libcurl (curl_global_init, counted by
 * libcurl: each open is paired with a close). 0, or -1 with e saying what
 * is missing (PF_EXIT_SOURCE: nothing can be fetched) and c left closed. */
int pf_curl_open(pf_curl *c, const char *name, pf_err *e);

/* Undoes pf_curl_open; nothing for a closed c. The library stays mapped
 * (RTLD_NODELETE): TLS libraries leave exit handlers behind. */
void pf_curl_close(pf_curl *c);

#endif
