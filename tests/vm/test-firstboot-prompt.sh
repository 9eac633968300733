#!/bin/bash
# The console prompt for real: the db image boots with a kickstart for a host the site does not list
# (lab-db9) that leaves VLAN 10 out, so firstboot asks on the serial console. The test types like a
# person: Enter for the defaults, a VLAN 10 address outside its subnet (re-asked with the reason),
# then a good one, and a root password twice. Firstboot must then finish with VLAN 10 at the typed
# address, the password must not appear on the console, root must log in with it (stored in
# /etc/shadow as SHA-512 crypt), and status.json must say the address came from the prompt.
. "$(dirname "$0")/lib.sh"
vm_requirements
ensure_image db
exec python3 - "$RAW" "$TOP" "$O" <<'PY'
import json, os, re, subprocess, sys, tempfile
raw, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, Checks, install_signal_handlers

install_signal_handlers()
check = Checks(limit=None)

PASSWORD = "Prompt-Test-7x"
tmp = tempfile.mkdtemp(prefix="rackstack-prompt-", dir="/var/tmp")
ks = os.path.join(tmp, "ks.cfg")
text = open(os.path.join(top, "kickstart/lab-db1.ks")).read().replace("lab-db1.domain.com", "lab-db9.domain.com")
text = re.sub(r"# VLAN 10 \(management\)\nnetwork [^\n]*(?:\\\n[^\n]*)*\n", "", text)  # one line, or continued
text = text.replace("rootpw --lock\n", "")  # no word on root's password: the prompt asks
# a single VM has no identity, monitoring or log server: without join lines those steps are skipped
text = "".join(l for l in text.splitlines(True) if not l.startswith("join "))
assert "--vlanid=10" not in text and "lab-db9" in text and "rootpw" not in text
open(ks, "w").write(text)
port = 43000 + os.getpid() % 20000
gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                       "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                       "--log", os.path.join(tmp, "gateway.log"), "--lifetime", "1800"])
os.makedirs(os.path.join(out, "test-logs"), exist_ok=True)
serial = os.path.join(out, "test-logs", "vm-firstboot-prompt.serial.log")
try:
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=serial, name="fb-prompt",
            disks=[Disk("nvme", "500G"), Disk("sas-hdd", "1T")], oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=port)) as vm:
        vm.boot(expect=r"Host name and domain[^\n]*\[lab-db9\.domain\.com\]: ", timeout=1200)
        check("the prompt asks on the serial console, the kickstart's host name in brackets", True)
        vm.sendline("")
        vm.wait_for(r"Role [^\n]*\[db\]: ", 120); vm.sendline("")
        vm.wait_for(r"VLAN 10 \(management, 10\.0\.10\.0/24\) address/prefix: ", 120); vm.sendline("10.0.60.9/24")
        m = vm.wait_for(r"(outside VLAN 10's subnet 10\.0\.10\.0/24; try again)", 120)
        check("an address outside the VLAN is re-asked with the reason", m is not None)
        vm.wait_for(r"VLAN 10 [^\n]*address/prefix: ", 120); vm.sendline("10.0.10.99/24")
        # VLAN 10's gateway is not asked: the site says VLAN 10 has none for hosts (not the default VLAN)
        vm.wait_for(r"DNS servers [^\n]*\[10\.0\.50\.11\]: ", 120); vm.sendline("")
        vm.wait_for(r"NICs that form bond0 [^\n]*\]: ", 120)
        check("the NIC table lists the VM's NICs with driver and carrier",
              re.search(r"\n +\S+ +52:54:00:[0-9a-f:]{8} +virtio_net +yes ", vm.output) is not None)
        vm.sendline("")
        vm.wait_for(r"Root password [^\n]*: ", 120); vm.sendline(PASSWORD)
        vm.wait_for(r"Again: ", 120); vm.sendline(PASSWORD)
        vm.wait_for(r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", 1200)
        text = vm.output
        check("firstboot finished", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("the answers table says VLAN 10's address came from the prompt",
              re.search(r"vlan\.10\.address +10\.0\.10\.99/24 +prompt", text) is not None)
        check("the password never appeared on the console", PASSWORD not in text)
        vm.login(password=PASSWORD)
        check("root logs in with the password typed at the prompt", True)
        rc, o = vm.run("ip -br addr show bond0.10")
        check("bond0.10 has the typed address", "10.0.10.99/24" in o, o)
        rc, o = vm.run("cut -d: -f1,2 /etc/shadow | grep '^root:' | cut -c1-8")
        check("root's hash in /etc/shadow is SHA-512 crypt", o.strip() == "root:$6$", o)
        rc, o = vm.run("cat /var/lib/rackstack/status.json")
        try:
            st = json.loads(o)
        except ValueError:
            st = {}
        ans = {a.get("key"): a for a in st.get("answers", [])}
        check("status.json: vlan.10.address from the prompt, rootpw set (no hash)",
              ans.get("vlan.10.address", {}).get("source") == "prompt" and ans.get("rootpw", {}).get("value") == "set"
              and "$6$" not in o, o[-800:])
        rc, o = vm.run("stat -c %a /run/rackstack/ks.cfg; grep -c '^rootpw --iscrypted \\$6\\$' /run/rackstack/ks.cfg")
        check("the completed kickstart is root-only and holds the hash", o.split() == ["600", "1"], o)
finally:
    gw.kill()
sys.exit(check.summary())
PY
