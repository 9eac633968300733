/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "escape.h"
#include "parse.h"
#include "proxmox.h"
#include "util.h"

void proxmox_plan_done(struct proxmox_plan *p) {
        free(p->host);
        free(p->role);
        free(p->description);
        for (size_t i = 0; i < p->n_disks; i++) {
                free(p->disks[i].name);
                free(p->disks[i].slot);
                free(p->disks[i].note);
        }
        free(p->disks);
        free(p->vlans);
        free(p->qcow2);
        *p = (struct proxmox_plan) {};
}

static void add_vlan(struct proxmox_plan *p, uint16_t id) {
        for (size_t i = 0; i < p->n_vlans; i++)
                if (p->vlans[i] == id)
                        return;
        size_t at = p->n_vlans;
        while (at > 0 && p->vlans[at - 1] > id) {
                p->vlans[at] = p->vlans[at - 1];
                at--;
        }
        p->vlans[at] = id;
        p->n_vlans++;
}

static char *disk_note(const struct disk_spec *d) {
        struct buf b = {};
        const char *sep = "";
        for (unsigned bit = 1; bit <= DISK_CLASS_HDD; bit <<= 1)
                if (d->classes & bit) {
                        buf_printf(&b, "%s%s", sep, disk_class_to_string(bit));
                        sep = "|";
                }
        sep = " on ";
        for (unsigned bit = 1; bit <= TRANSPORT_SCSI; bit <<= 1)
                if (d->transports & bit) {
                        buf_printf(&b, "%s%s", sep, transport_to_string(bit));
                        sep = "|";
                }
        _cleanup_free_ char *sz = format_size(d->min_size);
        buf_printf(&b, ", >= %s", strna(sz));
        if (d->count > 1)
                buf_printf(&b, ", %u of them", d->count);
        return buf_steal(&b);
}

int proxmox_plan_build(const struct profile *p, const struct host_spec *h, struct proxmox_plan *ret) {
        const struct disk_spec *os = profile_os_disk(p);
        if (!os || !p->cores || !p->ram)
                return -EINVAL;
        _cleanup_(proxmox_plan_done) struct proxmox_plan x = {
                .host = strdup(h->name),
                .role = strdup(p->role),
                .description = p->description ? strdup(p->description) : NULL,
                .vmid = 9000 + (h->n_addresses ? (h->addresses[0].addr & 0xff) : 0),
                .cores = p->cores,
                .memory = p->ram,
                .os_size = os->min_size,
                .os_ssd = !(os->classes & DISK_CLASS_HDD),
                .nics = p->bond.members ? p->bond.members : 2,
                .qcow2 = strprintf("%s.qcow2", h->name),
        };
        if (!x.host || !x.role || (p->description && !x.description) || !x.qcow2)
                return -ENOMEM;

        x.vlans = calloc(p->n_vlans + h->n_addresses + 1, sizeof *x.vlans);
        if (!x.vlans)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_vlans; i++)
                add_vlan(&x, p->vlans[i]);
        for (size_t i = 0; i < h->n_addresses; i++)
                add_vlan(&x, h->addresses[i].vlan);

        size_t n = 0;
        for (size_t i = 0; i < p->n_disks; i++)
                if (!p->disks[i].os)
                        n += p->disks[i].count ? p->disks[i].count : 1;
        x.disks = calloc(n + 1, sizeof *x.disks);
        if (!x.disks)
                return -ENOMEM;
        /* scsi0 is the OS disk; SCSI disks are numbered after it, SATA ones from 0 */
        unsigned next_scsi = 1, next_sata = 0;
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct disk_spec *d = &p->disks[i];
                if (d->os)
                        continue;
                /* A hard disk the role accepts on SATA goes on the VM's AHCI controller: there the guest
                 * sees it as sata and rotational, as the role's matcher asks. The rest are virtio-scsi
                 * volumes, ssd=1 for the SSD and NVMe classes. */
                bool sata = !(d->classes & (DISK_CLASS_SSD | DISK_CLASS_NVME)) && (d->transports & TRANSPORT_SATA);
                for (unsigned k = 0; k < (d->count ? d->count : 1); k++) {
                        struct proxmox_disk *pd = &x.disks[x.n_disks++];
                        *pd = (struct proxmox_disk) {
                                .name = strdup(d->name),
                                .bus = sata ? PROXMOX_BUS_SATA : PROXMOX_BUS_SCSI,
                                .slot = sata ? strprintf("sata%u", next_sata++) : strprintf("scsi%u", next_scsi++),
                                .size = d->min_size,
                                .ssd = !!(d->classes & (DISK_CLASS_SSD | DISK_CLASS_NVME)),
                                .note = disk_note(d),
                        };
                        if (!pd->name || !pd->slot || !pd->note)
                                return -ENOMEM;
                }
        }
        *ret = x;
        x = (struct proxmox_plan) {};
        return 0;
}

/* PVE sizes: "50G", "1T"; volumes are allocated in GiB. */
static uint64_t gib(uint64_t bytes) {
        return (bytes + GiB - 1) / GiB;
}

static char *trunks(const struct proxmox_plan *p) {
        struct buf b = {};
        for (size_t i = 0; i < p->n_vlans; i++)
                buf_printf(&b, "%s%u", i ? ";" : "", p->vlans[i]);
        return buf_steal(&b) ?: strdup("");
}

static void disk_opts(struct buf *b, bool ssd, enum proxmox_bus bus) {
        buf_puts(b, ",discard=on");
        if (bus == PROXMOX_BUS_SCSI)
                buf_puts(b, ",iothread=1");
        if (ssd)
                buf_puts(b, ",ssd=1");
}

/* Keys in the order PVE writes them (sorted), the description first as comment lines. */
char *proxmox_conf_render(const struct proxmox_plan *p) {
        struct buf b = {};
        _cleanup_free_ char *tr = trunks(p);
        const unsigned id = p->vmid;
        unsigned vol = 0;
        /* The description is profile text: comment lines of PVE's own, with no newline of its own. */
        _cleanup_free_ char *head = strprintf("rackstack %s (role %s)%s%s", p->host, p->role,
                                              p->description ? ": " : "", strempty(p->description));
        buf_putc(&b, '#');
        buf_put_comment_text(&b, strempty(head));
        buf_putc(&b, '\n');
        buf_printf(&b, "#made by rackstack-build: the config import.sh makes with its defaults (VMID %u, local-lvm,\n", id);
        buf_puts(&b, "#vmbr0), after 'qm template' renamed the disks base-*. Not a file to copy into /etc/pve:\n");
        buf_puts(&b, "#Proxmox adds a generated macaddr= to net0 and net1 when it creates the VM.\n");
        buf_puts(&b, "agent: enabled=1,fstrim_cloned_disks=1\n");
        buf_puts(&b, "bios: ovmf\n");
        buf_puts(&b, "boot: order=scsi0\n");
        buf_printf(&b, "cores: %u\n", p->cores);
        buf_puts(&b, "cpu: x86-64-v2-AES\n");
        buf_printf(&b, "efidisk0: local-lvm:base-%u-disk-%u,efitype=4m,pre-enrolled-keys=0,size=4M\n", id, vol++);
        buf_printf(&b, "ide2: local-lvm:vm-%u-cloudinit,media=cdrom\n", id);
        buf_puts(&b, "machine: q35\n");
        buf_printf(&b, "memory: %" PRIu64 "\n", p->memory / MiB);
        buf_puts(&b, "name: ");
        buf_put_comment_text(&b, p->host);
        buf_putc(&b, '\n');
        for (unsigned i = 0; i < p->nics; i++)
                buf_printf(&b, "net%u: virtio,bridge=vmbr0%s%s\n", i, *tr ? ",trunks=" : "", tr);
        buf_puts(&b, "ostype: l26\n");
        /* SATA slots sort before SCSI ones */
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct proxmox_disk *d = &p->disks[i];
                if (d->bus != PROXMOX_BUS_SATA)
                        continue;
                buf_printf(&b, "%s: local-lvm:base-%u-disk-%zu", d->slot, id, (size_t) vol + 1 + i);
                disk_opts(&b, d->ssd, d->bus);
                buf_printf(&b, ",size=%" PRIu64 "G\n", gib(d->size));
        }
        buf_printf(&b, "scsi0: local-lvm:base-%u-disk-%u", id, vol);
        disk_opts(&b, p->os_ssd, PROXMOX_BUS_SCSI);
        buf_printf(&b, ",size=%" PRIu64 "G\n", gib(p->os_size));
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct proxmox_disk *d = &p->disks[i];
                if (d->bus != PROXMOX_BUS_SCSI)
                        continue;
                buf_printf(&b, "%s: local-lvm:base-%u-disk-%zu", d->slot, id, (size_t) vol + 1 + i);
                disk_opts(&b, d->ssd, d->bus);
                buf_printf(&b, ",size=%" PRIu64 "G\n", gib(d->size));
        }
        buf_puts(&b, "scsihw: virtio-scsi-single\n");
        buf_puts(&b, "serial0: socket\n");
        buf_puts(&b, "template: 1\n");
        buf_puts(&b, "vga: serial0\n");
        return buf_steal(&b);
}

/* The comment that is the script's --help, and the defaults the options change. */
static void import_header(struct buf *b, const struct proxmox_plan *p, const char *tr) {
        _cleanup_free_ char *what = strprintf("%s (role %s) from %s", p->host, p->role, p->qcow2);
        buf_puts(b, "#!/bin/bash\n# Make the Proxmox VE template for ");
        buf_put_comment_text(b, strempty(what));
        buf_printf(b,
                   ", in one command, as root on a\n"
                   "# Proxmox VE 8 host with qemu-server 8.0.4 or later (for the x86-64-v2-AES CPU type; import-from\n"
                   "# with a file path needs root@pam):\n"
                   "#     ./import.sh [--vmid N] [--storage ID] [--bridge NAME] [--force]\n"
                   "# --force destroys an existing VM or template with that VMID first. The bridge must be VLAN-aware:\n"
                   "# both NICs carry VLANs %s tagged, and the guest bonds them and adds the VLANs itself.\n"
                   "# Made by rackstack-build; see docs/proxmox.md.\n"
                   "set -euo pipefail\n\n",
                   *tr ? tr : "(none)");
        buf_printf(b, "VMID=%u\nSTORAGE=local-lvm\nBRIDGE=vmbr0\nFORCE=0\nNAME=", p->vmid);
        buf_put_sh_quoted(b, p->host);
        buf_puts(b, "\nIMAGE=");
        buf_put_sh_quoted(b, p->qcow2);
        buf_puts(b, "\nDESCRIPTION=");
        _cleanup_free_ char *desc = strprintf("rackstack %s (role %s)%s%s", p->host, p->role, p->description ? ": " : "",
                                              strempty(p->description));
        buf_put_sh_quoted(b, strempty(desc));
        buf_puts(b, "\n\n");
}

/* Options, and what must hold before anything is created: a Proxmox VE 8 host, root, the image
 * as SHA256SUMS lists it, the VMID free (or --force). */
static const char import_checks[] =
        "usage() {\n"
        "        sed -n '2,8s/^# \\{0,1\\}//p' \"$0\"\n"
        "}\n"
        "die() {\n"
        "        echo \"import.sh: $*\" >&2\n"
        "        exit 1\n"
        "}\n\n"
        "while [ $# -gt 0 ]; do\n"
        "        case $1 in\n"
        "        --vmid) VMID=${2:?--vmid needs a number}; shift 2 ;;\n"
        "        --storage) STORAGE=${2:?--storage needs a storage ID}; shift 2 ;;\n"
        "        --bridge) BRIDGE=${2:?--bridge needs a bridge name}; shift 2 ;;\n"
        "        --force) FORCE=1; shift ;;\n"
        "        -h|--help) usage; exit 0 ;;\n"
        "        *) usage >&2; exit 2 ;;\n"
        "        esac\n"
        "done\n"
        "if ! [[ $VMID =~ ^[0-9]+$ ]] || [ \"$VMID\" -lt 100 ]; then\n"
        "        echo \"import.sh: --vmid must be a number >= 100\" >&2\n"
        "        exit 2\n"
        "fi\n"
        "if ! [[ $STORAGE =~ ^[A-Za-z][A-Za-z0-9._-]*$ ]] || ! [[ $BRIDGE =~ ^[A-Za-z0-9._-]+$ ]]; then\n"
        "        echo \"import.sh: bad storage ID '$STORAGE' or bridge name '$BRIDGE'\" >&2\n"
        "        exit 2\n"
        "fi\n\n"
        "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "img=$here/$IMAGE\n"
        "[ -r \"$img\" ] || die \"$img is missing\"\n"
        "command -v qm >/dev/null || die \"qm not found: run this on a Proxmox VE host\"\n"
        "[ \"$(id -u)\" = 0 ] || die \"run it as root: importing from a file path needs root@pam\"\n"
        "# --cpu x86-64-v2-AES exists from qemu-server 8.0.4 (Proxmox VE 8): check before creating anything.\n"
        "qs=$(pveversion -v 2>/dev/null | awk '$1 == \"qemu-server:\" { print $2 }')\n"
        "[ -n \"$qs\" ] || die \"cannot tell the qemu-server version (pveversion -v): is this a Proxmox VE host?\"\n"
        "dpkg --compare-versions \"$qs\" ge 8.0.4 ||\n"
        "        die \"qemu-server $qs is too old: the x86-64-v2-AES CPU type needs 8.0.4 or later (Proxmox VE 8)\"\n\n"
        "# The image as the build published it (SHA256SUMS one directory up lists proxmox/$IMAGE).\n"
        "if [ -r \"$here/../SHA256SUMS\" ]; then\n"
        "        sum=$(awk -v n=\"proxmox/$IMAGE\" '$2 == n || $2 == \"*\" n { print $1 }' \"$here/../SHA256SUMS\")\n"
        "        if [ -n \"$sum\" ]; then\n"
        "                echo \"$sum  $img\" | sha256sum -c --quiet - || die \"$img does not match SHA256SUMS\"\n"
        "        fi\n"
        "fi\n\n"
        "if qm status \"$VMID\" >/dev/null 2>&1; then\n"
        "        [ \"$FORCE\" = 1 ] || die \"VMID $VMID exists; choose another with --vmid, or replace it with --force\"\n"
        "        echo \"import.sh: destroying VM $VMID (--force)\"\n"
        "        qm stop \"$VMID\" >/dev/null 2>&1 || true\n"
        "        qm destroy \"$VMID\" --purge 1 --destroy-unreferenced-disks 1\n"
        "fi\n\n";

/* The VM, its disks and NICs as the plan says, then the template. */
static void import_qm(struct buf *b, const struct proxmox_plan *p, const char *tr) {
        buf_printf(b,
                   "qm create \"$VMID\" --name \"$NAME\" --description \"$DESCRIPTION\" --ostype l26 \\\n"
                   "        --machine q35 --bios ovmf --efidisk0 \"$STORAGE:1,efitype=4m,pre-enrolled-keys=0\" \\\n"
                   "        --cpu x86-64-v2-AES --cores %u --memory %" PRIu64 " \\\n"
                   "        --agent enabled=1,fstrim_cloned_disks=1 --scsihw virtio-scsi-single \\\n"
                   "        --scsi0 \"$STORAGE:0,import-from=$img,discard=on,iothread=1%s\" \\\n",
                   p->cores, p->memory / MiB, p->os_ssd ? ",ssd=1" : "");
        for (unsigned i = 0; i < p->nics; i++)
                buf_printf(b, "        --net%u \"virtio,bridge=$BRIDGE%s%s\" \\\n", i, *tr ? ",trunks=" : "", tr);
        buf_puts(b, "        --serial0 socket --vga serial0 --boot order=scsi0\n");
        buf_printf(b, "# the image is the OS disk's first GiBs; firstboot grows root to the disk\n"
                       "qm resize \"$VMID\" scsi0 %" PRIu64 "G\n", gib(p->os_size));
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct proxmox_disk *d = &p->disks[i];
                struct buf o = {};
                disk_opts(&o, d->ssd, d->bus);
                _cleanup_free_ char *opts = buf_steal(&o);
                /* The disk's name is profile text: a newline in it must not start a command run as root. */
                buf_puts(b, "# ");
                buf_put_comment_text(b, d->name);
                buf_puts(b, ": ");
                buf_put_comment_text(b, d->note);
                buf_printf(b, "\nqm set \"$VMID\" --%s \"$STORAGE:%" PRIu64 "%s\"\n", d->slot, gib(d->size),
                           strempty(opts));
        }
        buf_puts(b,
                 "# per-clone answers (host name, SSH key, the seed file) come through the cloud-init drive\n"
                 "qm set \"$VMID\" --ide2 \"$STORAGE:cloudinit\"\n"
                 "qm template \"$VMID\"\n"
                 "echo \"import.sh: template $VMID ($NAME) is ready: qm clone $VMID NEWID --name NAME --full 1\"\n");
}

/* 'text' for the shell */
char *proxmox_import_render(const struct proxmox_plan *p) {
        struct buf b = {};
        _cleanup_free_ char *tr = trunks(p);
        import_header(&b, p, tr);
        buf_puts(&b, import_checks);
        import_qm(&b, p, tr);
        return buf_steal(&b);
}
