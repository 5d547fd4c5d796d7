#include <curl/curl.h>
#include <string.h>

// Typed wrappers of libcurl's variadic calls, which Swift cannot call (STYLE, top).
static inline CURLcode tandem_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tandem_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tandem_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tandem_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*tandem_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode tandem_easy_setopt_writefn(CURL *h, CURLoption o, tandem_write_cb f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode tandem_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode tandem_easy_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }

/// Sets a blob option (client certificate or key from memory); libcurl copies the bytes.
static inline CURLcode tandem_easy_setopt_blob(CURL *h, CURLoption o, const void *data, size_t len) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &blob);
}

static inline CURLMcode tandem_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/// The result of a finished transfer (CURLMsg.data is a union Swift reads awkwardly).
static inline CURLcode tandem_msg_result(const CURLMsg *msg) { return msg->data.result; }

// Macros Swift does not import (casts and expressions).
static const long tandem_auth_any = (long)CURLAUTH_ANY;
static const long tandem_auth_basic = (long)CURLAUTH_BASIC;
static const long tandem_pipe_multiplex = CURLPIPE_MULTIPLEX;
