/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A small HTTP/1.1 client for what firstboot and the installer fetch: a kickstart, an image, a
 * status event; and the builder's vendor keys and Release files. Plain http:// unless
 * allow_https (below) (the answers and the image are pinned by sha256 or signed, so
 * transport security is not what makes them trustworthy); https:// is refused with
 * -EPROTONOSUPPORT rather than fetched in the clear. A GET follows up to five redirects, each
 * resolved against the URL that answered it; a POST follows none (a 3xx is -EIO with the status),
 * so a signed status event never reaches a host it was not sent to. No chunked uploads; chunked
 * and Content-Length downloads both work.
 *
 * Errors: -EINVAL bad URL, -EPROTONOSUPPORT scheme, -EHOSTUNREACH name did not resolve,
 * -ECONNREFUSED/-ETIMEDOUT/-ECONNRESET from the network, -ENOENT for 404, -EIO other non-2xx
 * (see ret_status where given), -EFBIG over max_size, -EBADMSG sha256 pin mismatch or malformed
 * response. A sink's negative return aborts the transfer and is returned as is. */

struct http_options {
        uint64_t timeout_usec;  /* per connect and per read; 0 = 30 s */
        unsigned retries;       /* further attempts after a failure that may be transient */
        uint64_t max_size;      /* 0 = unlimited */
        const char *sha256_hex; /* pin: the body must hash to this, else -EBADMSG */
        /* Fetch https:// too (otherwise -EPROTONOSUPPORT): TLS 1.2+, the certificate verified against
         * the system CA store and the URL's host; one that does not verify is -EKEYREJECTED. For
         * what is trusted by transport (a vendor's key before its fingerprint is checked is not:
         * the builder fetches vendor keys this way and checks the fingerprint after). */
        bool allow_https;
};

typedef int (*http_sink_t)(const void *p, size_t n, void *userdata);

/* Streams the body into sink. A failure is retried (with backoff) only while no byte of the body
 * has reached the sink, so a sink never sees a body twice: connect errors, timeouts before the
 * body, 5xx. */
int http_get(const char *url, const struct http_options *o, http_sink_t sink, void *userdata);
/* What an http_get*() error means to a reader ("HTTP 404 (not found)", "host name did not resolve",
 * …): one wording for the builder's and firstboot's messages. Static text or strerror(). */
const char *http_strerror(int r);
int http_get_buffer(const char *url, const struct http_options *o, char **ret_data, size_t *ret_size);

/* POST body; *ret_status is the HTTP status on any complete response. Non-2xx is -EIO. */
int http_post(const char *url, const struct http_options *o, const char *content_type,
              char **extra_headers, const void *body, size_t n, int *ret_status);

/* The same, with the response's body (NUL-terminated; the NUL is not in *ret_size): a JSON-RPC
 * call (the Zabbix API). */
int http_post_buffer(const char *url, const struct http_options *o, const char *content_type,
                     char **extra_headers, const void *body, size_t n, int *ret_status, char **ret_data,
                     size_t *ret_size);

/* Read one response from fd as the client does (for the fuzzer and tests). */
int http_read_response(int fd, const struct http_options *o, http_sink_t sink, void *userdata, int *ret_status);

/* The URL a Location header names, resolved against base (the URL that answered). */
int http_resolve_location(const char *base, const char *location, char **ret);

/* Split http://host[:port]/path; exposed for tests. */
int http_parse_url(const char *url, char **ret_host, char **ret_port, char **ret_path);
