/* SPDX-License-Identifier: MIT */
/* FreeIPA as the id role runs it: the OCI service freeipa-server (freeipa/freeipa-container), not
 * ipa-server-install on the host (Debian and Ubuntu package no FreeIPA server).
 *
 * The container's documented interface (its README and ipa-server-configure-first script):
 * on a first start with an unconfigured /data volume it runs ipa-server-install with the options
 * in /data/ipa-server-install-options, read through xargs (so whitespace separates options and
 * quotes and backslashes are xargs's); the hostname is the container's (podman -h), never
 * ipa-server-install --hostname; it writes "FreeIPA server configured." to
 * /var/log/ipa-server-configure-first.log, which lives in the volume (/var/log/ and /etc/ipa/ are
 * in its volume-data-list). */
#pragma once

#include <stdbool.h>

#define IPA_CONTAINER_SERVICE "freeipa-server" /* the profile's service, the container's name */
#define IPA_CONTAINER_DATA "/data"             /* the image's volume */
#define IPA_CONTAINER_OPTIONS "ipa-server-install-options"
#define IPA_CONTAINER_CONF "etc/ipa/default.conf"
#define IPA_CONTAINER_LOG "var/log/ipa-server-configure-first.log"
#define IPA_CONTAINER_DONE "FreeIPA server configured."

/* ipa-server-install's DNS options, the same for an install on the host and in the container
 * (join-step.c says why each): NULL-terminated. */
extern const char *const ipa_server_dns_flags[];

struct ipa_install_opts {
        const char *domain, *realm;                /* realm NULL: ipa-server-install's default */
        const char *admin_password, *ds_password;  /* ds NULL: the admin password */
        const char *ip;                            /* --ip-address; NULL: none */
};

/* The content of ipa-server-install-options: one option per line, every value quoted for xargs
 * (a backslash before each character outside [A-Za-z0-9@%+=:,./_-]). -EINVAL (nothing in *ret)
 * for a value with a control character or empty; the caller cleanses *ret (it holds passwords). */
int ipa_install_options_render(const struct ipa_install_opts *o, char **ret);

/* podman exec -i [-e ENV]… CONTAINER CMD…: a NULL-terminated array of borrowed pointers (free the
 * array only). podman NULL: "podman". NULL on ENOMEM. */
const char **ipa_container_exec_argv(const char *podman, const char *container, const char *const *env,
                                     const char *const *cmd);

/* Configured: the volume's etc/ipa/default.conf names realm (any realm if NULL) and its
 * configure-first log says IPA_CONTAINER_DONE. conf/log are the files' text, NULL if missing. */
bool ipa_container_configured(const char *conf, const char *log, const char *realm);

/* The same, reading the two files in the volume data_host (absolute, under root_fd). */
bool ipa_container_volume_configured(int root_fd, const char *data_host, const char *realm);
