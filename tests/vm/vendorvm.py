"""Shared by the vendor-application VM tests (test-vendor-app.sh, full-vendor-erp.sh; the shell half
is vendor-lib.sh): the boot disk with the test's site secrets, the kickstart without its join lines,
the gateway, the boot to "rackstack-firstboot: finished", a shell in the guest, and the closing
checks.

    t = VendorTest(top, out, "app", ("db.nextcloud", ...), lifetime=1800)
    raw, ks = t.open_root(raw), t.kickstart("lab-app1.ks")
    t.start()
    try:
        with VM(..., log=t.serial, oemdrv=ks, nets=Nets(..., port=t.port)) as vm:
            t.boot(vm, ("nextcloud", ...))
            sh, get = t.shell(vm)
            t.check(...)
    finally:
        t.stop_gateway()
    sys.exit(t.finish())
"""
import json, os, re, secrets, subprocess, sys, tempfile, time

from vmharness import Checks

# Where the test's site secrets lie in the guest; "all" lists every value (grep -F -f).
SDIR = "/var/lib/rackstack-test-secrets"


def secret():
    return "sv-" + secrets.token_hex(16)


class VendorTest:
    def __init__(self, top, out, short, secret_names, lifetime):
        self.top = top
        self.check = Checks()
        self.tmp = tempfile.mkdtemp(prefix="rackstack-v%s-" % short, dir="/var/tmp")
        self.secrets = {n: secret() for n in secret_names}
        self.serial = os.path.join(out, "test-logs", "vm-vendor-%s.serial.log" % short)
        os.makedirs(os.path.dirname(self.serial), exist_ok=True)
        self.port = 41000 + (os.getpid() * 7) % 20000
        self.lifetime = lifetime
        self.gw = None
        self.t_start = None

    def open_root(self, src):
        """A sparse copy of the image with an empty root password, and the site secrets as the cluster
        step would deliver them: files in /run/credentials/rackstack (tmpfiles copies them at boot)."""
        dst = os.path.join(self.tmp, "boot.raw")
        subprocess.run(["cp", "--sparse=always", src, dst], check=True)
        pt = json.loads(subprocess.run(["sfdisk", "--json", dst], capture_output=True, text=True, check=True).stdout)
        root = [p for p in pt["partitiontable"]["partitions"] if p.get("name") == "root"][0]
        dev = subprocess.run(["losetup", "-f", "--show", "-o", str(root["start"] * 512), "--sizelimit",
                              str(root["size"] * 512), dst], capture_output=True, text=True, check=True).stdout.strip()
        mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(mnt)
        try:
            subprocess.run(["mount", dev, mnt], check=True)
            try:
                subprocess.run(["sed", "-i", "s/^root:[^:]*:/root::/", os.path.join(mnt, "etc/shadow")], check=True)
                sd = mnt + SDIR
                os.makedirs(sd, mode=0o700)
                lines = ["d /run/credentials/rackstack 0700 root root -"]
                for n, v in self.secrets.items():
                    with open(os.path.join(sd, n), "w") as f:
                        f.write(v)
                    os.chmod(os.path.join(sd, n), 0o400)
                    lines.append("C /run/credentials/rackstack/%s 0400 root root - %s/%s" % (n, SDIR, n))
                with open(os.path.join(sd, "all"), "w") as f:
                    f.write("\n".join(self.secrets.values()) + "\n")
                with open(os.path.join(mnt, "etc/tmpfiles.d/rackstack-test-secrets.conf"), "w") as f:
                    f.write("\n".join(lines) + "\n")
            finally:
                subprocess.run(["umount", mnt], check=True)
        finally:
            subprocess.run(["losetup", "-d", dev])
        return dst

    def kickstart(self, name):
        """kickstart/NAME without its join lines (no FreeIPA here), 0600, for OEMDRV."""
        ks = os.path.join(self.tmp, "ks.cfg")
        ks_text = "\n".join(l for l in open(os.path.join(self.top, "kickstart", name)).read().splitlines()
                            if not l.startswith("join "))
        open(ks, "w").write(ks_text + "\n")
        os.chmod(ks, 0o600)
        return ks

    def boot(self, vm, services):
        """Boot to firstboot's end; check it finished and each vendor service's console line says done."""
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=2400)
        print("firstboot ended after %.0f s" % self.elapsed(), flush=True)
        text = vm.output
        self.check("firstboot finished", "rackstack-firstboot: finished" in text,
                   "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service)[^\r\n]*", text)))
        for s in services:
            self.check("console: %s done" % s, re.search(r"service %s +done: " % re.escape(s), text) is not None,
                       "".join(re.findall(r"service %s [^\r\n]*" % re.escape(s), text)))
        vm.login(timeout=600)

    def shell(self, vm):
        """sh(cmd): the command's output in the guest, stripped; get(port, path): an HTTP GET there."""
        def sh(cmd, timeout=120):
            rc, o = vm.run(cmd, timeout=timeout)
            return o.strip()
        def get(port, path):
            """GET with bash alone (the image has no curl or wget)."""
            return sh("timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; printf \"GET %s HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n\" >&3; cat <&3'" % (port, path))
        return sh, get

    def start(self):
        """Start the gateway (both VM links' other end) and the clock; stop_gateway() in a finally."""
        self.gw = subprocess.Popen([sys.executable, os.path.join(self.top, "tests/vm/gateway.py"), "--port", str(self.port),
                                    "--port", str(self.port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                                    "--log", os.path.join(self.tmp, "gateway.log"), "--lifetime", str(self.lifetime)])
        self.t_start = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.t_start

    def stop_gateway(self):
        if self.gw:
            self.gw.terminate()

    def finish(self):
        """After the VM: the serial console holds no secret; clean up; print the summary, return the exit status."""
        console = open(self.serial, errors="replace").read()
        self.check("no secret on the serial console", not any(v in console for v in self.secrets.values()))
        subprocess.run(["rm", "-rf", self.tmp])
        return self.check.summary()
