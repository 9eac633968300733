/* SPDX-License-Identifier: MIT */
/* FreeIPA's container: the install options file, the exec argv, the volume's state (ipa-container.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "ipa-container.h"
#include "util.h"

const char *const ipa_server_dns_flags[] = { "--setup-dns", "--no-forwarders", "--auto-reverse", "--allow-zone-overlap",
                                             NULL };

static bool bad_value(const char *v) {
        if (!v || !*v)
                return true;
        for (const unsigned char *s = (const unsigned char *) v; *s; s++)
                if (*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static void put_quoted(struct buf *b, const char *opt, const char *v) {
        buf_printf(b, "%s=", opt);
        for (const char *s = v; *s; s++) {
                if (!strchr("@%+=:,./_-", *s) && !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
                    !(*s >= '0' && *s <= '9'))
                        buf_put(b, "\\", 1);
                buf_put(b, s, 1);
        }
        buf_put(b, "\n", 1);
}

int ipa_install_options_render(const struct ipa_install_opts *o, char **ret) {
        const char *ds = o->ds_password ? o->ds_password : o->admin_password;
        if (bad_value(o->domain) || bad_value(o->admin_password) || bad_value(ds) ||
            (o->realm && bad_value(o->realm)) || (o->ip && bad_value(o->ip)))
                return -EINVAL;
        /* Sized up front for the worst case (every value character escaped): the buffer never
         * grows, so no copy of a password is left behind in freed memory by a realloc. */
        size_t cap = 256 + 2 * (strlen(o->domain) + (o->realm ? strlen(o->realm) : 0) + strlen(o->admin_password) +
                                strlen(ds) + (o->ip ? strlen(o->ip) : 0));
        struct buf b = { .data = malloc(cap), .cap = cap };
        if (!b.data)
                return -ENOMEM;
        b.data[0] = 0;
        /* -U: unattended. No --hostname: the container's own (podman -h) is the server's name, as
         * its README demands. The DNS flags are join/identity's (see join-step.c). */
        buf_puts(&b, "-U\n");
        put_quoted(&b, "--domain", o->domain);
        if (o->realm)
                put_quoted(&b, "--realm", o->realm);
        buf_puts(&b, "--no-ntp\n");
        put_quoted(&b, "--admin-password", o->admin_password);
        put_quoted(&b, "--ds-password", ds);
        for (const char *const *f = ipa_server_dns_flags; *f; f++)
                buf_printf(&b, "%s\n", *f);
        if (o->ip)
                put_quoted(&b, "--ip-address", o->ip);
        char *s = buf_steal(&b);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

const char **ipa_container_exec_argv(const char *podman, const char *container, const char *const *env,
                                     const char *const *cmd) {
        size_t n = 4;
        for (const char *const *e = env; e && *e; e++)
                n += 2;
        for (const char *const *c = cmd; c && *c; c++)
                n++;
        const char **argv = calloc(n + 1, sizeof *argv);
        if (!argv)
                return NULL;
        size_t k = 0;
        argv[k++] = podman ? podman : "podman";
        argv[k++] = "exec";
        argv[k++] = "-i";
        for (const char *const *e = env; e && *e; e++)
                argv[k++] = "-e", argv[k++] = *e;
        argv[k++] = container;
        for (const char *const *c = cmd; c && *c; c++)
                argv[k++] = *c;
        argv[k] = NULL;
        return argv;
}

bool ipa_container_configured(const char *conf, const char *log, const char *realm) {
        if (!conf || !log || !strstr(log, IPA_CONTAINER_DONE))
                return false;
        if (!realm)
                return true;
        _cleanup_free_ char *want = strprintf("realm = %s\n", realm);
        return want && strstr(conf, want);
}

bool ipa_container_volume_configured(int root_fd, const char *data_host, const char *realm) {
        const char *rel = data_host + strspn(data_host, "/");
        _cleanup_free_ char *conf_path = strprintf("%s/" IPA_CONTAINER_CONF, *rel ? rel : "."),
                            *log_path = strprintf("%s/" IPA_CONTAINER_LOG, *rel ? rel : ".");
        _cleanup_free_ char *conf = NULL, *log = NULL;
        if (!conf_path || !log_path || read_file_full(root_fd, conf_path, 1 << 20, &conf, NULL) < 0 ||
            read_file_full(root_fd, log_path, 16 << 20, &log, NULL) < 0)
                return false;
        return ipa_container_configured(conf, log, realm);
}
