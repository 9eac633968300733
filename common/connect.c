/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "connect.h"
#include "util.h"

int net_resolve(const char *host, const char *port, int family, int socktype, struct addrinfo **ret) {
        struct addrinfo hints = { .ai_family = family, .ai_socktype = socktype };
        int e = getaddrinfo(host, port, &hints, ret);
        if (e == 0)
                return 0;
        if (e == EAI_SYSTEM)
                return errno > 0 ? -errno : -EIO;
        if (e == EAI_MEMORY)
                return -ENOMEM;
        return -EHOSTUNREACH;
}

int net_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout_ms, int *ret_fd) {
        _cleanup_close_ int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, len) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                int n;
                while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
                        ;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ETIMEDOUT;
                int err = 0;
                socklen_t el = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                        return -errno;
                if (err)
                        return -err;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int net_connect_addrinfo(const struct addrinfo *ai, int timeout_ms, int *ret_fd) {
        int r = -EHOSTUNREACH;
        for (const struct addrinfo *a = ai; a; a = a->ai_next) {
                r = net_connect_addr(a->ai_addr, a->ai_addrlen, timeout_ms, ret_fd);
                if (r == 0)
                        return 0;
        }
        return r;
}

int net_connect(const char *host, const char *port, int family, int timeout_ms, int *ret_fd) {
        struct addrinfo *ai = NULL;
        int r = net_resolve(host, port, family, SOCK_STREAM, &ai);
        if (r < 0)
                return r;
        r = net_connect_addrinfo(ai, timeout_ms, ret_fd);
        freeaddrinfo(ai);
        return r;
}

int net_probe(const char *host, const char *port, int timeout_ms, char **ret_why) {
        struct addrinfo *ai = NULL;
        int r = net_resolve(host, port, AF_UNSPEC, SOCK_STREAM, &ai);
        if (r < 0) {
                *ret_why = strprintf("name does not resolve: %s", strerror(-r));
                return r;
        }
        _cleanup_close_ int fd = -1;
        r = net_connect_addrinfo(ai, timeout_ms, &fd);
        freeaddrinfo(ai);
        if (r < 0)
                *ret_why = strprintf("port %s: %s", port, strerror(-r));
        return r;
}
