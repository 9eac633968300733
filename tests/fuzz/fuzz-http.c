/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as an HTTP server's response (status line, headers, chunked or
 * sized body), read by the client as a kickstart or image download would, with a size limit and a
 * sha256 pin. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const void *p, size_t n, void *userdata) {
        size_t *total = userdata;
        *total += n;
        return *total > (1u << 20) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A socketpair holds what the fuzzer sends (its buffer exceeds the largest input we take). */
        if (size > 100 * 1024)
                return 0;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return 0;
        int sndbuf = 512 * 1024;
        (void) setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        size_t off = 0;
        while (off < size) {
                ssize_t k = write(sv[1], data + off, size - off);
                if (k <= 0)
                        break;
                off += k;
        }
        shutdown(sv[1], SHUT_WR);
        struct http_options o = { .timeout_usec = 1000000, .max_size = 64 * 1024,
                                  .sha256_hex = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447" };
        size_t total = 0;
        int status = 0;
        (void) http_read_response(sv[0], &o, sink, &total, &status);
        close(sv[0]);
        close(sv[1]);
        return 0;
}
