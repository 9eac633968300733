/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Vendor applications (issue 13): what the image holds (vendor.json, written by the builder), and
 * how one of them is configured and run, planned as pure data from the profile, the site, this
 * host and the credentials present, then rendered to files. services-vendor.c applies the plan. */

#define VENDOR_JSON "usr/share/rackstack/vendor.json"
#define CREDENTIALS_DIR "/run/credentials/rackstack"
/* Where an apt service's secrets stay for its LoadCredential=: CREDENTIALS_DIR is a tmpfs the join
 * empties after success, and a unit whose credential file is gone fails to start after a reboot.
 * Root-only (0700 directory, 0600 files), as systemd's own /etc/credstore. */
#define APP_CREDSTORE "/etc/rackstack/credstore"
#define APPS_ETC "etc/rackstack/apps"

/* ---- vendor.json ------------------------------------------------------------------------------- */

/* common/vendor.h's enum vendor_state as the builder writes it ("in-image", "deferred",
 * "not-for-base"); this is the reading side. */
enum vj_state { VJ_IN_IMAGE, VJ_DEFERRED, VJ_NOT_FOR_BASE };

struct vj_entry {
        char *name;
        enum service_source source; /* APT or OCI */
        char *image;                /* OCI: "docker.io/library/nextcloud:28-fpm" */
        char *digest;               /* OCI: "sha256:<64hex>" */
        char *repo;                 /* APT: the source line */
        char *key_fingerprint;      /* APT: 40 hex */
        enum vj_state state;
};

struct vendor_json {
        struct vj_entry *entries;
        size_t n;
};

/* Parse vendor.json's text. -EBADMSG (with *ret_why saying what) for anything not as INTERFACES.md
 * describes: a digest that is not sha256:<64 hex> is refused here, so no unpinned image runs. */
int vendor_json_parse(const char *text, size_t size, struct vendor_json *ret, char **ret_why);
void vendor_json_done(struct vendor_json *m);
const struct vj_entry *vendor_json_find(const struct vendor_json *m, const char *name);

/* ---- one application's plan -------------------------------------------------------------------- */

/* A secret the application gets: the credential file's content, as a podman secret (OCI) or a
 * systemd credential (apt). The value never appears in any file this plan renders. */
struct app_secret {
        char *credential; /* file name in CREDENTIALS_DIR: "db.nextcloud" */
        char *podman;     /* podman secret name: "rackstack-nextcloud-db" */
        char *target;     /* mount: file name under /run/secrets (OCI) or credential name (apt) */
        char *env;        /* non-NULL: OCI only, delivered as this environment variable instead */
        char *compose;    /* non-NULL: the value is this template with the credential put in
                           * ({password}, {password_url}; app_secret_compose), e.g. a whole DSN */
        char *file;       /* apt, with compose: written to this root-only file (the package's config) */
};

struct app_port {
        uint16_t host, container;
};

struct app_plan {
        char *name;         /* "nextcloud" */
        char *unit;         /* "nextcloud.service" */
        char *description;
        enum service_source source;
        bool quadlet;       /* OCI: a Quadlet .container (podman >= 4.4) rather than a podman run unit */
        char *image;        /* OCI: "docker.io/library/nextcloud@sha256:..." */
        struct app_port *ports;
        size_t n_ports;
        char *data_host;      /* on the role's data disk: "/srv/nextcloud" */
        char *data_container; /* OCI: where the image keeps its data: "/var/www/html" */
        char *env_file;       /* "/etc/rackstack/apps/nextcloud.env" */
        char *env;            /* its content: no secret in it */
        struct app_secret *secrets;
        size_t n_secrets;
        uint64_t memory_max;  /* the profile's share; 0 = no limit */
        char *health_path;    /* "/status.php"; NULL = a TCP connect is the check */
        uint16_t health_port; /* the host port the check goes to; 0 = none (e.g. FastCGI only) */
        char *fqdn;           /* "cloud.domain.com", NULL when the site has no route for it */
        /* OCI, FreeIPA's container only (freeipa-container's README): */
        char *hostname;       /* the container's hostname: this host's FQDN (podman -h) */
        bool read_only;       /* --read-only, and --dns=127.0.0.1 (its own DNS server) */
        char *server_ip;      /* IPA_SERVER_IP: this host's default-VLAN address for its own A record */
};

struct app_inputs {
        const struct profile *profile;
        const struct site *site;       /* may be NULL: no addresses, no domain */
        const struct host_spec *host;  /* may be NULL */
        const struct service_spec *service;
        const struct vj_entry *vendor; /* OCI: image and digest */
        uint64_t ram;
        bool have_quadlet;
        char **credentials; /* the file names present in CREDENTIALS_DIR */
};

/* -EINVAL (ret_why says why) for an OCI service without a digest. */
int app_plan_make(const struct app_inputs *in, struct app_plan *ret, char **ret_why);
void app_plan_done(struct app_plan *p);

/* Where the service's data lives on the host (its volume's source): the profile disk or partition
 * named for it, else appdata/<name>, else /var/lib/rackstack/apps/<name>. */
char *app_data_host(const struct profile *p, const char *name);

/* "docker.io/library/nextcloud@sha256:…": the tag dropped, the digest is what runs. */
char *image_pinned(const char *image, const char *digest);

/* A composed secret's value: tmpl with {password} (the credential, one trailing newline dropped)
 * and {password_url} (percent-encoded for a URL's userinfo) put in. -EINVAL for a password with a
 * control character (it would break the line it goes in); the caller cleanses *ret. */
int app_secret_compose(const char *tmpl, const char *password, size_t len, char **ret);

/* The Quadlet /etc/containers/systemd/<name>.container. */
char *app_quadlet_render(const struct app_plan *p);
/* /etc/systemd/system/<name>.service running podman run (podman 4.3, no Quadlet). */
char *app_podman_unit_render(const struct app_plan *p);
/* A drop-in for an apt service's own unit: EnvironmentFile, LoadCredential, MemoryMax. */
char *app_dropin_render(const struct app_plan *p);

/* ---- Roundcube on comm: nginx + PHP-FPM (render-roundcube.c) ------------------------------------- */

#define ROUNDCUBE_SITE "etc/nginx/sites-available/rackstack-roundcube"
#define ROUNDCUBE_SITE_LINK "etc/nginx/sites-enabled/rackstack-roundcube"
#define ROUNDCUBE_DOCROOT "/var/lib/roundcube/public_html"

/* The PHP version whose FPM the image has: the highest <root>/etc/php/VERSION/fpm/php-fpm.conf
 * ("8.3" on Ubuntu 24.04, "8.2" on Debian 12). -ENOENT when there is none. */
int php_fpm_version(int root_fd, char **ret);
/* nginx's server for Roundcube (the distribution's package, /var/lib/roundcube/public_html) on
 * port 80 as the default server, PHP through FPM's socket /run/php/phpVERSION-fpm.sock; the
 * directories Roundcube keeps out of the web (config, temp, logs) and dot files denied. */
char *roundcube_nginx_render(const char *php_version);
/* Is body Roundcube's login page (its form with the user and password fields), not nginx's
 * welcome page, a PHP error or PHP source served as text? */
bool roundcube_login_page(const char *body);

#define ROUNDCUBE_DBCONFIG "etc/dbconfig-common/roundcube.conf"
#define ROUNDCUBE_SQLITE_DIR "/var/lib/dbconfig-common/sqlite3/roundcube"
/* dbconfig-common's record for Roundcube (ROUNDCUBE_DBCONFIG's text) turned to SQLite: dbc_dbtype
 * 'sqlite3' and dbc_basepath ROUNDCUBE_SQLITE_DIR, every other line kept. *ret is NULL when it says
 * SQLite already; -EBADMSG when it has no dbc_dbtype line. */
int roundcube_dbconfig_sqlite(const char *conf, char **ret);

/* ---- MariaDB on the db host, for the consumers that support only MySQL/MariaDB (render-mariadb.c) -- */

#define MARIADB_CNF "etc/mysql/mariadb.conf.d/60-rackstack.cnf"
#define MARIADB_PORT 3306
#define REDIS_PORT 6379
struct db_wiring;

/* The server's drop-in: bound to listen ("127.0.0.1" or "127.0.0.1,10.0.40.12"), no name resolution
 * (accounts are by address), InnoDB's buffer pool from the profile's memory share (0: the default). */
char *mariadb_cnf_render(const char *listen, uint64_t buffer_pool);
/* Rules added to the host firewall's input chain: MariaDB's port from each MariaDB consumer's
 * address only, Redis's from each Redis consumer's (a Redis ACL user is only a password, so the port
 * is not the role's for everyone either). "" when there are none. */
char *db_consumers_nft_render(const struct db_wiring *p);
