#include <curl/curl.h>
static inline CURLcode tandem_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tandem_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tandem_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*tandem_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode tandem_easy_setopt_writefn(CURL *h, CURLoption o, tandem_write_cb f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode tandem_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
