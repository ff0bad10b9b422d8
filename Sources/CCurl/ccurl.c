#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// The libcurl ABI values used here (curl/curl.h; stable across libcurl 7 and 8).
enum {
    OPT_WRITEDATA = 10001, OPT_URL = 10002, OPT_ERRORBUFFER = 10010, OPT_LOW_SPEED_LIMIT = 19,
    OPT_LOW_SPEED_TIME = 20, OPT_HTTPHEADER = 10023, OPT_HEADERDATA = 10029, OPT_NOBODY = 44,
    OPT_FOLLOWLOCATION = 52, OPT_MAXREDIRS = 68, OPT_NOSIGNAL = 99, OPT_CONNECTTIMEOUT_MS = 156,
    OPT_WRITEFUNCTION = 20011, OPT_HEADERFUNCTION = 20079, INFO_RESPONSE_CODE = 0x200002,
    GLOBAL_DEFAULT = 3, ERROR_SIZE = 256,
};

struct slist;
static struct {
    int (*global_init)(long);
    void *(*easy_init)(void);
    int (*easy_setopt)(void *, int, ...);
    int (*easy_perform)(void *);
    int (*easy_getinfo)(void *, int, ...);
    void (*easy_cleanup)(void *);
    const char *(*easy_strerror)(int);
    struct slist *(*slist_append)(struct slist *, const char *);
    void (*slist_free_all)(struct slist *);
    int loaded;
    char error[256];
} curl;

static void load(void) {
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(curl.error, sizeof curl.error, "libcurl.so.4 is not installed (%s)", dlerror());
        return;
    }
#define SYM(field, name)                                                                    \
    if (!(*(void **)&curl.field = dlsym(lib, name))) {                                     \
        snprintf(curl.error, sizeof curl.error, "libcurl.so.4 lacks %s", name);           \
        return;                                                                             \
    }
    SYM(global_init, "curl_global_init")
    SYM(easy_init, "curl_easy_init")
    SYM(easy_setopt, "curl_easy_setopt")
    SYM(easy_perform, "curl_easy_perform")
    SYM(easy_getinfo, "curl_easy_getinfo")
    SYM(easy_cleanup, "curl_easy_cleanup")
    SYM(easy_strerror, "curl_easy_strerror")
    SYM(slist_append, "curl_slist_append")
    SYM(slist_free_all, "curl_slist_free_all")
#undef SYM
    if (curl.global_init(GLOBAL_DEFAULT) != 0) {
        snprintf(curl.error, sizeof curl.error, "curl_global_init failed");
        return;
    }
    curl.loaded = 1;
}

int da3_http_load(char *error, size_t error_size) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!curl.loaded && error && error_size) snprintf(error, error_size, "%s", curl.error);
    return curl.loaded;
}

struct relay {
    da3_http_callback callback;
    void *context;
};

static size_t relay(char *data, size_t size, size_t count, void *user) {
    const struct relay *r = user;
    return r->callback(data, size * count, r->context);
}

int da3_http_perform(const char *url, const char *const *headers, size_t header_count, int head_only,
                     int follow_redirects, long timeout_ms, da3_http_callback on_header,
                     da3_http_callback on_body, void *context, long *status, char *error, size_t error_size) {
    char message[ERROR_SIZE] = {0};
    *status = 0;
    if (!da3_http_load(error, error_size)) return -1;
    void *h = curl.easy_init();
    if (!h) {
        snprintf(error, error_size, "curl_easy_init failed");
        return -1;
    }
    struct slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl.slist_append(list, headers[i]);
    struct relay header_relay = {on_header, context}, body_relay = {on_body, context};
    long seconds = timeout_ms > 999 ? timeout_ms / 1000 : 1;
    curl.easy_setopt(h, OPT_URL, url);
    curl.easy_setopt(h, OPT_HTTPHEADER, list);
    curl.easy_setopt(h, OPT_NOBODY, (long)(head_only != 0));
    curl.easy_setopt(h, OPT_FOLLOWLOCATION, (long)(follow_redirects != 0));
    curl.easy_setopt(h, OPT_MAXREDIRS, 10L);
    curl.easy_setopt(h, OPT_NOSIGNAL, 1L);  // threads: no SIGALRM for name-lookup timeouts
    curl.easy_setopt(h, OPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl.easy_setopt(h, OPT_LOW_SPEED_LIMIT, 1L);  // an idle timeout, as URLSession's request timeout
    curl.easy_setopt(h, OPT_LOW_SPEED_TIME, seconds);
    curl.easy_setopt(h, OPT_HEADERFUNCTION, relay);
    curl.easy_setopt(h, OPT_HEADERDATA, &header_relay);
    curl.easy_setopt(h, OPT_WRITEFUNCTION, relay);
    curl.easy_setopt(h, OPT_WRITEDATA, &body_relay);
    curl.easy_setopt(h, OPT_ERRORBUFFER, message);
    int code = curl.easy_perform(h);
    curl.easy_getinfo(h, INFO_RESPONSE_CODE, status);
    if (code != 0) snprintf(error, error_size, "%s", message[0] ? message : curl.easy_strerror(code));
    curl.easy_cleanup(h);
    curl.slist_free_all(list);
    return code;
}
