/* SPDX-License-Identifier: MIT */
/* `rackstack-firstboot zabbix`: the Zabbix server's step on its own (the services step runs it on
 * comm), its plan, and the agent's rendered configuration (join.c), for tests and operators. */
#include <fcntl.h>
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "creds-place.h"
#include "join.h"
#include "log.h"
#include "sql-batch.h"
#include "util.h"
#include "zabbix.h"

static int usage(void) {
        log_error("usage: rackstack-firstboot zabbix server --host NAME [--root DIR] [--creds BUNDLE] [--offline]\n"
                  "                                  [--start-with PROG] [--api URL] [--psk-identity ID] [--plan]\n"
                  "       rackstack-firstboot zabbix agent-conf --fqdn FQDN --role ROLE --server HOST [--psk-identity ID]\n"
                  "       rackstack-firstboot zabbix sql-batch < SCRIPT.sql > BATCHED.sql");
        return 2;
}

int verb_zabbix(int argc, char **argv) {
        enum { A_ROOT = 256, A_HOST, A_CREDS, A_OFFLINE, A_START, A_API, A_ID, A_PLAN, A_FQDN, A_ROLE, A_SERVER };
        static const struct option opts[] = {
                { "root", required_argument, NULL, A_ROOT },   { "host", required_argument, NULL, A_HOST },
                { "creds", required_argument, NULL, A_CREDS }, { "offline", no_argument, NULL, A_OFFLINE },
                { "start-with", required_argument, NULL, A_START }, { "api", required_argument, NULL, A_API },
                { "psk-identity", required_argument, NULL, A_ID }, { "plan", no_argument, NULL, A_PLAN },
                { "fqdn", required_argument, NULL, A_FQDN },   { "role", required_argument, NULL, A_ROLE },
                { "server", required_argument, NULL, A_SERVER }, {},
        };
        if (argc < 2)
                return usage();
        const char *what = argv[1], *root = "/", *host = NULL, *creds = NULL, *start = NULL, *api = NULL, *id = NULL,
                   *fqdn = NULL, *role = NULL, *server = NULL;
        bool offline = false, plan = false;
        int ch;
        optind = 2;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case A_ROOT: root = optarg; break;
                case A_HOST: host = optarg; break;
                case A_CREDS: creds = optarg; break;
                case A_OFFLINE: offline = true; break;
                case A_START: start = optarg; break;
                case A_API: api = optarg; break;
                case A_ID: id = optarg; break;
                case A_PLAN: plan = true; break;
                case A_FQDN: fqdn = optarg; break;
                case A_ROLE: role = optarg; break;
                case A_SERVER: server = optarg; break;
                default: return 2;
                }
        if (optind != argc)
                return usage();
        if (streq(what, "agent-conf")) {
                if (!fqdn || !role || !server)
                        return usage();
                _cleanup_free_ char *t = join_render_zabbix(fqdn, role, server, id ? id : ZABBIX_PSK_IDENTITY);
                if (!t)
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
                fputs(t, stdout);
                return 0;
        }
        if (streq(what, "sql-batch")) {
                /* the server step's import filter: a thousand statements (or 1 MiB) per query */
                int r = sql_batch_filter(STDIN_FILENO, STDOUT_FILENO, 1000, 1u << 20);
                if (r == -EBADMSG)
                        log_error("sql-batch: the script ends inside a quote or comment");
                else if (r < 0)
                        log_error_errno(r, "sql-batch: %m");
                return r < 0 ? 1 : 0;
        }
        if (!streq(what, "server"))
                return usage();
        if (plan) {
                struct zabbix_autoreg a = zabbix_autoreg_default;
                if (id)
                        a.psk_identity = id;
                struct zabbix_plan p;
                zabbix_plan_make(&a, &p);
                _cleanup_free_ char *j = zabbix_plan_json(&p);
                if (!j)
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
                fputs(j, stdout);
                return 0;
        }
        if (!host)
                return usage();
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open %s: %m", root), 2;
        int r;
        if (creds) {
                _cleanup_free_ char *names = NULL, *why = NULL;
                if ((r = creds_copy_in(root, creds)) < 0)
                        return log_error_errno(r, "Cannot read %s: %m", creds), 1;
                if ((r = creds_place(fd, host, &names, &why)) < 0)
                        return log_error("%s", why ? why : strerror(-r)), 1;
                printf("credentials placed in %s/" CREDS_DIR "\n", root);
        }
        if (!offline && !streq(root, "/"))
                return log_error("zabbix server: a live run needs --root / (the files it writes are the running system's); "
                                 "use --offline for another root"), 2;
        struct zabbix_ctx c = { .root_fd = fd, .host = host, .live = !offline, .start_with = start, .api_url = api,
                                .psk_identity = id, .wait_sec = join_wait_bound() };
        _cleanup_free_ char *done = NULL, *reason = NULL;
        r = zabbix_server_setup(&c, &done, &reason);
        if (r < 0)
                return log_error("zabbix-server: %s", strna(reason)), 1;
        printf("zabbix-server: %s\n", done);
        return 0;
}
