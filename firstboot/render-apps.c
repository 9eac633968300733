/* SPDX-License-Identifier: MIT */
/* Vendor applications planned and rendered (apps.h): pure functions from the profile, the site,
 * this host, vendor.json and the names (not the contents) of the credentials present.
 *
 * Each application gets the same facts under RACKSTACK_* names (so a stand-in or an unknown image
 * can use them) and, where the image documents its own variables, those too: the database on the
 * db host's database-VLAN address, Redis there too, mail through the comm host, the domain and the
 * external URL from the site's route for it (cloud.<domain> for Nextcloud). Secrets are never in
 * the rendered text: an OCI service gets podman secrets (a file under /run/secrets or, where the
 * image reads no *_FILE variable, an environment variable podman sets inside the container), an
 * apt service gets systemd credentials (LoadCredential= names the file, never the value). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "apps.h"
#include "cleanup.h"
#include "macro.h"
#include "util.h"
#include "yaml-tree.h"

/* ---- vendor.json ------------------------------------------------------------------------------- */

static bool is_hex(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdefABCDEF", s[i]))
                        return false;
        return true;
}

static int dup_scalar(const struct ynode *n, const char *key, char **dst) {
        const struct ynode *node = ynode_get(n, key);
        /* JSON null reads as an unquoted "null": absent */
        if (!node || node->type != YNODE_SCALAR || (!node->quoted && streq(node->scalar, "null")))
                return 0;
        const char *v = node->scalar;
        *dst = strdup(v);
        return *dst ? 0 : -ENOMEM;
}

void vendor_json_done(struct vendor_json *m) {
        for (size_t i = 0; i < m->n; i++) {
                struct vj_entry *e = &m->entries[i];
                free(e->name);
                free(e->image);
                free(e->digest);
                free(e->repo);
                free(e->key_fingerprint);
        }
        free(m->entries);
        *m = (struct vendor_json) {};
}

int vendor_json_parse(const char *text, size_t size, struct vendor_json *ret, char **ret_why) {
        struct diags d = {};
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        int r = yaml_load_buffer("vendor.json", text, size, &d, &root);
        diags_done(&d);
        if (r < 0) {
                *ret_why = strdup("not JSON");
                return -EBADMSG;
        }
        const struct ynode *list = ynode_get(root, "services");
        if (!list || list->type != YNODE_SEQ) {
                *ret_why = strdup("no \"services\" list");
                return -EBADMSG;
        }
        struct vendor_json m = { .entries = calloc(list->n ? list->n : 1, sizeof(struct vj_entry)) };
        if (!m.entries)
                return -ENOMEM;
        for (size_t i = 0; i < list->n; i++) {
                const struct ynode *n = list->items[i];
                struct vj_entry *e = &m.entries[m.n++];
                const char *src = n->type == YNODE_MAP ? ynode_get_scalar(n, "source") : NULL,
                           *state = n->type == YNODE_MAP ? ynode_get_scalar(n, "state") : NULL;
                if ((r = dup_scalar(n, "name", &e->name)) < 0 || (r = dup_scalar(n, "image", &e->image)) < 0 ||
                    (r = dup_scalar(n, "digest", &e->digest)) < 0 || (r = dup_scalar(n, "repo", &e->repo)) < 0 ||
                    (r = dup_scalar(n, "key_fingerprint", &e->key_fingerprint)) < 0)
                        goto fail;
                r = -EBADMSG;
                if (!e->name) {
                        *ret_why = strprintf("entry %zu has no name", i + 1);
                        goto fail;
                }
                if (src && streq(src, "oci"))
                        e->source = SERVICE_SOURCE_OCI;
                else if (src && streq(src, "apt"))
                        e->source = SERVICE_SOURCE_APT;
                else {
                        *ret_why = strprintf("%s: source '%s' is neither oci nor apt", e->name, strna(src));
                        goto fail;
                }
                if (state && streq(state, "in-image"))
                        e->state = VJ_IN_IMAGE;
                else if (state && streq(state, "deferred"))
                        e->state = VJ_DEFERRED;
                else if (state && streq(state, "not-for-base"))
                        e->state = VJ_NOT_FOR_BASE;
                else {
                        *ret_why = strprintf("%s: state '%s' is not in-image, deferred or not-for-base", e->name, strna(state));
                        goto fail;
                }
                /* An image in the image runs by digest or not at all. */
                if (e->source == SERVICE_SOURCE_OCI && e->state == VJ_IN_IMAGE &&
                    (!e->image || !e->digest || !startswith(e->digest, "sha256:") || !is_hex(e->digest + 7, 64))) {
                        *ret_why = strprintf("%s: an OCI image in the image needs \"image\" and a sha256 \"digest\"",
                                             e->name);
                        goto fail;
                }
        }
        *ret = m;
        return 0;
fail:
        vendor_json_done(&m);
        return r;
}

const struct vj_entry *vendor_json_find(const struct vendor_json *m, const char *name) {
        for (size_t i = 0; m && i < m->n; i++)
                if (streq(m->entries[i].name, name))
                        return &m->entries[i];
        return NULL;
}

/* ---- what each application wants --------------------------------------------------------------- */

/* Lines of its environment file: "KEY=template"; "?db:" lines only with a database password,
 * "?admin:" only with an admin password. Tokens: {fqdn} {url} {domain} {db_host} {db_port} {db_name}
 * {db_user} {redis_host} {smtp_host} {data} {credentials}. {db_port} is MariaDB's 3306 for a service
 * that needs mysql, else PostgreSQL's 5432. */
struct app_def {
        const char *name;
        const char *route;          /* the site's route name: cloud.<domain> */
        const char *data_disk;      /* the profile disk whose mount is its data; NULL = appdata/<name> */
        const char *data_container; /* OCI: where the image keeps its state */
        const char *health_path;    /* on the first port */
        uint16_t container_port;    /* OCI: the image's port behind the profile's first one; 0 = same */
        const char *db_env, *admin_env, *redis_env; /* OCI: secret as this variable, else a file */
        const char *const *env;
        /* A value that must hold the database password (the image reads no *_FILE for it): the
         * template (facts as for env, plus {password} / {password_url}) is composed at first boot
         * into a podman secret delivered as composed_env (OCI), or into the root-only composed_file
         * (apt: the package's own configuration file). */
        const char *composed, *composed_env, *composed_file;
        /* OCI, freeipa-container's needs (its README): the host's FQDN as the container's hostname
         * (-h; never ipa-server-install --hostname), a read-only root (--read-only), its own DNS
         * server as resolver (--dns=127.0.0.1 with --setup-dns), and IPA_SERVER_IP so it keeps this
         * host's address in its DNS, not the container network's. */
        bool freeipa;
};

static const char *const nextcloud_env[] = {
        "POSTGRES_HOST={db_host}", "POSTGRES_DB={db_name}", "POSTGRES_USER={db_user}",
        "?db:POSTGRES_PASSWORD_FILE=/run/secrets/db-password", "REDIS_HOST={redis_host}",
        "NEXTCLOUD_TRUSTED_DOMAINS={fqdn}", "OVERWRITEHOST={fqdn}", "OVERWRITEPROTOCOL=https",
        "OVERWRITECLIURL={url}", "SMTP_HOST={smtp_host}", "SMTP_PORT=25", "MAIL_DOMAIN={domain}",
        "?admin:NEXTCLOUD_ADMIN_USER=admin", "?admin:NEXTCLOUD_ADMIN_PASSWORD_FILE=/run/secrets/admin-password", NULL,
};
static const char *const mattermost_env[] = {
        "MM_SQLSETTINGS_DRIVERNAME=postgres", "MM_SERVICESETTINGS_SITEURL={url}",
        "MM_EMAILSETTINGS_SMTPSERVER={smtp_host}", "MM_EMAILSETTINGS_SMTPPORT=25",
        "MM_FILESETTINGS_DIRECTORY={data}/", NULL,
};
static const char *const keycloak_env[] = {
        "KC_DB=postgres", "KC_DB_URL=jdbc:postgresql://{db_host}:5432/{db_name}", "KC_DB_USERNAME={db_user}",
        "KC_HOSTNAME={fqdn}", "KC_HEALTH_ENABLED=true", "KC_PROXY_HEADERS=xforwarded", "?admin:KEYCLOAK_ADMIN=admin",
        NULL,
};
static const char *const taiga_env[] = {
        "POSTGRES_HOST={db_host}", "POSTGRES_DB={db_name}", "POSTGRES_USER={db_user}", "TAIGA_SITES_DOMAIN={fqdn}",
        "TAIGA_SITES_SCHEME=https", "EMAIL_HOST={smtp_host}", "EMAIL_PORT=25", NULL,
};
static const char *const grafana_env[] = {
        "GF_SERVER_ROOT_URL={url}", "GF_SERVER_HTTP_PORT=3001", "GF_DATABASE_TYPE=postgres",
        "GF_DATABASE_HOST={db_host}:5432", "GF_DATABASE_NAME={db_name}", "GF_DATABASE_USER={db_user}",
        "?db:GF_DATABASE_PASSWORD__FILE={credentials}/db-password", "GF_SMTP_ENABLED=true",
        "GF_SMTP_HOST={smtp_host}:25", NULL,
};
/* Odoo reads no environment and has no password file: its configuration file holds the password,
 * so the whole file is the secret (root and the odoo group only). */
static const char odoo_conf[] = "; Written by rackstack-firstboot from the site and the answers; rewritten on a rerun.\n"
                                "; It holds the database password: root and the odoo group only.\n"
                                "[options]\n"
                                "db_host = {db_host}\n"
                                "db_port = 5432\n"
                                "db_user = {db_user}\n"
                                "db_password = {password}\n"
                                "db_name = {db_name}\n"
                                "dbfilter = ^{db_name}$\n"
                                "list_db = False\n"
                                "data_dir = {data}\n"
                                "proxy_mode = True\n"
                                "smtp_server = {smtp_host}\n"
                                "smtp_port = 25\n";
/* The MySQL/MariaDB-only ones, on the db host's MariaDB (need "mysql"). */
static const char *const suitecrm_env[] = {
        "SUITECRM_DATABASE_HOST={db_host}", "SUITECRM_DATABASE_PORT_NUMBER={db_port}", "SUITECRM_DATABASE_NAME={db_name}",
        "SUITECRM_DATABASE_USER={db_user}", "?db:SUITECRM_DATABASE_PASSWORD_FILE=/run/secrets/db-password",
        "SUITECRM_HOST={fqdn}", "SUITECRM_SMTP_HOST={smtp_host}", "SUITECRM_SMTP_PORT_NUMBER=25", NULL,
};
static const char *const snipeit_env[] = {
        "APP_URL={url}", "DB_CONNECTION=mysql", "DB_HOST={db_host}", "DB_PORT={db_port}", "DB_DATABASE={db_name}",
        "DB_USERNAME={db_user}", "MAIL_HOST={smtp_host}", "MAIL_PORT=25", NULL,
};
static const char *const graylog_env[] = { "GRAYLOG_HTTP_EXTERNAL_URI=http://{fqdn}:9000/", NULL };

static const struct app_def apps[] = {
        { "nextcloud", "cloud", "nextcloud", "/var/www/html", "/status.php", 0, NULL, NULL, "REDIS_HOST_PASSWORD",
          nextcloud_env },
        { "mattermost", "chat", NULL, "/mattermost/data", "/api/v4/system/ping", 0, NULL, NULL, NULL, mattermost_env,
          "postgres://{db_user}:{password_url}@{db_host}:5432/{db_name}?sslmode=disable&connect_timeout=10",
          "MM_SQLSETTINGS_DATASOURCE", NULL },
        { "keycloak", "sso", NULL, "/opt/keycloak/data", "/health/ready", 0, "KC_DB_PASSWORD", "KEYCLOAK_ADMIN_PASSWORD",
          NULL, keycloak_env },
        /* its data on the id role's data disk (the partition mounted at /var/lib/dirsrv) */
        { "freeipa-server", "ipa", "dirsrv", "/data", NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true },
        { "traefik", NULL, NULL, "/data", "/ping", 0, NULL, NULL, NULL, NULL },
        { "graylog", NULL, NULL, "/usr/share/graylog/data", "/api/system/lbstatus", 0, NULL, NULL, NULL, graylog_env },
        { "suitecrm", "crm", NULL, "/bitnami/suitecrm", NULL, 8080, NULL, NULL, NULL, suitecrm_env },
        { "openkm", "docs", NULL, "/opt/tomcat/repository", NULL, 8080, NULL, NULL, NULL, NULL },
        { "taiga", "projects", NULL, "/taiga-back/media", NULL, 8000, "POSTGRES_PASSWORD", NULL, NULL, taiga_env },
        { "snipe-it", "assets", NULL, "/var/lib/snipeit", NULL, 80, "DB_PASSWORD", NULL, NULL, snipeit_env },
        { "glpi", "itsm", NULL, "/var/www/html/glpi/files", NULL, 80, NULL, NULL, NULL, NULL },
        { "freepbx", "voip", NULL, "/data", NULL, 0, NULL, NULL, NULL, NULL },
        { "grafana", "monitor", NULL, NULL, "/api/health", 0, NULL, NULL, NULL, grafana_env },
        { "odoo", "erp", NULL, NULL, "/web/health", 0, NULL, NULL, NULL, NULL, odoo_conf, NULL, "/etc/odoo/odoo.conf" },
        { "zammad", "desk", NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL },
        { "jitsi-meet", "meet", NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL },
};

static const struct app_def *app_def_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(apps); i++)
                if (streq(apps[i].name, name))
                        return &apps[i];
        return NULL;
}

/* ---- the plan ---------------------------------------------------------------------------------- */

char *image_pinned(const char *image, const char *digest) {
        if (!image || !digest)
                return NULL;
        /* Drop a tag (a ':' after the last '/'; a registry's port comes before it) and any digest. */
        size_t n = strcspn(image, "@");
        const char *slash = memrchr(image, '/', n), *colon = memrchr(image, ':', n);
        if (colon && (!slash || colon > slash))
                n = (size_t) (colon - image);
        return strprintf("%.*s@%s", (int) n, image, digest);
}

static const struct vlan_spec *vlan_named(const struct site *s, const char *name) {
        for (size_t i = 0; s && i < s->n_vlans; i++)
                if (s->vlans[i].name && streq(s->vlans[i].name, name))
                        return &s->vlans[i];
        return NULL;
}

static char *addr_string(uint32_t a) {
        return a ? strprintf("%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff) : NULL;
}

/* The mount of the profile's disk called name (its first partition with one), or of a partition
 * called name on any disk (erp's appdata disk has a partition "odoo" at /var/lib/odoo). */
static const char *disk_mount(const struct profile *p, const char *name) {
        for (size_t i = 0; name && i < p->n_disks; i++)
                for (size_t j = 0; j < p->disks[i].n_parts; j++)
                        if (p->disks[i].parts[j].mount &&
                            (streq(p->disks[i].name, name) || streq(strempty(p->disks[i].parts[j].name), name)))
                                return p->disks[i].parts[j].mount;
        return NULL;
}

static char *data_dir(const struct profile *p, const struct app_def *def, const char *name) {
        const char *m = disk_mount(p, def && def->data_disk ? def->data_disk : name);
        if (m)
                return strdup(m);
        if ((m = disk_mount(p, "appdata")))
                return strprintf("%s/%s", m, name);
        return strprintf("/var/lib/rackstack/apps/%s", name);
}

char *app_data_host(const struct profile *p, const char *name) {
        return data_dir(p, app_def_find(name), name);
}

struct facts {
        const char *fqdn, *url, *domain, *db_host, *db_port, *db_name, *redis_host, *smtp_host, *data, *credentials;
};

/* false when a token had no value (no site, no such host) */
static bool expand(struct buf *b, const char *t, const struct facts *f) {
        bool all = true;
        while (*t) {
                const char *open = strchr(t, '{');
                const char *close = open ? strchr(open, '}') : NULL;
                if (!close) {
                        buf_puts(b, t);
                        return all;
                }
                buf_put(b, t, (size_t) (open - t));
                size_t n = (size_t) (close - open - 1);
                const struct { const char *name, *value; } tokens[] = {
                        { "fqdn", f->fqdn },           { "url", f->url },
                        { "domain", f->domain },       { "db_host", f->db_host },
                        { "db_port", f->db_host ? f->db_port : NULL },
                        { "db_name", f->db_name },     { "db_user", f->db_name },
                        { "redis_host", f->redis_host }, { "smtp_host", f->smtp_host },
                        { "data", f->data },           { "credentials", f->credentials },
                };
                size_t k = 0;
                while (k < ELEMENTSOF(tokens) && !(strlen(tokens[k].name) == n && strncmp(open + 1, tokens[k].name, n) == 0))
                        k++;
                if (k == ELEMENTSOF(tokens))
                        buf_put(b, open, n + 2);
                else {
                        all = all && tokens[k].value;
                        buf_puts(b, strempty(tokens[k].value));
                }
                t = close + 1;
        }
        return all;
}

static int add_secret(struct app_plan *p, const char *credential, const char *kind, const char *env) {
        struct app_secret *n = realloc(p->secrets, (p->n_secrets + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->secrets = n;
        struct app_secret *s = &n[p->n_secrets];
        *s = (struct app_secret) {
                .credential = strdup(credential),
                .podman = strprintf("rackstack-%s-%s", p->name, kind),
                .target = strprintf("%s-password", kind),
                .env = env ? strdup(env) : NULL,
        };
        p->n_secrets++;
        return s->credential && s->podman && s->target && (!env || s->env) ? 0 : -ENOMEM;
}

void app_plan_done(struct app_plan *p) {
        free(p->name);
        free(p->unit);
        free(p->description);
        free(p->image);
        free(p->ports);
        free(p->data_host);
        free(p->data_container);
        free(p->env_file);
        free(p->env);
        for (size_t i = 0; i < p->n_secrets; i++) {
                free(p->secrets[i].credential);
                free(p->secrets[i].podman);
                free(p->secrets[i].target);
                free(p->secrets[i].env);
                free(p->secrets[i].compose);
                free(p->secrets[i].file);
        }
        free(p->secrets);
        free(p->health_path);
        free(p->fqdn);
        free(p->hostname);
        free(p->server_ip);
        *p = (struct app_plan) {};
}

/* The composed secret's template with the facts in (the password tokens stay for first boot); none
 * when a fact it needs is missing: no DSN without a database host. */
static int add_composed(struct app_plan *p, const struct app_def *def, const char *credential, const struct facts *f) {
        struct buf b = {};
        bool all = expand(&b, def->composed, f);
        buf_putc(&b, 0);
        _cleanup_free_ char *t = buf_steal(&b);
        if (!t)
                return -ENOMEM;
        if (!all)
                return 0;
        int r = add_secret(p, credential, def->composed_env ? "dsn" : "config",
                           p->source == SERVICE_SOURCE_OCI ? def->composed_env : NULL);
        if (r < 0)
                return r;
        struct app_secret *s = &p->secrets[p->n_secrets - 1];
        s->compose = TAKE_PTR(t);
        if (p->source != SERVICE_SOURCE_OCI && def->composed_file && !(s->file = strdup(def->composed_file)))
                return -ENOMEM;
        return 0;
}

/* Name, unit, image by digest, ports, data directory, memory share, health check. */
static int plan_base(const struct app_inputs *in, const struct app_def *def, struct app_plan *p, char **ret_why) {
        const struct service_spec *s = in->service;
        *p = (struct app_plan) {
                .name = strdup(s->name),
                .unit = s->unit ? strdup(s->unit) : strprintf("%s.service", s->name),
                .description = strdup(s->description ? s->description : s->name),
                .source = s->source,
                .quadlet = in->have_quadlet,
                .data_host = data_dir(in->profile, def, s->name),
                .data_container = def && def->data_container ? strdup(def->data_container) : strprintf("/data"),
                .env_file = strprintf("/" APPS_ETC "/%s.env", s->name),
                .memory_max = s->memory + in->ram / 100 * s->memory_percent,
                .health_path = def && def->health_path ? strdup(def->health_path) : NULL,
        };
        if (!p->name || !p->unit || !p->description || !p->data_host || !p->data_container || !p->env_file ||
            (def && def->health_path && !p->health_path))
                return -ENOMEM;
        if (s->source == SERVICE_SOURCE_OCI) {
                if (!in->vendor || !in->vendor->digest) {
                        *ret_why = strprintf("%s: no digest for its image in vendor.json", s->name);
                        return -EINVAL;
                }
                if (!(p->image = image_pinned(in->vendor->image ? in->vendor->image : s->image, in->vendor->digest)))
                        return -ENOMEM;
        }
        if (s->n_ports) {
                if (!(p->ports = calloc(s->n_ports, sizeof *p->ports)))
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_ports; i++)
                        p->ports[p->n_ports++] = (struct app_port) {
                                s->ports[i], i == 0 && def && def->container_port ? def->container_port : s->ports[i]
                        };
                p->health_port = s->ports[0];
        }
        return 0;
}

/* The facts' strings, owned here; struct facts points into them. */
struct fact_strings {
        char *db_host, *smtp_host, *url, *db_name, *credentials;
};

static void fact_strings_done(struct fact_strings *fs) {
        free(fs->db_host);
        free(fs->smtp_host);
        free(fs->url);
        free(fs->db_name);
        free(fs->credentials);
}

/* From the site: the db host's database-VLAN address, the comm host's on the default VLAN, the
 * FQDN and URL of its route. */
static int plan_facts(const struct app_inputs *in, const struct app_def *def, struct app_plan *p,
                      struct fact_strings *fs, struct facts *ret) {
        const struct site *site = in->site;
        if (!(fs->db_name = strdup(p->name)) || !(fs->credentials = strprintf("/run/credentials/%s", p->unit)))
                return -ENOMEM;
        for (char *c = fs->db_name; *c; c++)
                if (*c == '-')
                        *c = '_'; /* a PostgreSQL identifier without quoting */
        const struct vlan_spec *dbv = vlan_named(site, "database");
        const struct host_spec *db = site ? site_find_host_by_role(site, "db") : NULL,
                               *comm = site ? site_find_host_by_role(site, "comm") : NULL;
        if (dbv && db && !(fs->db_host = addr_string(host_address_on(db, dbv->id))) && host_address_on(db, dbv->id))
                return -ENOMEM;
        if (comm && site->default_vlan && !(fs->smtp_host = addr_string(host_address_on(comm, site->default_vlan))) &&
            host_address_on(comm, site->default_vlan))
                return -ENOMEM;
        const char *route = def ? def->route : NULL;
        for (size_t i = 0; route && site && site->domain && i < site->n_routes; i++)
                if (streq(site->routes[i].name, route)) {
                        free(p->fqdn);
                        free(fs->url);
                        p->fqdn = strprintf("%s.%s", route, site->domain);
                        fs->url = strprintf("https://%s.%s", route, site->domain);
                        if (!p->fqdn || !fs->url)
                                return -ENOMEM;
                }
        if (def && def->freeipa && p->source == SERVICE_SOURCE_OCI) {
                p->read_only = true;
                /* Unconfigured until join/identity gives it its install options: the services
                 * step starts it but cannot check it; join/identity waits for it. */
                p->health_port = 0;
                if (in->host && site && site->domain &&
                    !(p->hostname = strprintf("%s.%s", in->host->name, site->domain)))
                        return -ENOMEM;
                uint32_t a = in->host && site ? host_address_on(in->host, site->default_vlan) : 0;
                if (a && !(p->server_ip = addr_string(a)))
                        return -ENOMEM;
        }
        *ret = (struct facts) {
                .fqdn = p->fqdn, .url = fs->url, .domain = site ? site->domain : NULL, .db_host = fs->db_host,
                .db_port = in->service->needs && strv_contains(in->service->needs, "mysql") ? "3306" : "5432",
                .db_name = fs->db_name, .redis_host = fs->db_host, .smtp_host = fs->smtp_host,
                .data = p->source == SERVICE_SOURCE_OCI ? p->data_container : p->data_host,
                .credentials = fs->credentials,
        };
        return 0;
}

/* The secrets present for it: db.<svc>, admin.<svc>, redis.<svc> or redis (INTERFACES.md). */
static int plan_secrets(const struct app_inputs *in, const struct app_def *def, struct app_plan *p,
                        const struct facts *f, bool *ret_db, bool *ret_admin) {
        const char *name = in->service->name;
        _cleanup_free_ char *cdb = strprintf("db.%s", name), *cadmin = strprintf("admin.%s", name),
                            *credis = strprintf("redis.%s", name);
        if (!cdb || !cadmin || !credis)
                return -ENOMEM;
        bool oci = p->source == SERVICE_SOURCE_OCI;
        bool have_db = strv_contains(in->credentials, cdb), have_admin = strv_contains(in->credentials, cadmin);
        const char *redis_cred = strv_contains(in->credentials, credis) ? credis :
                                 strv_contains(in->credentials, "redis") ? "redis" : NULL;
        int r = 0;
        if ((have_db && (r = add_secret(p, cdb, "db", oci && def ? def->db_env : NULL)) < 0) ||
            (have_admin && (r = add_secret(p, cadmin, "admin", oci && def ? def->admin_env : NULL)) < 0) ||
            (redis_cred && (r = add_secret(p, redis_cred, "redis", oci && def ? def->redis_env : NULL)) < 0) ||
            (have_db && def && def->composed && (r = add_composed(p, def, cdb, f)) < 0))
                return r;
        *ret_db = have_db;
        *ret_admin = have_admin;
        return 0;
}

/* The environment file: ours for everyone, the image's own names where known. No secret in it. */
static char *plan_env(const struct app_def *def, const struct app_plan *p, const struct facts *f, bool have_db,
                      bool have_admin) {
        bool oci = p->source == SERVICE_SOURCE_OCI;
        struct buf b = {};
        buf_printf(&b, "# Written by rackstack-firstboot from the site and the answers; rewritten on a rerun.\n"
                       "# No secret is in this file: they are %s.\n",
                   oci ? "podman secrets (/run/secrets/*-password)" : "systemd credentials ($CREDENTIALS_DIRECTORY)");
        buf_printf(&b, "RACKSTACK_SERVICE=%s\n", p->name);
        if (f->domain)
                buf_printf(&b, "RACKSTACK_DOMAIN=%s\n", f->domain);
        if (p->fqdn)
                buf_printf(&b, "RACKSTACK_FQDN=%s\nRACKSTACK_URL=%s\n", p->fqdn, f->url);
        if (f->db_host)
                buf_printf(&b, "RACKSTACK_DB_TYPE=%s\nRACKSTACK_DB_HOST=%s\nRACKSTACK_DB_PORT=%s\nRACKSTACK_DB_NAME=%s\n"
                               "RACKSTACK_DB_USER=%s\nRACKSTACK_REDIS_HOST=%s\nRACKSTACK_REDIS_PORT=6379\n",
                           streq(f->db_port, "3306") ? "mysql" : "postgresql", f->db_host, f->db_port, f->db_name,
                           f->db_name, f->db_host);
        if (f->smtp_host)
                buf_printf(&b, "RACKSTACK_SMTP_HOST=%s\nRACKSTACK_SMTP_PORT=25\n", f->smtp_host);
        buf_printf(&b, "RACKSTACK_DATA_DIR=%s\n", f->data);
        if (p->server_ip)
                buf_printf(&b, "IPA_SERVER_IP=%s\n", p->server_ip);
        for (size_t i = 0; i < p->n_secrets; i++)
                if (!p->secrets[i].env && !p->secrets[i].compose)
                        buf_printf(&b, "RACKSTACK_%s_PASSWORD_FILE=%s/%s\n",
                                   streq(p->secrets[i].target, "db-password") ? "DB" :
                                   streq(p->secrets[i].target, "admin-password") ? "ADMIN" : "REDIS",
                                   oci ? "/run/secrets" : f->credentials, p->secrets[i].target);
        for (const char *const *t = def ? def->env : NULL; t && *t; t++) {
                const char *line = *t;
                if (startswith(line, "?db:")) {
                        if (!have_db)
                                continue;
                        line += 4;
                } else if (startswith(line, "?admin:")) {
                        if (!have_admin)
                                continue;
                        line += 7;
                }
                /* A variable whose value would be empty (no site, no such host) is left out rather
                 * than set to nothing: the image's default is better than "". */
                struct buf one = {};
                bool all = expand(&one, line, f);
                buf_putc(&one, 0);
                _cleanup_free_ char *l = buf_steal(&one);
                if (!l) {
                        buf_done(&b);
                        return NULL;
                }
                if (all)
                        buf_printf(&b, "%s\n", l);
        }
        buf_putc(&b, 0);
        return buf_steal(&b);
}

int app_plan_make(const struct app_inputs *in, struct app_plan *ret, char **ret_why) {
        const struct app_def *def = app_def_find(in->service->name);
        _cleanup_(app_plan_done) struct app_plan p = {};
        _cleanup_(fact_strings_done) struct fact_strings fs = {};
        struct facts f;
        bool have_db = false, have_admin = false;
        int r;
        if ((r = plan_base(in, def, &p, ret_why)) < 0 || (r = plan_facts(in, def, &p, &fs, &f)) < 0 ||
            (r = plan_secrets(in, def, &p, &f, &have_db, &have_admin)) < 0)
                return r;
        if (!(p.env = plan_env(def, &p, &f, have_db, have_admin)))
                return -ENOMEM;
        *ret = p;
        p = (struct app_plan) {};
        return 0;
}

int app_secret_compose(const char *tmpl, const char *password, size_t len, char **ret) {
        if (len && password[len - 1] == '\n')
                len--;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) password[i] < 0x20 || password[i] == 0x7f)
                        return -EINVAL;
        struct buf b = {};
        for (const char *t = tmpl; *t;) {
                bool url = startswith(t, "{password_url}");
                if (url || startswith(t, "{password}")) {
                        for (size_t i = 0; i < len; i++) {
                                unsigned char ch = (unsigned char) password[i];
                                if (!url || isalnum(ch) || strchr("-._~", ch))
                                        buf_putc(&b, (char) ch);
                                else
                                        buf_printf(&b, "%%%02X", ch);
                        }
                        t += url ? strlen("{password_url}") : strlen("{password}");
                } else
                        buf_putc(&b, *t++);
        }
        buf_putc(&b, 0);
        /* buf_steal hands over the buffer the password went into; the caller cleanses it. */
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- rendering --------------------------------------------------------------------------------- */

static void unit_head(struct buf *b, const struct app_plan *p, const char *what) {
        buf_printf(b,
                   "# Written by rackstack-firstboot (%s); rewritten on a rerun. Secrets are podman secrets,\n"
                   "# never in this file.\n"
                   "[Unit]\n"
                   "Description=%s\n"
                   "Wants=network-online.target\n"
                   "After=network-online.target\n"
                   "RequiresMountsFor=%s\n",
                   what, p->description, p->data_host);
}

static void service_tail(struct buf *b, const struct app_plan *p) {
        /* A first start may initialise a database: minutes, not the default 90 s. */
        buf_puts(b, "Restart=always\nRestartSec=5\nTimeoutStartSec=900\n");
        if (p->memory_max)
                buf_printf(b, "MemoryMax=%" PRIu64 "\n", p->memory_max);
}

/* FreeIPA's ports that are UDP as well (DNS, Kerberos, kpasswd: its README's -p list). */
static bool udp_too(uint16_t port) {
        return port == 53 || port == 88 || port == 464;
}

char *app_quadlet_render(const struct app_plan *p) {
        struct buf b = {};
        unit_head(&b, p, "Quadlet");
        buf_printf(&b, "\n[Container]\nContainerName=%s\nImage=%s\n", p->name, p->image);
        if (p->hostname)
                buf_printf(&b, "HostName=%s\n", p->hostname);
        if (p->read_only)
                buf_puts(&b, "ReadOnly=true\nDNS=127.0.0.1\n");
        /* AddHost= is newer than Ubuntu 24.04's podman 4.9 Quadlet; PodmanArgs= is there */
        if (p->hostname && p->server_ip)
                buf_printf(&b, "PodmanArgs=--add-host=%s:%s\n", p->hostname, p->server_ip);
        for (size_t i = 0; p->read_only && i < p->n_ports; i++)
                if (udp_too(p->ports[i].host))
                        buf_printf(&b, "PublishPort=%u:%u/udp\n", p->ports[i].host, p->ports[i].container);
        for (size_t i = 0; i < p->n_ports; i++)
                buf_printf(&b, "PublishPort=%u:%u\n", p->ports[i].host, p->ports[i].container);
        buf_printf(&b, "Volume=%s:%s\n", p->data_host, p->data_container);
        buf_printf(&b, "EnvironmentFile=%s\n", p->env_file);
        for (size_t i = 0; i < p->n_secrets; i++)
                buf_printf(&b, "Secret=%s,type=%s,target=%s\n", p->secrets[i].podman, p->secrets[i].env ? "env" : "mount",
                           p->secrets[i].env ? p->secrets[i].env : p->secrets[i].target);
        buf_puts(&b, "\n[Service]\n");
        service_tail(&b, p);
        buf_puts(&b, "\n[Install]\nWantedBy=multi-user.target\n");
        return buf_steal(&b);
}

char *app_podman_unit_render(const struct app_plan *p) {
        struct buf b = {};
        unit_head(&b, p, "podman run: this podman has no Quadlet");
        /* What Quadlet itself generates, by hand: podman notifies once the container runs, the
         * container lives in the unit's cgroup (--cgroups=split, Delegate=yes), so MemoryMax holds
         * it, and stopping the unit removes it. */
        buf_puts(&b, "\n[Service]\n"
                     "Environment=PODMAN_SYSTEMD_UNIT=%n\n"
                     "Type=notify\n"
                     "NotifyAccess=all\n"
                     "Delegate=yes\n"
                     "KillMode=mixed\n"
                     "SyslogIdentifier=%N\n");
        service_tail(&b, p);
        buf_printf(&b,
                   "ExecStart=/usr/bin/podman run --name=%s --cidfile=%%t/%%N.cid --replace --rm --cgroups=split "
                   "--sdnotify=conmon -d --pull=never --env-file=%s",
                   p->name, p->env_file);
        if (p->hostname)
                buf_printf(&b, " --hostname=%s", p->hostname);
        if (p->read_only)
                buf_puts(&b, " --read-only --dns=127.0.0.1");
        if (p->hostname && p->server_ip)
                buf_printf(&b, " --add-host=%s:%s", p->hostname, p->server_ip);
        for (size_t i = 0; p->read_only && i < p->n_ports; i++)
                if (udp_too(p->ports[i].host))
                        buf_printf(&b, " --publish %u:%u/udp", p->ports[i].host, p->ports[i].container);
        for (size_t i = 0; i < p->n_ports; i++)
                buf_printf(&b, " --publish %u:%u", p->ports[i].host, p->ports[i].container);
        buf_printf(&b, " --volume %s:%s", p->data_host, p->data_container);
        for (size_t i = 0; i < p->n_secrets; i++)
                buf_printf(&b, " --secret %s,type=%s,target=%s", p->secrets[i].podman, p->secrets[i].env ? "env" : "mount",
                           p->secrets[i].env ? p->secrets[i].env : p->secrets[i].target);
        buf_printf(&b, " %s\n", p->image);
        buf_puts(&b, "ExecStop=/usr/bin/podman rm -f -i --cidfile=%t/%N.cid\n"
                     "ExecStopPost=-/usr/bin/podman rm -f -i --cidfile=%t/%N.cid\n"
                     "\n[Install]\nWantedBy=multi-user.target\n");
        return buf_steal(&b);
}

char *app_dropin_render(const struct app_plan *p) {
        struct buf b = {};
        buf_printf(&b,
                   "# Written by rackstack-firstboot; rewritten on a rerun. Secrets are systemd credentials\n"
                   "# (a path here, the value only in $CREDENTIALS_DIRECTORY).\n"
                   "[Unit]\nRequiresMountsFor=%s\n\n[Service]\nEnvironmentFile=%s\n",
                   p->data_host, p->env_file);
        for (size_t i = 0; i < p->n_secrets; i++)
                if (!p->secrets[i].file)
                        buf_printf(&b, "LoadCredential=%s:" APP_CREDSTORE "/%s\n", p->secrets[i].target,
                                   p->secrets[i].credential);
        if (p->memory_max)
                buf_printf(&b, "MemoryMax=%" PRIu64 "\n", p->memory_max);
        return buf_steal(&b);
}
