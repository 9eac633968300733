/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backup.h"
#include "cleanup.h"
#include "creds-place.h"
#include "log.h"
#include "util.h"

/* --plan: what the host would get, the secrets' values left out */
static int print_plan(const struct backup_plan *p, const char *host) {
        for (size_t i = 0; i < p->n_clients; i++)
                printf("client %s (%s): account %s, chroot " BACKUP_ROOT "/%s, repository " BACKUP_ROOT "/%s/repo, key from %s\n",
                       p->clients[i].host, p->clients[i].service, p->clients[i].account, p->clients[i].host,
                       p->clients[i].host, p->clients[i].cred);
        _cleanup_free_ char *sshd = p->n_clients ? backup_sshd_render(p) : NULL, *nft = backup_nft_render(p);
        if (sshd)
                printf("--- " BACKUP_SSHD_DROPIN "\n%s", sshd);
        if (nft && *nft)
                printf("--- firewall (appended to /etc/nftables.conf)%s", nft);
        if (p->n_targets) {
                _cleanup_free_ char *env = backup_env_render(&p->targets[0], host),
                                    *svc = backup_service_render(&p->targets[0]), *tmr = backup_timer_render(&p->targets[0]);
                if (!env || !svc || !tmr)
                        return -ENOMEM;
                printf("--- " BACKUP_CONF_DIR "/env\n%s--- /etc/systemd/system/" BACKUP_UNIT ".service\n%s"
                       "--- /etc/systemd/system/" BACKUP_UNIT ".timer\n%s--- " BACKUP_SCRIPT "\n%s",
                       env, svc, tmr, backup_script_text);
        }
        return 0;
}

int verb_backup(int argc, char **argv) {
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' }, { "host", required_argument, NULL, 'H' },
                { "creds", required_argument, NULL, 'c' }, { "plan", no_argument, NULL, 'p' },
                {},
        };
        const char *root = "/", *host = NULL, *creds = NULL;
        bool plan = false;
        int ch;
        optind = 1;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case 'r': root = optarg; break;
                case 'H': host = optarg; break;
                case 'c': creds = optarg; break;
                case 'p': plan = true; break;
                default: return 2;
                }
        if (!host || optind != argc)
                return log_error("usage: rackstack-firstboot backup --host NAME [--root DIR] [--creds BUNDLE] [--plan]"), 2;
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open %s: %m", root), 2;
        _cleanup_free_ char *why = NULL, *done = NULL;
        int r;
        if (creds) {
                _cleanup_free_ char *names = NULL;
                if ((r = creds_copy_in(root, creds)) < 0)
                        return log_error_errno(r, "Cannot read %s: %m", creds), 1;
                if ((r = creds_place(fd, host, &names, &why)) < 0)
                        return log_error("%s", why ? why : strerror(-r)), 1;
        }
        _cleanup_(backup_plan_done) struct backup_plan p = {};
        r = backup_load(fd, host, &p, NULL, &why);
        if (r == -ENOENT && !why)
                return log_error("%s has no backup link in its wiring (no credentials bundle, or neither a backup client nor the backup host)", host), 1;
        if (r < 0)
                return log_error("%s", why ? why : strerror(-r)), 1;
        if (plan)
                return print_plan(&p, host) < 0 ? 1 : 0;
        struct backup_ctx c = { .root_fd = fd, .root = root, .host = host, .live = streq(root, "/") };
        r = backup_apply(&c, &p, &done, &why);
        if (r < 0)
                return log_error("backup: %s", why ? why : strerror(-r)), 1;
        printf("backup: %s\n", done);
        return 0;
}
