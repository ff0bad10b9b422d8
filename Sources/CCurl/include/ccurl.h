// HTTP through libcurl loaded at run time (dlopen "libcurl.so.4"): `da3` links no networking
// library, so a run on a local checkpoint never loads one; the Hub client loads libcurl on its
// first request. Only the handful of calls the Hub client needs, behind non-variadic wrappers.
#ifndef DA3_CCURL_H
#define DA3_CCURL_H

#include <stddef.h>

/// Receives a header line ("Name: value\r\n", or a status line) or a chunk of the body; returns
/// `size` to go on, anything else to abort the transfer.
typedef size_t (*da3_http_callback)(const char *data, size_t size, void *context);

/// Loads libcurl once (thread-safe). Returns 1 when it is usable; otherwise 0 and a reason in `error`.
int da3_http_load(char *error, size_t error_size);

/// One blocking request: HEAD (`head_only`) or GET of `url` with `header_count` request header
/// lines ("Name: value"), following redirects (at most 10) when `follow_redirects`. The connect
/// timeout is `timeout_ms`, and a transfer that receives nothing for that long fails. Every response
/// header line goes to `on_header` (with a status line first for each response, redirects
/// included), the body to `on_body`. Returns 0 with the final HTTP status in `status`, or a libcurl
/// error code with its message in `error`. Requires da3_http_load.
int da3_http_perform(const char *url, const char *const *headers, size_t header_count, int head_only,
                     int follow_redirects, long timeout_ms, da3_http_callback on_header,
                     da3_http_callback on_body, void *context, long *status, char *error, size_t error_size);

#endif
