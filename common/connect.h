/* SPDX-License-Identifier: MIT */
#pragma once

#include <netdb.h>
#include <sys/socket.h>

/* The one way to resolve a name and to open a TCP connection within a bound, for both programs. */

/* getaddrinfo() for host (a name or a literal) and port (NULL: any), family AF_UNSPEC or AF_INET.
 * 0 with *ret (freeaddrinfo() it); -EHOSTUNREACH if the name does not resolve (no such name, or no
 * answer from the resolver), -ENOMEM, or the errno of a system error. */
int net_resolve(const char *host, const char *port, int family, int socktype, struct addrinfo **ret);

/* A TCP connection to sa, established within timeout_ms: 0 with *ret_fd (non-blocking,
 * close-on-exec); -ETIMEDOUT, or the connect's -errno (-ECONNREFUSED …). */
int net_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout_ms, int *ret_fd);

/* Each address of ai in turn, each within timeout_ms: the first that accepts, else the last error. */
int net_connect_addrinfo(const struct addrinfo *ai, int timeout_ms, int *ret_fd);

/* Resolve and connect: net_resolve() then net_connect_addrinfo(). */
int net_connect(const char *host, const char *port, int family, int timeout_ms, int *ret_fd);

/* Can a TCP connection to host:port be opened within timeout_ms (name resolution part of it)? The
 * connection is closed again. 0, or -errno with *ret_why saying which part failed ("name does not
 * resolve: …", "port 443: Connection refused"): firstboot's probes of a source before it is used. */
int net_probe(const char *host, const char *port, int timeout_ms, char **ret_why);
