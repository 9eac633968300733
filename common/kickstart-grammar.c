/* SPDX-License-Identifier: MIT */
/* The RHEL 9 kickstart grammar (pykickstart's RHEL9 handler, plus RHEL 10's bootc) sorted into what
 * rackstack applies, ignores with a warning, and refuses. Only the ignored and refused parts live
 * here; what is applied is parsed by kickstart.c. docs/rackstack-kickstart.5.md has the same table
 * for people: change both together.
 *
 * The rule for refusing: going on would surprise the user or touch data (a layout we would not
 * create, an encryption we would not set up, a disk cleared beyond what was named or the role's
 * disk layout bounds: an unbounded "clearpart --all" is kickstart-validate.c's warning). Everything
 * else an image-based first boot cannot honour is ignored, with the reason, so an existing
 * kickstart still gives a working first boot. */
#include <string.h>

#include "kickstart-internal.h"
#include "util.h"

#define NO_PAYLOAD "the image already holds the system: there is no payload or package source to install from"
#define INSTALLER_ONLY "it tunes Anaconda's installer session, which an image-based first boot does not have"
#define NOT_YET "rackstack-firstboot does not apply it yet: the image's setting stays"
#define LAYOUT "rackstack does not create RAID, LVM or btrfs layouts: the OS disk is the image and data disks are laid out by 'part --ondisk'; going on would leave the volumes you describe missing"
#define SUBSCRIPTION "a Red Hat subscription command (RHEL 9/10): rackstack images are Debian or Ubuntu, which have no subscription"
#define CRYPT "rackstack does not set up disk encryption: the volume would be created unencrypted"

static const struct ks_foreign commands[] = {
        /* payload and installation source */
        { "url", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "repo", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "cdrom", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "harddrive", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "nfs", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "liveimg", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "install", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "method", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "ostreesetup", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "ostreecontainer", NULL, false, KS_IGNORED, NO_PAYLOAD },
        { "bootc", NULL, false, KS_IGNORED, "a RHEL 10 bootc (image mode) payload command: " NO_PAYLOAD },
        { "module", NULL, false, KS_IGNORED, NO_PAYLOAD },
        /* the OS disk's layout comes with the image */
        { "autopart", NULL, false, KS_IGNORED, "the OS disk's layout comes with the image" },
        { "reqpart", NULL, false, KS_IGNORED, "the image already has its boot partitions" },
        /* layouts we would not create */
        { "raid", NULL, false, KS_REFUSED, LAYOUT },
        { "volgroup", NULL, false, KS_REFUSED, LAYOUT },
        { "logvol", NULL, false, KS_REFUSED, LAYOUT },
        { "btrfs", NULL, false, KS_REFUSED, LAYOUT },
        { "mount", NULL, false, KS_REFUSED, "rackstack does not reuse or reformat existing devices by path: name data disks in '%addon com_rackstack' and lay them out with 'part --ondisk'" },
        { "snapshot", NULL, false, KS_IGNORED, "rackstack creates no LVM thin pool to snapshot" },
        { "rescue", NULL, false, KS_REFUSED, "rescue mode installs nothing; rackstack would install" },
        /* installer session */
        { "text", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "graphical", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "cmdline", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "autostep", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "vnc", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "mediacheck", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "updates", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "driverdisk", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "logging", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "sshpw", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "deviceprobe", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "device", NULL, false, KS_IGNORED, INSTALLER_ONLY },
        { "hmc", NULL, false, KS_IGNORED, "s390 only" },
        { "zipl", NULL, false, KS_IGNORED, "s390 only" },
        { "zfcp", NULL, false, KS_IGNORED, "s390 only" },
        { "eula", NULL, false, KS_IGNORED, "Anaconda's initial-setup EULA screen: the image has none" },
        { "firstboot", NULL, false, KS_IGNORED, "Anaconda's initial-setup: rackstack-firstboot is the first boot" },
        { "skipx", NULL, false, KS_IGNORED, "the images have no X server" },
        { "xconfig", NULL, false, KS_IGNORED, "the images have no X server" },
        /* storage attached by the installer */
        { "iscsi", NULL, false, KS_IGNORED, "rackstack attaches no iSCSI targets" },
        { "iscsiname", NULL, false, KS_IGNORED, "rackstack attaches no iSCSI targets" },
        { "fcoe", NULL, false, KS_IGNORED, "rackstack attaches no FCoE disks" },
        { "nvdimm", NULL, false, KS_IGNORED, "rackstack does not reconfigure NVDIMM namespaces" },
        { "dmraid", NULL, false, KS_IGNORED, "removed from Anaconda; the kernel's md driver assembles arrays" },
        { "multipath", NULL, false, KS_IGNORED, "removed from Anaconda; multipathd decides" },
        /* system settings an image already has */
        { "selinux", NULL, false, KS_IGNORED, "the Debian and Ubuntu bases have no SELinux policy (AppArmor is used)" },
        { "authselect", NULL, false, KS_IGNORED, "the image's PAM and NSS setup stays; FreeIPA enrolment is '%addon com_rackstack' 'join ipa'" },
        { "authconfig", NULL, false, KS_IGNORED, "the image's PAM and NSS setup stays; FreeIPA enrolment is '%addon com_rackstack' 'join ipa'" },
        { "auth", NULL, false, KS_IGNORED, "the image's PAM and NSS setup stays; FreeIPA enrolment is '%addon com_rackstack' 'join ipa'" },
        { "realm", NULL, false, KS_IGNORED, "domain joins are '%addon com_rackstack' 'join ipa'" },
        { "group", NULL, false, KS_IGNORED, NOT_YET },
        { "rhsm", NULL, false, KS_IGNORED, SUBSCRIPTION },
        { "syspurpose", NULL, false, KS_IGNORED, SUBSCRIPTION },
};

/* Options of the commands kickstart.c parses that it does not take: Anaconda's all the same. */
static const struct ks_foreign options[] = {
        { "network", "--bindto", true, KS_IGNORED, "devices are matched by name or MAC whatever it says" },
        { "network", "--ipv6", true, KS_IGNORED, "rackstack configures IPv4 only; the link keeps the kernel's IPv6 defaults" },
        { "network", "--ipv6gateway", true, KS_IGNORED, "rackstack configures IPv4 only" },
        { "network", "--noipv6", false, KS_IGNORED, "rackstack configures IPv4 only" },
        { "network", "--ipv4-dns-search", true, KS_IGNORED, "search domains come from the site's domain" },
        { "network", "--ipv6-dns-search", true, KS_IGNORED, "rackstack configures IPv4 only" },
        { "network", "--ipv4-ignore-auto-dns", false, KS_IGNORED, "name servers are the ones the answers give" },
        { "network", "--ipv6-ignore-auto-dns", false, KS_IGNORED, "rackstack configures IPv4 only" },
        { "network", "--nodns", false, KS_IGNORED, "name servers are the ones the answers give" },
        { "network", "--dhcpclass", true, KS_IGNORED, "systemd-networkd's DHCP client sends no vendor class" },
        { "network", "--ethtool", true, KS_IGNORED, "link settings are the driver's" },
        { "network", "--notksdevice", false, KS_IGNORED, INSTALLER_ONLY },
        { "network", "--essid", true, KS_IGNORED, "the images configure no wireless" },
        { "network", "--wepkey", true, KS_IGNORED, "the images configure no wireless" },
        { "network", "--wpakey", true, KS_IGNORED, "the images configure no wireless" },
        { "network", "--noipv4", false, KS_REFUSED, "rackstack configures IPv4 only: the link would be unreachable" },
        { "network", "--bridgeslaves", true, KS_REFUSED, "rackstack creates no bridges (bonds and VLANs only): the bridge you describe would be missing" },
        { "network", "--bridgeopts", true, KS_REFUSED, "rackstack creates no bridges (bonds and VLANs only)" },
        { "network", "--teamslaves", true, KS_REFUSED, "rackstack creates no team devices: write a bond (--bondslaves, --bondopts)" },
        { "network", "--teamconfig", true, KS_REFUSED, "rackstack creates no team devices: write a bond (--bondslaves, --bondopts)" },
        { "clearpart", "--linux", false, KS_REFUSED, "it clears Linux partitions on every disk in scope: name the disks with --drives and use --all or --list" },
        { "clearpart", "--cdl", false, KS_IGNORED, "s390 only" },
        { "part", "--asprimary", false, KS_IGNORED, "data disks get a GPT label, where every partition is primary" },
        { "part", "--fsprofile", true, KS_IGNORED, "mkfs's defaults are used (--mkfsoptions is read)" },
        { "part", "--hibernation", false, KS_IGNORED, "the OS disk's layout comes with the image" },
        { "part", "--recommended", false, KS_IGNORED, "the OS disk's layout comes with the image" },
        { "part", "--onbiosdisk", true, KS_REFUSED, "name the disk with --ondisk=@NAME and a 'disk' line in '%addon com_rackstack'" },
        { "part", "--resize", false, KS_REFUSED, "rackstack never resizes an existing partition" },
        { "part", "--usepart", true, KS_REFUSED, "rackstack does not reuse existing partitions by path" },
        { "part", "--type", true, KS_IGNORED, "partition types follow the mount point" },
        { "part", "--encrypted", false, KS_REFUSED, CRYPT },
        { "part", "--passphrase", true, KS_REFUSED, CRYPT },
        { "part", "--cipher", true, KS_REFUSED, CRYPT },
        { "part", "--luks-version", true, KS_REFUSED, CRYPT },
        { "part", "--pbkdf", true, KS_REFUSED, CRYPT },
        { "part", "--pbkdf-memory", true, KS_REFUSED, CRYPT },
        { "part", "--pbkdf-time", true, KS_REFUSED, CRYPT },
        { "part", "--pbkdf-iterations", true, KS_REFUSED, CRYPT },
        { "part", "--escrowcert", true, KS_REFUSED, CRYPT },
        { "part", "--backuppassphrase", false, KS_REFUSED, CRYPT },
        { "bootloader", "--default", true, KS_IGNORED, "the image's boot loader is used as built" },
        { "bootloader", "--disabled", false, KS_IGNORED, "the image's boot loader is used as built" },
        { "bootloader", "--driveorder", true, KS_IGNORED, "the image's boot loader is used as built" },
        { "bootloader", "--extlinux", false, KS_IGNORED, "the image's boot loader is used as built" },
        { "bootloader", "--iscrypted", false, KS_IGNORED, "the image's boot loader is used as built (no GRUB password is set)" },
        { "bootloader", "--password", true, KS_IGNORED, "the image's boot loader is used as built (no GRUB password is set)" },
        { "bootloader", "--md5pass", true, KS_IGNORED, "the image's boot loader is used as built (no GRUB password is set)" },
        { "bootloader", "--leavebootorder", false, KS_IGNORED, "rackstack does not change the firmware's boot order" },
        { "bootloader", "--nombr", false, KS_IGNORED, "the image's boot loader is used as built" },
        { "rootpw", "--allow-ssh", false, KS_IGNORED, "the role's sshd settings decide whether root may log in by password" },
        { "user", "--lock", false, KS_IGNORED, "without --password the account has no usable password anyway" },
        { "keyboard", "--switch", true, KS_IGNORED, "X layout switching options are left to the desktop, which the images do not have" },
        { "timezone", "--nontp", false, KS_IGNORED, "deprecated in RHEL 9: use 'timesource --ntp-disable'" },
        { "timezone", "--ntpservers", true, KS_IGNORED, "deprecated in RHEL 9: write 'timesource --ntp-server=' lines" },
        { "timesource", "--ntp-disable", false, KS_IGNORED, "the image's time sync stays on" },
};

const struct ks_foreign *ks_foreign_command(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].command, name))
                        return &commands[i];
        return NULL;
}

const struct ks_foreign *ks_foreign_option(const char *command, const char *option) {
        if (streq(command, "partition"))
                command = "part";
        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                if (streq(options[i].command, command) && streq(options[i].option, option))
                        return &options[i];
        return NULL;
}
