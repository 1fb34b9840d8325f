"""The Debian package installs into a fresh Debian 12 root and its service answers /health.

Slow (a full package build, a debootstrap of bookworm and an apt install: several
minutes) and it needs root and the network to the Debian mirror, so it is skipped unless
DD_TEST_DEB=1 (docs/OPERATIONS.md gives the command). What it does:

1. `make deb` into a build directory (DD_DEB_BUILD, default a new temporary directory).
2. `nice -n 19 debootstrap --variant=minbase bookworm` into a new directory under
   /var/tmp, from DD_DEB_MIRROR (default http://deb.debian.org/debian).
3. `apt-get install /tmp/<package>.deb` inside the root (chroot, with /proc, /sys and
   /dev mounted), so the package's dependencies resolve from the mirror; checks dpkg
   records it installed and that the unit file, config file and binary are in place.
4. Starts the installed service and asserts GET /health answers {"status": "ok"}, in
   one of two modes (DD_TEST_DEB_MODE):
   - "nspawn" (the default): installs systemd in the root, enables the unit and boots the
     root with `systemd-nspawn --boot --register=no --keep-unit` (sharing the host's
     network); systemd inside the root starts the unit itself, with its DynamicUser,
     StateDirectory and sandboxing options. The port comes from a drop-in
     (Environment=IOTDEFENDER_PORT=<free port>), so the packaged unit and config stay as
     they are. Also checks that the state directory systemd made belongs to the unit's
     dynamic user (/var/lib/private/iotdefender, mode 0700, not root's) and holds the
     credentials file the service wrote on its first start; after the answer the
     container is shut down through nspawn (SIGTERM: an orderly shutdown) and /health no
     longer answers.
   - "chroot", for a host where nspawn cannot boot a container: runs the unit's ExecStart
     line, read from the installed unit file, inside the chroot as an unprivileged uid
     standing in for the DynamicUser, with the StateDirectory made as systemd would (its
     mode, owned by that uid) and IOTDEFENDER_PORT set; systemd's sandboxing options are
     not applied in this mode.
5. Stops the service (SIGTERM to it, or to nspawn), unmounts everything and
   removes the root and the build directory it created.
"""
import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from ddserver import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENABLED = os.environ.get("DD_TEST_DEB") == "1"
MIRROR = os.environ.get("DD_DEB_MIRROR", "http://deb.debian.org/debian")
MODE = os.environ.get("DD_TEST_DEB_MODE", "nspawn")
# The uid standing in for the unit's DynamicUser= (the first of systemd's dynamic range).
DYNAMIC_UID = 61184


def run(args, timeout=3600, **kw):
    """Runs a command, failing with its output when it fails."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, **kw)
    if p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(args), p.returncode,
                                                    p.stdout.decode(errors="replace")[-6000:]))
    return p.stdout.decode(errors="replace")


def health(port, deadline_s):
    """GET /health until it answers 200 or the deadline passes; the parsed body or None."""
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=2) as r:
                if r.status == 200:
                    return json.loads(r.read())
        except OSError:
            pass
        time.sleep(0.25)
    return None


def unit_settings(text):
    """The [Service] settings of a unit file as a dict (last assignment wins)."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@unittest.skipUnless(ENABLED, "slow, needs root and the Debian mirror: run with DD_TEST_DEB=1")
class DebInstall(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (debootstrap, chroot, mounts)")
        # the tools, from Debian's packages when missing
        need = [pkg for tool, pkg in (("debootstrap", "debootstrap"), ("systemd-nspawn", "systemd-container"))
                if not shutil.which(tool) and (pkg != "systemd-container" or MODE == "nspawn")]
        if need:
            run(["apt-get", "install", "-y", "-q"] + need, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        self.mounts = []
        self.proc = None
        self.nspawn = None
        self.own_build = not os.environ.get("DD_DEB_BUILD")
        self.build = os.environ.get("DD_DEB_BUILD") or tempfile.mkdtemp(prefix="dd-deb-build-", dir="/var/tmp")
        self.work = tempfile.mkdtemp(prefix="dd-deb-root-", dir="/var/tmp")
        self.root = os.path.join(self.work, "root")

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()
        if getattr(self, "log", None):
            self.log.close()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # nothing of the host may still be mounted below the root before it is removed
        with open("/proc/mounts") as f:
            left = [ln.split()[1] for ln in f if ln.split()[1].startswith(self.work)]
        self.assertEqual(left, [], "mounts left below the root")
        shutil.rmtree(self.work, ignore_errors=True)
        if self.own_build:
            shutil.rmtree(self.build, ignore_errors=True)

    def chroot(self, *args, timeout=1800):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"}
        return run(["chroot", self.root] + list(args), timeout=timeout, env=env)

    def mount(self, *args):
        target = args[-1]
        run(["mount"] + list(args))
        self.mounts.append(target)

    def test_deb_installs_and_serves_health(self):
        t0 = time.time()
        # 1. the package
        run(["make", "-C", ROOT, "deb", "DEB_BUILD=" + self.build, "JOBS=2"])
        debs = glob.glob(os.path.join(self.build, "*.deb"))
        self.assertEqual(len(debs), 1, debs)
        deb = debs[0]
        t_build = time.time()

        # 2. a fresh Debian 12 root
        run(["nice", "-n", "19", "debootstrap", "--variant=minbase", "bookworm", self.root, MIRROR])
        with open(os.path.join(self.root, "etc", "debian_version")) as f:
            self.assertTrue(f.read().startswith("12."))
        t_root = time.time()

        # 3. install with apt, so that the dependencies resolve from the mirror
        shutil.copy("/etc/resolv.conf", os.path.join(self.root, "etc", "resolv.conf"))
        self.mount("-t", "proc", "proc", os.path.join(self.root, "proc"))
        self.mount("-t", "sysfs", "sysfs", os.path.join(self.root, "sys"))
        self.mount("--bind", "/dev", os.path.join(self.root, "dev"))
        shutil.copy(deb, os.path.join(self.root, "tmp"))
        self.chroot("apt-get", "update", "-q")
        self.chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                    "/tmp/" + os.path.basename(deb))
        status = self.chroot("dpkg-query", "-W", "-f=${Status} ${Version}", "iotdefender")
        self.assertTrue(status.startswith("install ok installed"), status)
        unit_path = os.path.join(self.root, "lib", "systemd", "system", "iotdefender.service")
        with open(unit_path) as f:
            unit = unit_settings(f.read())
        self.assertTrue(os.path.exists(os.path.join(self.root, "etc", "iotdefender", "iotdefender.conf")))
        self.assertTrue(os.access(os.path.join(self.root, "usr", "bin", "iotdefender"), os.X_OK))
        t_install = time.time()

        # 4. start the service and ask /health
        port = free_port()
        self.assertIn(MODE, ("nspawn", "chroot"))
        if MODE == "nspawn":
            answer = self.start_nspawn(port)
        else:
            answer = self.start_chroot(unit, port)
        self.assertEqual(answer, {"status": "ok"})
        t_health = time.time()
        print("\ndeb install: package %.0f s, debootstrap %.0f s, apt install %.0f s, /health %.1f s "
              "(%s); total %.0f s" % (t_build - t0, t_root - t_build, t_install - t_root, t_health - t_install,
                                      "systemd-nspawn --boot" if MODE == "nspawn" else "ExecStart in chroot",
                                      t_health - t0))

        # 5. a clean stop
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(timeout=30), 0, self.read_log())
        if self.nspawn:
            # nspawn turns SIGTERM into an orderly shutdown of the booted system
            self.nspawn.send_signal(signal.SIGTERM)
            self.assertEqual(self.nspawn.wait(timeout=120), 0, self.read_log())
            self.assertIsNone(health(port, 1))

    def start_chroot(self, unit, port):
        """Runs the unit's ExecStart in the chroot as the DynamicUser stand-in."""
        self.assertEqual(unit.get("DynamicUser"), "yes")
        state = unit.get("StateDirectory", "iotdefender")
        state_dir = "/var/lib/" + state
        host_state = os.path.join(self.root, state_dir.lstrip("/"))
        os.makedirs(host_state, exist_ok=True)
        os.chown(host_state, DYNAMIC_UID, DYNAMIC_UID)
        os.chmod(host_state, int(unit.get("StateDirectoryMode", "0755"), 8))
        exec_start = unit["ExecStart"].replace("${STATE_DIRECTORY}", state_dir)
        argv = shlex.split(exec_start)
        self.assertTrue(argv[0].startswith("/"), argv)
        env = {"PATH": "/usr/bin:/bin", "STATE_DIRECTORY": state_dir, "IOTDEFENDER_PORT": str(port),
               "LANG": "C.UTF-8"}
        self.log_path = os.path.join(self.work, "serve.log")
        self.log = open(self.log_path, "ab")
        umask = int(unit.get("UMask", "0022"), 8)
        self.proc = subprocess.Popen(["chroot", "--userspec=%d:%d" % (DYNAMIC_UID, DYNAMIC_UID), self.root] + argv,
                                     env=env, stdout=self.log, stderr=self.log, preexec_fn=lambda: os.umask(umask))
        answer = health(port, 30)
        if answer is None:
            self.fail("no /health answer; exit %s; log:\n%s" % (self.proc.poll(), self.read_log()))
        # the state the service made is its own
        creds = os.path.join(host_state, "credentials")
        self.assertTrue(os.path.exists(creds))
        self.assertEqual(os.stat(creds).st_uid, DYNAMIC_UID)
        return answer

    def start_nspawn(self, port):
        """Boots the root with systemd-nspawn; systemd starts the enabled unit."""
        self.chroot("apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd", "systemd-sysv", "dbus")
        self.chroot("systemctl", "enable", "iotdefender.service")
        dropin = os.path.join(self.root, "etc", "systemd", "system", "iotdefender.service.d")
        os.makedirs(dropin, exist_ok=True)
        with open(os.path.join(dropin, "port.conf"), "w") as f:
            f.write("[Service]\nEnvironment=IOTDEFENDER_PORT=%d\n" % port)
        for m in reversed(self.mounts):
            run(["umount", m])
        self.mounts = []
        self.log_path = os.path.join(self.work, "nspawn.log")
        self.log = open(self.log_path, "ab")
        self.nspawn = subprocess.Popen(["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--quiet",
                                        "-D", self.root], stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        answer = health(port, 180)
        if answer is None:
            self.fail("no /health answer from the booted container; log:\n%s" % self.read_log())
        # systemd made the state directory for the unit's dynamic user
        state = os.path.join(self.root, "var", "lib", "private", "iotdefender")
        st = os.stat(state)
        self.assertNotEqual(st.st_uid, 0)
        self.assertEqual(st.st_mode & 0o777, 0o700)
        self.assertTrue(os.path.exists(os.path.join(state, "credentials")))
        return answer

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""


if __name__ == "__main__":
    unittest.main()
