/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "creds-place.h"
#include "creds.h"
#include "db-wiring.h"
#include "fileio.h"
#include "render.h"
#include "secret.h"
#include "util.h"

void db_wiring_set_done(struct db_wiring_set *s) {
        strv_free(s->verifiers);
        strv_free(s->hashes);
        strv_free(s->mysql_hashes);
        if (s->redis_default)
                creds_wipe_free(s->redis_default, strlen(s->redis_default));
        db_wiring_done(&s->plan);
        *s = (struct db_wiring_set) {};
}

static int password(int root_fd, const char *cred, struct secret *ret, char **ret_error) {
        _cleanup_free_ char *path = strprintf("/" CREDS_DIR "/%s", cred);
        if (!path)
                return -ENOMEM;
        int r = secret_read(root_fd, path, ret);
        if (r < 0)
                *ret_error = strprintf("the credential %s: %s", path,
                                       r == -ENOENT ? "missing from this host's bundle"
                                       : r == -EPERM ? "not a root-only regular file; refused"
                                                     : strerror(-r));
        return r;
}

int db_wiring_load(int root_fd, const char *self, bool allow_kept, struct db_wiring_set *ret, char **ret_error) {
        _cleanup_(wiring_done) struct wiring w = {};
        bool kept = false;
        int r = creds_wiring_load(root_fd, &w, allow_kept ? &kept : NULL, ret_error);
        if (r < 0)
                return r;
        struct db_wiring_set s = { .kept = kept };
        if ((r = db_wiring_plan(&w, self, &s.plan)) < 0)
                return r;
        if (!s.plan.n_pg && !s.plan.n_redis && !s.plan.n_mysql) {
                db_wiring_set_done(&s);
                return -ENOENT;
        }
        if (kept) { /* no passwords to hash: the accounts stay as the run with the bundle made them */
                *ret = s;
                return 0;
        }
        for (size_t i = 0; i < s.plan.n_pg && r >= 0; i++) {
                struct secret pw = {};
                uint8_t salt[16];
                if ((r = password(root_fd, s.plan.pg[i].cred, &pw, ret_error)) < 0)
                        break;
                if (RAND_bytes(salt, sizeof salt) != 1)
                        r = -EIO;
                char *v = r >= 0 ? pg_scram_verifier(pw.data, salt) : NULL;
                secret_free(&pw);
                if (r >= 0)
                        r = v ? strv_push(&s.verifiers, v) : -ENOMEM;
        }
        for (size_t i = 0; i < s.plan.n_redis && r >= 0; i++) {
                struct secret pw = {};
                if ((r = password(root_fd, s.plan.redis[i].cred, &pw, ret_error)) < 0)
                        break;
                char *h = redis_acl_hash(pw.data);
                secret_free(&pw);
                r = h ? strv_push(&s.hashes, h) : -ENOMEM;
        }
        for (size_t i = 0; i < s.plan.n_mysql && r >= 0; i++) {
                struct secret pw = {};
                if ((r = password(root_fd, s.plan.mysql[i].cred, &pw, ret_error)) < 0)
                        break;
                char *h = mysql_native_hash(pw.data);
                secret_free(&pw);
                r = h ? strv_push(&s.mysql_hashes, h) : -ENOMEM;
        }
        if (r >= 0 && s.plan.n_redis) {
                struct secret pw = {};
                int k = secret_read(root_fd, "/" CREDS_DIR "/redis", &pw);
                if (k >= 0) {
                        s.redis_default = pw.data;
                        pw.data = NULL;
                } else if (k != -ENOENT)
                        r = password(root_fd, "redis", &pw, ret_error);
        }
        if (r < 0) {
                db_wiring_set_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int db_wiring_write_dir(const struct db_wiring_set *s, const char *dir, const char *listen) {
        _cleanup_free_ char *sql = db_wiring_sql(&s->plan, s->verifiers), *hba = db_wiring_hba(&s->plan),
                            *ini = pgbouncer_ini_render(&s->plan, listen, 6432),
                            *users = pgbouncer_userlist_render(&s->plan, s->verifiers),
                            *acl = redis_acl_render(&s->plan, s->hashes),
                            *pgb_hba = pgbouncer_hba_render(&s->plan);
        /* PostgreSQL's whole pg_hba.conf as the services step writes it: local, loopback, consumers */
        _cleanup_free_ char *base = pg_hba_render(NULL, 0), *full = base && hba ? strprintf("%s%s", base, hba) : NULL;
        if (!sql || !hba || !ini || !users || !acl || !full || !pgb_hba)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const struct {
                const char *name, *text;
        } files[] = {
                { "wiring.sql", sql },          { "pg_hba-consumers.conf", hba }, { "pgbouncer.ini", ini },
                { "userlist.txt", users },      { "pgbouncer-hba.conf", pgb_hba },   { "redis-acl.conf", acl },
                { "pg_hba.conf", full },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                int r = write_file_atomic(fd, files[i].name, files[i].text, strlen(files[i].text), 0600);
                if (r < 0)
                        return r;
        }
        if (s->plan.n_mysql) {
                _cleanup_free_ char *my = db_wiring_mysql_sql(&s->plan, s->mysql_hashes);
                if (!my)
                        return -ENOMEM;
                int r = write_file_atomic(fd, "mariadb-wiring.sql", my, strlen(my), 0600);
                if (r < 0)
                        return r;
        }
        return 0;
}
