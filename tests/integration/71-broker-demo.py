"""`iotdefender demo --broker`: three real MQTT devices on the real broker, the shared
certificate found by an audit of their connections, deactivated by the seed's mitigation,
both devices disconnected and refused on reconnect, the third still connected."""
import os
import shutil
import subprocess
import tempfile
import unittest

from ddserver import BIN, store_env
from broker_helpers import SKIP


@unittest.skipIf(SKIP or not shutil.which("mosquitto_sub"),
                 SKIP or "mosquitto_sub is not installed (scripts/setup.sh installs mosquitto-clients)")
class BrokerDemoTest(unittest.TestCase):
    def test_demo_broker(self):
        tmp = tempfile.mkdtemp(prefix="ddbrokerdemo-")
        try:
            d = os.path.join(tmp, "demo")
            env = dict(os.environ)
            env["PATH"] = env.get("PATH", "") + ":/usr/sbin"
            p = subprocess.run([BIN, "demo", "--broker", "--data-dir", d], capture_output=True, text=True,
                               timeout=300, env=store_env(d, env))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            out = p.stdout
            for want in ("sensor-1: connected", "sensor-2: connected", "sensor-3: connected",
                         "Certificate shared by one or more devices.", "used by client sensor-1",
                         "used by client sensor-2", "is INACTIVE", "sensor-1 disconnected by the broker",
                         "sensor-2 disconnected by the broker", "recorded reason AUTH_ERROR",
                         "sensor-1 reconnected and was refused", "sensor-2 reconnected and was refused",
                         "sensor-3 (its own certificate) is still connected"):
                self.assertIn(want, out)
            # a second run replaces the demo directory; a foreign directory is refused
            foreign = os.path.join(tmp, "foreign")
            os.mkdir(foreign)
            p = subprocess.run([BIN, "demo", "--broker", "--data-dir", foreign], capture_output=True, text=True,
                               timeout=60, env=store_env(foreign, env))
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("was not made by the broker demo", p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
