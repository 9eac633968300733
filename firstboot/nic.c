/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "nic.h"
#include "parse.h"
#include "util.h"

bool ifname_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._-", *p))
                        return false;
        return true;
}

/* One line of a sysfs attribute, without its newline. Reading "carrier" or "speed" of a link that is
 * down fails with EINVAL: callers treat any failure as "unknown". */
static int read_attr(int dirfd, const char *attr, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_file_full(dirfd, attr, 4096, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

static int read_attr_u32(int dirfd, const char *attr, uint32_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_attr(dirfd, attr, &s);
        if (r < 0)
                return r;
        return parse_uint32_range(s, 0, UINT32_MAX, ret);
}

/* The target of a symlink, however long. NULL if it is not one (or on OOM). */
static char *readlink_malloc(int dirfd, const char *path) {
        for (size_t size = 256; size <= 65536; size *= 2) {
                char *b = malloc(size);
                if (!b)
                        return NULL;
                ssize_t n = readlinkat(dirfd, path, b, size);
                if (n < 0) {
                        free(b);
                        return NULL;
                }
                if ((size_t) n < size) {
                        b[n] = 0;
                        return b;
                }
                free(b);
        }
        return NULL;
}

static char *mac_lower(const char *s) {
        if (!is_mac_address(s))
                return NULL;
        char *m = strdup(s);
        if (m)
                for (char *p = m; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        return m;
}

static void nic_done(struct nic *n) {
        free(n->name);
        free(n->mac);
        free(n->driver);
}

void nic_list_done(struct nic_list *l) {
        for (size_t i = 0; i < l->n; i++)
                nic_done(&l->nics[i]);
        free(l->nics);
        *l = (struct nic_list) {};
}

static int nic_read(int netfd, const char *name, struct nic *ret) {
        _cleanup_close_ int fd = openat(netfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                /* Not every entry is a link: the bonding module adds the file "bonding_masters". */
                return errno == ENOTDIR ? 0 : -errno;

        uint32_t type;
        if (read_attr_u32(fd, "type", &type) < 0 || type != 1 /* ARPHRD_ETHER */)
                return 0;

        /* An enslaved NIC carries the bond's MAC in "address"; its own is in perm_hwaddr. */
        _cleanup_free_ char *addr = NULL;
        if (read_attr(fd, "bonding_slave/perm_hwaddr", &addr) < 0 && read_attr(fd, "address", &addr) < 0)
                return 0;
        _cleanup_free_ char *mac = mac_lower(addr);
        if (!mac)
                return 0;

        struct nic n = { .ifindex = -1 };
        n.name = strdup(name);
        if (!n.name)
                return -ENOMEM;
        n.mac = TAKE_PTR(mac);

        uint32_t v;
        if (read_attr_u32(fd, "ifindex", &v) >= 0 && v <= INT32_MAX)
                n.ifindex = (int) v;
        if (read_attr_u32(fd, "carrier", &v) >= 0)
                n.carrier = v == 1;
        /* speed is -1 (unknown) for virtio without speed= and for links that are down. */
        _cleanup_free_ char *speed = NULL;
        if (read_attr(fd, "speed", &speed) >= 0 && parse_uint32_range(speed, 1, UINT32_MAX, &v) >= 0)
                n.speed_mbps = v;
        if (read_attr_u32(fd, "mtu", &v) >= 0)
                n.mtu = v;

        struct stat st;
        n.physical = fstatat(fd, "device", &st, 0) >= 0;
        _cleanup_free_ char *target = readlink_malloc(fd, "device/driver");
        if (target) {
                const char *base = strrchr(target, '/');
                n.driver = strdup(base ? base + 1 : target);
                if (!n.driver) {
                        nic_done(&n);
                        return -ENOMEM;
                }
        }
        *ret = n;
        return 1;
}

static int nic_cmp(const void *a, const void *b) {
        return strcmp(((const struct nic *) a)->name, ((const struct nic *) b)->name);
}

int nic_discover(const char *sysfs_root, struct nic_list *ret) {
        _cleanup_free_ char *path = strprintf("%s/class/net", sysfs_root);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int netfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (netfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *dir = NULL;
        int r_dir = opendir_dup(netfd, &dir);
        if (r_dir < 0)
                return r_dir;

        struct nic_list l = {};
        int r = 0;
        for (struct dirent *de; (de = readdir(dir));) {
                if (!ifname_valid(de->d_name) || streq(de->d_name, "lo"))
                        continue;
                struct nic n;
                r = nic_read(netfd, de->d_name, &n);
                if (r < 0)
                        break;
                if (r == 0)
                        continue;
                struct nic *a = realloc(l.nics, (l.n + 1) * sizeof *a);
                if (!a) {
                        nic_done(&n);
                        r = -ENOMEM;
                        break;
                }
                l.nics = a;
                l.nics[l.n++] = n;
                r = 0;
        }
        if (r < 0) {
                nic_list_done(&l);
                return r;
        }
        if (l.n > 0)
                qsort(l.nics, l.n, sizeof *l.nics, nic_cmp);
        *ret = l;
        return 0;
}

const struct nic *nic_find(const struct nic_list *l, const char *name_or_mac) {
        bool mac = is_mac_address(name_or_mac);
        for (size_t i = 0; i < l->n; i++)
                if (mac ? strcasecmp(l->nics[i].mac, name_or_mac) == 0 : streq(l->nics[i].name, name_or_mac))
                        return &l->nics[i];
        return NULL;
}
