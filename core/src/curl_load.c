/* curl_load.c: see curl_load.h. */
#include "curl_load.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

/* POSIX (dlsym) guarantees a function's address fits in a void *. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers as wide as void *");

static const struct {
	const char *symbol;
	size_t slot;
} functions[] = {
	{"curl_global_init", offsetof(pf_curl, global_init)},
	{"curl_global_cleanup", offsetof(pf_curl, global_cleanup)},
	{"curl_version_info", offsetof(pf_curl, version_info)},
	{"curl_easy_init", offsetof(pf_curl, easy_init)},
	{"curl_easy_cleanup", offsetof(pf_curl, easy_cleanup)},
	{"curl_easy_setopt", offsetof(pf_curl, easy_setopt)},
	{"curl_easy_getinfo", offsetof(pf_curl, easy_getinfo)},
	{"curl_easy_strerror", offsetof(pf_curl, easy_strerror)},
	{"curl_multi_init", offsetof(pf_curl, multi_init)},
	{"curl_multi_cleanup", offsetof(pf_curl, multi_cleanup)},
	{"curl_multi_add_handle", offsetof(pf_curl, multi_add_handle)},
	{"curl_multi_remove_handle", offsetof(pf_curl, multi_remove_handle)},
	{"curl_multi_perform", offsetof(pf_curl, multi_perform)},
	{"curl_multi_poll", offsetof(pf_curl, multi_poll)},
	{"curl_multi_info_read", offsetof(pf_curl, multi_info_read)},
	{"curl_slist_append", offsetof(pf_curl, slist_append)},
	{"curl_slist_free_all", offsetof(pf_curl, slist_free_all)},
};

static int look_up_functions(pf_curl *c, const char *name, pf_err *e)
{
	for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
		void *f = dlsym(c->lib, functions[i].symbol);
		if (!f)
			return pf_fail(e, PF_EXIT_SOURCE, "cannot use libcurl: %s has no %s", name,
				       functions[i].symbol);
		memcpy((char *)c + functions[i].slot, &f, sizeof f);
	}
	return 0;
}

int pf_curl_open(pf_curl *c, const char *name, pf_err *e)
{
	memset(c, 0, sizeof *c);
	c->lib = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!c->lib)
		return pf_fail(e, PF_EXIT_SOURCE, "cannot load libcurl, needed to fetch (install libcurl4): %s",
			       dlerror());
	if (look_up_functions(c, name, e) != 0) {
		dlclose(c->lib);
		memset(c, 0, sizeof *c);
		return -1;
	}
	if (c->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(c->lib);
		memset(c, 0, sizeof *c);
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot start libcurl (out of memory?)");
	}
	return 0;
}

void pf_curl_close(pf_curl *c)
{
	if (!c->lib)
		return;
	c->global_cleanup();
	dlclose(c->lib);
	memset(c, 0, sizeof *c);
}
