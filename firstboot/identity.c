/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "cmd.h"
#include "fileio.h"
#include "identity.h"
#include "journal.h"
#include "json.h"
#include "parse.h"
#include "util.h"
#include "yaml-tree.h"

/* ---- facts -------------------------------------------------------------------------------------------- */

static char *read_line_at(int dirfd, const char *path) {
        _cleanup_free_ char *data = NULL;
        if (read_file_full(dirfd, path, 4096, &data, NULL) < 0)
                return NULL;
        data[strcspn(data, "\r\n")] = 0;
        return TAKE_PTR(data);
}

static void lowercase(char *s) {
        for (; s && *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

/* Firmware that has no UUID to give fills the field with a pattern every such board shares. */
static bool uuid_placeholder(const char *u) {
        if (strlen(u) != 36)
                return true;
        if (streq(u, "03000200-0400-0500-0006-000700080009"))
                return true;
        bool zeros = true, ones = true;
        for (const char *p = u; *p; p++) {
                if (*p == '-')
                        continue;
                zeros = zeros && *p == '0';
                ones = ones && *p == 'f';
        }
        return zeros || ones;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int identity_probe(const char *sysfs, struct identity_facts *ret) {
        _cleanup_close_ int sfd = open(sysfs ? sysfs : "/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        struct identity_facts f = {};
        f.product_uuid = read_line_at(sfd, "class/dmi/id/product_uuid");
        lowercase(f.product_uuid);
        if (f.product_uuid && uuid_placeholder(f.product_uuid)) {
                free(f.product_uuid);
                f.product_uuid = NULL;
        }

        _cleanup_close_ int nfd = openat(sfd, "class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        if (nfd >= 0 && opendir_dup(nfd, &d) >= 0) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        /* physical NICs have a device; bonds, VLANs, lo and bridges do not */
                        _cleanup_free_ char *dev = strprintf("%s/device", de->d_name);
                        if (!dev || faccessat(nfd, dev, F_OK, 0) < 0)
                                continue;
                        /* a bond member shows the bond's MAC as its address; the permanent one is here */
                        _cleanup_free_ char *perm = strprintf("%s/bonding_slave/perm_hwaddr", de->d_name);
                        _cleanup_free_ char *addr = strprintf("%s/address", de->d_name);
                        char *mac = perm ? read_line_at(nfd, perm) : NULL;
                        if (!mac && addr)
                                mac = read_line_at(nfd, addr);
                        lowercase(mac);
                        if (!mac || !is_mac_address(mac) || streq(mac, "00:00:00:00:00:00") || strv_contains(f.macs, mac)) {
                                free(mac);
                                continue;
                        }
                        if (strv_push(&f.macs, mac) < 0) {
                                identity_facts_done(&f);
                                return -ENOMEM;
                        }
                }
        }
        if (f.macs)
                qsort(f.macs, strv_length(f.macs), sizeof(char *), cmp_str);
        *ret = f;
        return 0;
}

void identity_facts_done(struct identity_facts *f) {
        free(f->product_uuid);
        strv_free(f->macs);
        *f = (struct identity_facts) {};
}

/* ---- the record --------------------------------------------------------------------------------------- */

char *identity_record_render(const struct identity_record *r) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_uint(&j, "generation", r->generation);
        json_kv_string(&j, "product_uuid", r->product_uuid);
        json_key(&j, "macs");
        json_begin_array(&j);
        for (char **m = r->macs; m && *m; m++)
                json_string(&j, *m);
        json_end_array(&j);
        json_kv_string(&j, "machine_id", r->machine_id);
        json_kv_string(&j, "hostname", r->hostname);
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        return buf_steal(&j.out);
}

/* JSON is YAML: the located YAML reader parses what identity_record_render() wrote. */
static char *scalar_or_null(const struct ynode *map, const char *key) {
        const struct ynode *n = ynode_get(map, key);
        if (!n || n->type != YNODE_SCALAR || (!n->quoted && streq(n->scalar, "null")))
                return NULL;
        return strdup(n->scalar);
}

int identity_record_parse(const char *data, size_t n, struct identity_record *ret) {
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ynode_freep) struct ynode *t = NULL;
        int r = yaml_load_buffer(IDENTITY_PATH, data, n, &d, &t);
        if (r < 0)
                return -EBADMSG;
        if (t->type != YNODE_MAP)
                return -EBADMSG;
        struct identity_record rec = {};
        const char *g = ynode_get_scalar(t, "generation");
        uint32_t gen = 1;
        if (g && parse_uint32_range(g, 1, UINT32_MAX, &gen) < 0)
                return -EBADMSG;
        rec.generation = gen;
        rec.product_uuid = scalar_or_null(t, "product_uuid");
        rec.machine_id = scalar_or_null(t, "machine_id");
        rec.hostname = scalar_or_null(t, "hostname");
        const struct ynode *m = ynode_get(t, "macs");
        if (m && m->type == YNODE_SEQ)
                for (size_t i = 0; i < m->n; i++)
                        if (m->items[i]->type == YNODE_SCALAR && strv_extend(&rec.macs, m->items[i]->scalar) < 0) {
                                identity_record_done(&rec);
                                return -ENOMEM;
                        }
        *ret = rec;
        return 0;
}

int identity_record_load(int root_fd, struct identity_record *ret) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = read_file_full(root_fd, IDENTITY_PATH, 64 * 1024, &data, &n);
        if (r < 0)
                return r;
        return identity_record_parse(data, n, ret);
}

void identity_record_done(struct identity_record *r) {
        free(r->product_uuid);
        strv_free(r->macs);
        free(r->machine_id);
        free(r->hostname);
        *r = (struct identity_record) {};
}

/* ---- the decision ------------------------------------------------------------------------------------- */

const char *identity_verdict_to_string(enum identity_verdict v) {
        switch (v) {
        case IDENTITY_FIRST: return "first";
        case IDENTITY_SAME: return "same";
        case IDENTITY_CLONE: return "clone";
        }
        return NULL;
}

int identity_decide(const struct identity_record *rec, const struct identity_facts *now, bool machine_id_ok,
                    bool host_keys, struct identity_plan *ret) {
        struct identity_plan p = {};
        if (!rec) {
                p.verdict = IDENTITY_FIRST;
                /* systemd made this boot's machine-id from the image's empty file, and ssh.service's
                 * drop-in (builder/layer.c) makes the host keys when sshd first starts: both are this
                 * machine's own. Making keys here too would race with that drop-in. */
                p.new_machine_id = !machine_id_ok;
                p.new_host_keys = false;
                p.record = true;
                p.generation = 1;
                p.reason = strdup("no identity recorded yet");
                if (!p.reason)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        bool uuid_changed = rec->product_uuid && now->product_uuid && !streq(rec->product_uuid, now->product_uuid);
        bool common_mac = false;
        for (char **m = now->macs; m && *m; m++)
                common_mac = common_mac || strv_contains(rec->macs, *m);
        bool macs_gone = rec->macs && rec->macs[0] && now->macs && now->macs[0] && !common_mac;
        bool macs_differ = strv_length(rec->macs) != strv_length(now->macs);
        for (char **m = now->macs; !macs_differ && m && *m; m++)
                macs_differ = !strv_contains(rec->macs, *m);
        bool uuid_learned = !rec->product_uuid && now->product_uuid;

        if (uuid_changed || macs_gone) {
                _cleanup_free_ char *was = strv_join(rec->macs, ","), *is = strv_join(now->macs, ",");
                p.verdict = IDENTITY_CLONE;
                p.new_machine_id = p.new_host_keys = p.redo_join = p.record = true;
                p.generation = rec->generation + 1;
                if (uuid_changed && macs_gone)
                        p.reason = strprintf("product_uuid %s -> %s and MACs %s -> %s", rec->product_uuid,
                                             now->product_uuid, strempty(was), strempty(is));
                else if (uuid_changed)
                        p.reason = strprintf("product_uuid %s -> %s", rec->product_uuid, now->product_uuid);
                else
                        p.reason = strprintf("none of the MACs %s is present (now %s)", strempty(was), strempty(is));
        } else {
                p.verdict = IDENTITY_SAME;
                p.new_machine_id = !machine_id_ok;
                p.new_host_keys = !host_keys;
                /* a replaced NIC or a newly readable UUID: the same machine, recorded as it is now */
                p.record = macs_differ || uuid_learned || p.new_machine_id;
                p.generation = rec->generation;
                p.reason = strdup(macs_differ ? "same machine (a NIC changed)" : "same machine");
        }
        if (!p.reason)
                return -ENOMEM;
        *ret = p;
        return 0;
}

void identity_plan_done(struct identity_plan *p) {
        free(p->reason);
        *p = (struct identity_plan) {};
}

/* ---- names -------------------------------------------------------------------------------------------- */

int identity_names_resolve(const struct ks *ks, const struct site *site, const struct host_spec *host,
                           struct identity_names *ret) {
        struct identity_names n = {};
        const struct ks_network *hn = ks ? ks_hostname_network(ks) : NULL;
        const char *domain = site ? site->domain : NULL;
        if (hn && hn->hostname) {
                n.source = "kickstart";
                if (strchr(hn->hostname, '.') || !domain)
                        n.fqdn = strdup(hn->hostname);
                else
                        n.fqdn = strprintf("%s.%s", hn->hostname, domain);
        } else if (host) {
                n.source = "site";
                n.fqdn = domain ? strprintf("%s.%s", host->name, domain) : strdup(host->name);
        } else
                return -ENOENT;
        if (!n.fqdn)
                return -ENOMEM;
        lowercase(n.fqdn);
        n.shortname = strndup(n.fqdn, strcspn(n.fqdn, "."));
        if (!n.shortname) {
                free(n.fqdn);
                return -ENOMEM;
        }
        if (host && site && site->default_vlan)
                n.addr = host_address_on(host, site->default_vlan);
        if (!n.addr && hn)
                n.addr = hn->ip;
        *ret = n;
        return 0;
}

void identity_names_done(struct identity_names *n) {
        free(n->fqdn);
        free(n->shortname);
        *n = (struct identity_names) {};
}

char *identity_render_hosts(const struct identity_names *n) {
        struct buf b = {};
        buf_puts(&b, "# rackstack-firstboot: this host's own name on its real address, never on Debian's loopback\n"
                     "# alias, which FreeIPA refuses; every other name comes from DNS.\n"
                     "127.0.0.1\tlocalhost\n");
        if (n->addr) {
                _cleanup_free_ char *a = format_ipv4(n->addr);
                if (!a) {
                        buf_done(&b);
                        return NULL;
                }
                if (streq(n->fqdn, n->shortname))
                        buf_printf(&b, "%s\t%s\n", a, n->fqdn);
                else
                        buf_printf(&b, "%s\t%s %s\n", a, n->fqdn, n->shortname);
        }
        buf_puts(&b, "\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n");
        return buf_steal(&b);
}

int identity_write_names(int root_fd, const struct identity_names *n, bool set_kernel) {
        _cleanup_free_ char *hosts = identity_render_hosts(n);
        _cleanup_free_ char *hostname = strprintf("%s\n", n->fqdn);
        if (!hosts || !hostname)
                return -ENOMEM;
        /* FreeIPA wants the static host name to be the FQDN */
        int r = write_file_atomic(root_fd, "etc/hostname", hostname, strlen(hostname), 0644);
        if (r < 0)
                return r;
        r = write_file_atomic(root_fd, "etc/hosts", hosts, strlen(hosts), 0644);
        if (r < 0)
                return r;
        if (set_kernel && sethostname(n->fqdn, strlen(n->fqdn)) < 0)
                return -errno;
        return 0;
}

/* ---- machine-id and host keys ------------------------------------------------------------------------- */

bool machine_id_valid(const char *s) {
        if (!s || strlen(s) != 32)
                return false;
        bool zero = true;
        for (const char *p = s; *p; p++) {
                if (!isxdigit((unsigned char) *p) || isupper((unsigned char) *p))
                        return false;
                zero = zero && *p == '0';
        }
        return !zero;
}

int machine_id_generate(char **ret) {
        uint8_t b[16];
        size_t got = 0;
        while (got < sizeof b) {
                ssize_t k = getrandom(b + got, sizeof b - got, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                got += (size_t) k;
        }
        /* as sd_id128_randomize(): a v4 UUID */
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        char *s = malloc(33);
        if (!s)
                return -ENOMEM;
        hex_format(b, 16, s);
        *ret = s;
        return 0;
}

int identity_read_machine_id(int root_fd, char **ret) {
        char *id = read_line_at(root_fd, "etc/machine-id");
        if (!id)
                return -ENOENT;
        *ret = id;
        return 0;
}

bool identity_host_keys_present(int root_fd) {
        _cleanup_close_ int fd = openat(root_fd, "etc/ssh", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        if (fd < 0 || opendir_dup(fd, &d) < 0)
                return false;
        struct dirent *de;
        while ((de = readdir(d)))
                if (fnmatch("ssh_host_*_key", de->d_name, 0) == 0)
                        return true;
        return false;
}

static int remove_host_keys(int root_fd) {
        _cleanup_close_ int fd = openat(root_fd, "etc/ssh", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        _cleanup_closedir_ DIR *d = NULL;
        int r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d)))
                if (fnmatch("ssh_host_*", de->d_name, 0) == 0 && unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
                        return -errno;
        return 0;
}

static int write_machine_id(int root_fd, const char *id) {
        _cleanup_free_ char *line = strprintf("%s\n", id);
        if (!line)
                return -ENOMEM;
        int r = write_file_atomic(root_fd, "etc/machine-id", line, strlen(line), 0444);
        if (r < 0)
                return r;
        /* D-Bus reads its own copy; one source of truth */
        r = mkdir_parents_at(root_fd, "var/lib/dbus", 0755);
        if (r < 0)
                return r;
        if (unlinkat(root_fd, "var/lib/dbus/machine-id", 0) < 0 && errno != ENOENT)
                return -errno;
        if (symlinkat("/etc/machine-id", root_fd, "var/lib/dbus/machine-id") < 0)
                return -errno;
        return 0;
}

static int new_host_keys(int root_fd, const char *root) {
        int r = remove_host_keys(root_fd);
        if (r < 0)
                return r;
        r = mkdir_parents_at(root_fd, "etc/ssh", 0755);
        if (r < 0)
                return r;
        /* -f: the prefix under which -A makes the keys (etc/ssh/ssh_host_*_key below it) */
        char *argv[] = { (char *) "ssh-keygen", (char *) "-q", (char *) "-A", (char *) "-f", (char *) root, NULL };
        int st;
        r = cmd_run(argv, NULL, 0, &st);
        if (r < 0)
                return r;
        return st == 0 ? 0 : -EIO;
}

#define SNAKEOIL_KEY "etc/ssl/private/ssl-cert-snakeoil.key"
#define SNAKEOIL_CERT "etc/ssl/certs/ssl-cert-snakeoil.pem"

/* The distribution's self-signed "snakeoil" pair (ssl-cert's make-ssl-cert, run by a package's
 * postinst in the build) is what dovecot, postfix and nginx's snakeoil snippet use until a real
 * certificate is installed. Made in the build, it is one private key for every server from the image
 * (and anyone holding the image has it), named for the build host. A server makes its own, as it does
 * its SSH host keys: same paths, owner and modes, the server's name. No pair in the image: nothing
 * to do. The new files are made in the key's own directory (0710, group ssl-cert), then renamed. */
int identity_new_snakeoil(int root_fd, const char *root, const char *hostname) {
        struct stat kst, cst;
        if (fstatat(root_fd, SNAKEOIL_KEY, &kst, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstatat(root_fd, SNAKEOIL_CERT, &cst, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISREG(kst.st_mode) || !S_ISREG(cst.st_mode))
                return -EINVAL;
        _cleanup_free_ char *key = strprintf("%s/" SNAKEOIL_KEY ".new", root);
        _cleanup_free_ char *cert = strprintf("%s/" SNAKEOIL_CERT ".new", root);
        if (!hostname || !*hostname)
                hostname = "localhost";
        _cleanup_free_ char *subj = strprintf("/CN=%s", hostname);
        _cleanup_free_ char *san = strprintf("subjectAltName=DNS:%s", hostname);
        if (!key || !cert || !subj || !san)
                return -ENOMEM;
        char *argv[] = { (char *) "openssl", (char *) "req", (char *) "-x509", (char *) "-newkey", (char *) "rsa:2048",
                         (char *) "-nodes", (char *) "-days", (char *) "3650", (char *) "-subj", subj,
                         (char *) "-addext", san, (char *) "-keyout", key, (char *) "-out", cert, NULL };
        int st, r = cmd_run(argv, NULL, 0, &st);
        if (r >= 0 && st != 0)
                r = -EIO;
        if (r >= 0 && (fchownat(root_fd, SNAKEOIL_KEY ".new", kst.st_uid, kst.st_gid, 0) < 0 ||
                       fchmodat(root_fd, SNAKEOIL_KEY ".new", kst.st_mode & 07777, 0) < 0 ||
                       fchownat(root_fd, SNAKEOIL_CERT ".new", cst.st_uid, cst.st_gid, 0) < 0 ||
                       fchmodat(root_fd, SNAKEOIL_CERT ".new", cst.st_mode & 07777, 0) < 0 ||
                       renameat(root_fd, SNAKEOIL_KEY ".new", root_fd, SNAKEOIL_KEY) < 0 ||
                       renameat(root_fd, SNAKEOIL_CERT ".new", root_fd, SNAKEOIL_CERT) < 0))
                r = -errno;
        if (r < 0) {
                (void) unlinkat(root_fd, SNAKEOIL_KEY ".new", 0);
                (void) unlinkat(root_fd, SNAKEOIL_CERT ".new", 0);
        }
        return r;
}

/* Mark every finished join step as started again, so the next run does it once more. */
static int invalidate_join(int root_fd) {
        _cleanup_(journal_freep) struct journal *j = NULL;
        int r = journal_open(root_fd, NULL, &j);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **redo = NULL;
        for (size_t i = 0; i < j->n; i++)
                if (startswith(j->recs[i].step, "join/") && journal_is_done(j, j->recs[i].step) &&
                    !strv_contains(redo, j->recs[i].step))
                        if ((r = strv_extend(&redo, j->recs[i].step)) < 0)
                                return r;
        for (char **s = redo; s && *s; s++)
                if ((r = journal_begin(j, *s, "redo=clone")) < 0)
                        return r;
        r = mkdir_parents_at(root_fd, "var/lib/rackstack", 0755);
        if (r < 0)
                return r;
        return write_file_atomic(root_fd, IDENTITY_REJOIN_PATH, "clone\n", 6, 0644);
}

int identity_apply(int root_fd, const char *root, const struct identity_plan *p, const struct identity_facts *f,
                   const char *hostname) {
        int r;
        _cleanup_free_ char *mid = NULL;
        if (p->new_machine_id) {
                if ((r = machine_id_generate(&mid)) < 0 || (r = write_machine_id(root_fd, mid)) < 0)
                        return r;
        } else
                (void) identity_read_machine_id(root_fd, &mid);
        if (p->new_host_keys && ((r = new_host_keys(root_fd, root)) < 0 ||
                                 (r = identity_new_snakeoil(root_fd, root, hostname)) < 0))
                return r;
        if (p->redo_join && (r = invalidate_join(root_fd)) < 0)
                return r;
        if (p->record) {
                struct identity_record rec = {
                        .product_uuid = f->product_uuid, .macs = f->macs, .machine_id = mid,
                        .hostname = (char *) hostname, .generation = p->generation,
                };
                _cleanup_free_ char *data = identity_record_render(&rec);
                if (!data)
                        return -ENOMEM;
                if ((r = mkdir_parents_at(root_fd, "var/lib/rackstack", 0755)) < 0 ||
                    (r = write_file_atomic(root_fd, IDENTITY_PATH, data, strlen(data), 0644)) < 0)
                        return r;
        }
        return 0;
}

/* ---- the every-boot unit ------------------------------------------------------------------------------ */

const char identity_unit_text[] =
        "# Written by rackstack-firstboot when it recorded this machine's identity.\n"
        "# A disk cloned from this one boots with other firmware facts (DMI product_uuid, NIC MACs):\n"
        "# this gives the clone its own machine-id and SSH host keys before the network, sshd or\n"
        "# anything that joins the cluster starts, and has firstboot run again to re-join.\n"
        "[Unit]\n"
        "Description=rackstack clone check (new machine-id and host keys on a cloned disk)\n"
        "DefaultDependencies=no\n"
        "ConditionPathExists=/var/lib/rackstack/identity.json\n"
        "After=local-fs.target systemd-remount-fs.service\n"
        "Before=sysinit.target systemd-networkd.service network-pre.target ssh.service rackstack-firstboot.service\n"
        "Wants=network-pre.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/usr/bin/rackstack-firstboot identity --check-clone --root=/\n"
        "StandardOutput=journal+console\n"
        "StandardError=journal+console\n"
        "\n"
        "[Install]\n"
        "WantedBy=sysinit.target\n";

int identity_install_unit(int root_fd) {
        int r = mkdir_parents_at(root_fd, "etc/systemd/system/sysinit.target.wants", 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(root_fd, "etc/systemd/system/" IDENTITY_UNIT, identity_unit_text,
                              strlen(identity_unit_text), 0644);
        if (r < 0)
                return r;
        const char *link = "etc/systemd/system/sysinit.target.wants/" IDENTITY_UNIT;
        if (unlinkat(root_fd, link, 0) < 0 && errno != ENOENT)
                return -errno;
        if (symlinkat("/etc/systemd/system/" IDENTITY_UNIT, root_fd, link) < 0)
                return -errno;
        return 0;
}

int identity_host_key_fingerprint(int root_fd, char **ret) {
        _cleanup_free_ char *pub = read_line_at(root_fd, "etc/ssh/ssh_host_ed25519_key.pub");
        if (!pub)
                return -ENOENT;
        /* "ssh-ed25519 BASE64 comment": SHA256 of the decoded blob, base64 without padding, as ssh-keygen -l */
        char *b64 = strchr(pub, ' ');
        if (!b64)
                return -EBADMSG;
        b64++;
        b64[strcspn(b64, " ")] = 0;
        size_t n = strlen(b64);
        _cleanup_free_ unsigned char *blob = malloc(n);
        if (!blob)
                return -ENOMEM;
        int k = EVP_DecodeBlock(blob, (const unsigned char *) b64, (int) n);
        if (k < 0)
                return -EBADMSG;
        while (n > 0 && b64[n - 1] == '=') /* EVP_DecodeBlock counts the padding as zero bytes */
                n--, k--;
        unsigned char md[32];
        if (!EVP_Digest(blob, (size_t) k, md, NULL, EVP_sha256(), NULL))
                return -EIO;
        unsigned char out[48];
        int m = EVP_EncodeBlock(out, md, sizeof md);
        while (m > 0 && out[m - 1] == '=')
                m--;
        char *fp = strprintf("SHA256:%.*s", m, out);
        if (!fp)
                return -ENOMEM;
        *ret = fp;
        return 0;
}
