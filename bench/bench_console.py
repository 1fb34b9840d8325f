#!/usr/bin/env python3
"""bench_console: how fast the console's results pages open over an audit with N findings
(default 100,000) in headless chromium.

Builds the audit as bench_mitigation does (one short-lived device certificate cloned in the
store into N, then DEVICE_CERTIFICATE_EXPIRING_CHECK: N+1 findings), signs in to the
console, then times, from navigation to the rows being on screen: Audit › Results (the
audit list), the audit's page, the check's page (its first page of findings) and the next
page of findings. The target is under 2 s for each; the figures are printed, not asserted.

Usage: bench_console.py [N]   (IOTDEFENDER_BIN selects the binary)"""
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))

from ddserver import Server  # noqa: E402
from mitig_fleet import Certs, device_cert  # noqa: E402
from auditfleet import audit_role, enable, wait_task  # noqa: E402
from bench_mitigation import clone_certificates  # noqa: E402

try:
    import selenium  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        chromium = None
    if not chromium or not os.path.exists(driver):
        print("bench_console: skipped (chromium, chromium-driver or python3-selenium missing)")
        return 0
    if not os.environ.get("IOTDEFENDER_BIN"):
        os.environ["IOTDEFENDER_BIN"] = os.path.join(HERE, "..", "build", "iotdefender")
    import ddserver
    ddserver.BIN = os.environ["IOTDEFENDER_BIN"]
    srv = Server()
    certs = Certs()
    profile = tempfile.mkdtemp(prefix="ddchrome-")
    d = None
    try:
        srv.start()
        device_cert(srv, certs, days=5)
        enable(srv, audit_role(srv), ["DEVICE_CERTIFICATE_EXPIRING_CHECK"])
        srv.stop()
        clone_certificates(os.path.join(srv.data_dir, "iotdefender.db"), n)
        srv.start()
        iot = srv.client("iot")
        task = iot.start_on_demand_audit_task(targetCheckNames=["DEVICE_CERTIFICATE_EXPIRING_CHECK"])["taskId"]
        wait_task(srv, task, timeout=1800)
        count = iot.describe_audit_task(taskId=task)["auditDetails"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]
        print("bench_console: audit %s with %d non-compliant resources" % (task, count["nonCompliantResourcesCount"]))

        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,900", "--user-data-dir=" + profile):
            opts.add_argument(a)
        d = webdriver.Chrome(service=Service(driver), options=opts)
        # the table is re-rendered while it is read: a row found stale is looked up again
        wait = WebDriverWait(d, 120, poll_frequency=0.02, ignored_exceptions=(StaleElementReferenceException,))
        d.get(srv.url + "/console/")
        wait.until(lambda _: d.find_elements(By.XPATH, "//input[@aria-label='Access key ID']"))
        d.find_element(By.XPATH, "//input[@aria-label='Access key ID']").send_keys(srv.key(0)["aws_access_key_id"])
        d.find_element(By.XPATH, "//input[@aria-label='Secret access key']").send_keys(srv.key(0)["aws_secret_access_key"])
        d.find_element(By.XPATH, "//button[normalize-space(.)='Sign in']").click()
        wait.until(lambda _: "Dashboard" in d.find_element(By.TAG_NAME, "body").text)

        def timed(label, path, xpath):
            t0 = time.time()
            if path:
                d.get(srv.url + path)
            wait.until(lambda _: d.find_elements(By.XPATH, xpath))
            dt = time.time() - t0
            print("bench_console: %-34s %.2f s (target < 2 s)" % (label, dt))

        timed("Audit results (audit list)", "/console/audit/results", "//tr//a[normalize-space(.)='%s']" % task)
        timed("audit page", "/console/audit/results/" + task,
              "//tr//a[normalize-space(.)='Device certificate expiring']")
        check = "/console/audit/results/%s/DEVICE_CERTIFICATE_EXPIRING_CHECK" % task
        timed("check page (first 50 findings)", check, "(//tbody/tr)[50]//a[starts-with(., 'Certificate ')]")
        first = d.find_element(By.XPATH, "(//tbody/tr)[1]").text
        t0 = time.time()
        d.find_element(By.XPATH, "//button[@aria-label='Next page']").click()
        wait.until(lambda _: d.find_element(By.XPATH, "(//tbody/tr)[1]").text != first)
        print("bench_console: %-34s %.2f s" % ("next page of findings", time.time() - t0))
        return 0
    finally:
        if d:
            d.quit()
        shutil.rmtree(profile, ignore_errors=True)
        srv.cleanup()
        certs.cleanup()


if __name__ == "__main__":
    sys.exit(main())
