/* Opening libcurl at run time: the library pgofetch would open works, and
 * a missing library or one that is not libcurl is said, in one line, with
 * nothing left open. */
#include "check.h"
#include "curl_load.h"

#include <string.h>

static void opens_libcurl(void)
{
	pf_curl c;
	pf_err e = {0};
	CHECK_EQ_INT(pf_curl_open(&c, PGOFETCH_LIBCURL, &e), 0);
	CHECK_EQ_INT(e.code, 0);
	CHECK(c.lib != NULL);
	/* the functions are libcurl's: they answer as libcurl does */
	curl_version_info_data *v = c.version_info(CURLVERSION_NOW);
	CHECK(v != NULL && v->version_num >= 0x075500); /* 7.85: CURLOPT_PROTOCOLS_STR */
	CHECK_EQ_STR(c.easy_strerror(CURLE_COULDNT_RESOLVE_HOST), "Couldn't resolve host name");
	CURL *h = c.easy_init();
	CHECK(h != NULL);
	CHECK_EQ_INT(c.easy_setopt(h, CURLOPT_URL, "https://example.invalid/"), CURLE_OK);
	char *url = NULL;
	CHECK_EQ_INT(c.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
	CHECK_EQ_STR(url, "https://example.invalid/");
	c.easy_cleanup(h);
	struct curl_slist *l = c.slist_append(NULL, "A: b");
	CHECK(l != NULL && strcmp(l->data, "A: b") == 0);
	c.slist_free_all(l);
	CURLM *m = c.multi_init();
	CHECK(m != NULL);
	CHECK_EQ_INT(c.multi_cleanup(m), CURLM_OK);
	pf_curl_close(&c);
	CHECK(c.lib == NULL && c.easy_init == NULL);
	pf_curl_close(&c); /* closed: nothing to do */

	/* opened twice at once, closed in any order */
	pf_curl a, b;
	CHECK_EQ_INT(pf_curl_open(&a, PGOFETCH_LIBCURL, &e), 0);
	CHECK_EQ_INT(pf_curl_open(&b, PGOFETCH_LIBCURL, &e), 0);
	pf_curl_close(&a);
	h = b.easy_init();
	CHECK(h != NULL);
	b.easy_cleanup(h);
	pf_curl_close(&b);
}

static void refuses(const char *name, int code, const char *want)
{
	pf_curl c;
	memset(&c, 0xa5, sizeof c); /* whatever was there before */
	pf_err e = {0};
	CHECK_EQ_INT(pf_curl_open(&c, name, &e), -1);
	CHECK_EQ_INT(e.code, code);
	if (!strstr(e.msg, want))
		CHECK_EQ_STR(e.msg, want);
	CHECK(strchr(e.msg, '\n') == NULL);
	CHECK(c.lib == NULL && c.global_init == NULL && c.slist_free_all == NULL);
	pf_curl_close(&c);
}

int main(void)
{
	opens_libcurl();
	refuses("libpgofetch-no-such-library.so.4", PF_EXIT_SOURCE,
		"cannot load libcurl, needed to fetch (install libcurl4): libpgofetch-no-such-library.so.4: cannot open");
	refuses("libz.so.1", PF_EXIT_SOURCE, "cannot use libcurl: libz.so.1 has no curl_global_init");
	return check_report("curl_load");
}
