"""The console in a real browser (Debian's chromium, headless, through chromium-driver and
selenium): seed 000's lab end to end. Sign in; enable all checks and create the audit role
in Settings; Run audit now; open Results, the audit, the device-certificate-shared check
and its resources (a client id of `<img src=x onerror=alert(1)>` shows as text); create an
UPDATE_DEVICE_CERTIFICATE mitigation action with "Create role"; Start mitigation actions
from the audit; watch the task reach COMPLETED in Action executions; see the certificate
INACTIVE on its page. Controls are found by their visible names and roles. Screenshots go
to docs/console/ when DD_SCREENSHOTS=1, else to a temporary directory."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

from auditfleet import post_events
from ddserver import Server

try:
    import selenium  # noqa: F401
except ImportError:  # Debian's python3-selenium, when python3 is not Debian's
    sys.path.append("/usr/lib/python3/dist-packages")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

XSS = "<img src=x onerror=alert(1)>"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SKIP = None
if not CHROMIUM or not DRIVER:
    SKIP = "chromium and chromium-driver are not installed (scripts/setup.sh installs them)"
elif not HAVE_SELENIUM:
    SKIP = "python3-selenium is not installed (scripts/setup.sh installs it)"


def lab_fleet(srv):
    """Seed 000's fleet: two smart locks sharing one certificate (online at once, and a
    third client whose id is markup), a device with its own certificate, logging off."""
    iot = srv.client("iot")
    for name in ("smart-lock-1", "smart-lock-2", "thermostat"):
        iot.create_thing(thingName=name)
    shared = iot.create_keys_and_certificate(setAsActive=True)
    own = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_thing_principal(thingName="smart-lock-1", principal=shared["certificateArn"])
    iot.attach_thing_principal(thingName="smart-lock-2", principal=shared["certificateArn"])
    iot.attach_thing_principal(thingName="thermostat", principal=own["certificateArn"])
    t = int(time.time() * 1000) - 3600 * 1000
    events = [
        {"event": "connect", "clientId": "smart-lock-1", "certificateId": shared["certificateId"], "timestamp": t},
        {"event": "connect", "clientId": "smart-lock-2", "certificateId": shared["certificateId"], "timestamp": t + 60000},
        {"event": "connect", "clientId": XSS, "certificateId": shared["certificateId"], "timestamp": t + 120000},
        {"event": "connect", "clientId": "thermostat", "certificateId": own["certificateId"], "timestamp": t},
    ]
    status, body = post_events(srv, events)
    assert status == 200, (status, body)
    return shared["certificateId"], own["certificateId"]


class BrowserCase(unittest.TestCase):
    """A server (with SERVER_ARGS) and a headless chromium, and ways to find what the user sees."""
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=cls.SERVER_ARGS).start()
        cls.shared_cert, cls.own_cert = lab_fleet(cls.srv)
        if os.environ.get("DD_SCREENSHOTS") == "1":
            cls.shots = os.path.join(ROOT, "docs", "console")
            cls.own_shots = False
        else:
            cls.shots = tempfile.mkdtemp(prefix="ddconsole-shots-")
            cls.own_shots = True
        os.makedirs(cls.shots, exist_ok=True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        # reduced motion: Cloudscape then adds and removes notifications without sliding
        # the page under a click (a click that lands mid-slide hits whatever moved there)
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,900", "--disable-extensions", "--no-first-run",
                  "--force-prefers-reduced-motion",
                  "--user-data-dir=" + tempfile.mkdtemp(prefix="ddchrome-")):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        cls.profile = [a for a in opts.arguments if a.startswith("--user-data-dir=")][0].split("=", 1)[1]
        cls.d = webdriver.Chrome(service=Service(DRIVER), options=opts)
        cls.d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                              {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        cls.d.set_page_load_timeout(60)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.quit()
        finally:
            shutil.rmtree(cls.profile, ignore_errors=True)
            cls.srv.cleanup()
            print("console screenshots in", cls.shots, file=sys.stderr)

    # ---- finding things by what the user sees ----------------------------------------
    def wait(self, fn, timeout=60, msg=""):
        def safe(_):
            try:
                return fn()
            except StaleElementReferenceException:
                return False
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.2).until(safe, msg)
        except Exception:
            self.shot("failed")
            with open(os.path.join(self.shots, "failed.html"), "w") as f:
                f.write(self.d.page_source)
            raise

    def visible(self, xpath):
        els = [e for e in self.d.find_elements(By.XPATH, xpath) if e.is_displayed()]
        return els[0] if els else None

    @staticmethod
    def settled(el):
        """el once it has held its place for 100 ms (None before): the page still moving
        (a re-layout after a window resize, content loading above it) would move it from
        under the click."""
        if el is None:
            return None
        before = el.rect
        time.sleep(0.1)
        return el if el.rect == before else None

    def button(self, name, timeout=60):
        xp = "//*[self::button or @role='button'][normalize-space(.)=%s]" % json.dumps(name)
        def enabled():
            e = self.visible(xp)
            return self.settled(e if e is not None and e.is_enabled() else None)
        return self.wait(enabled, timeout, "button " + name)

    def click_button(self, name):
        self.button(name).click()

    def link(self, text, timeout=60):
        xp = "//a[normalize-space(.)=%s]" % json.dumps(text)
        return self.wait(lambda: self.settled(self.visible(xp)), timeout, "link " + text)

    def field(self, label):
        xp = "//input[@aria-label=%s]" % json.dumps(label)
        return self.wait(lambda: self.visible(xp), 60, "field " + label)

    def fill(self, label, value):
        el = self.field(label)
        el.clear()
        el.send_keys(value)

    FIND_TRIGGER = """
        const want = arguments[0];
        for (const b of document.querySelectorAll('button[aria-haspopup]')) {
            if (!b.offsetParent) continue;
            if (b.getAttribute('aria-label') === want) return b;
            const ids = (b.getAttribute('aria-labelledby') || '').split(/\\s+/);
            for (const id of ids) {
                const el = id && document.getElementById(id);
                if (el && el.textContent.trim() === want) return b;
            }
        }
        return null;"""

    def trigger(self, label):
        """The select (or multiselect) whose accessible name includes label."""
        return self.wait(lambda: self.d.execute_script(self.FIND_TRIGGER, label), 60, "select " + label)

    def open_form(self, button, label, tries=3, field=False):
        """Clicks button until the form's select named label (its text field, with field)
        shows: a click that lands while the page re-renders after a notification (the
        Create or Delete just before) is lost."""
        xp = "//input[@aria-label=%s]" % json.dumps(label)

        def shown():
            try:
                return self.visible(xp) if field else self.d.execute_script(self.FIND_TRIGGER, label)
            except StaleElementReferenceException:
                return None
        for _ in range(tries - 1):
            self.click_button(button)
            deadline = time.time() + 10
            while time.time() < deadline:
                if shown():
                    return
                time.sleep(0.2)
        self.click_button(button)
        if field:
            self.field(label)
        else:
            self.trigger(label)

    def choose(self, label, option):
        """Opens the select (or multiselect) named label and picks the option."""
        self.trigger(label).click()
        opt = self.wait(lambda: self.visible("//*[@role='option' and .//*[normalize-space(text())=%s]]"
                                             % json.dumps(option)), 60, "option " + option)
        opt.click()

    def options_of(self, label):
        trigger = self.trigger(label)
        trigger.click()
        time.sleep(0.3)
        texts = [e.text for e in self.d.find_elements(By.XPATH, "//*[@role='option']") if e.is_displayed()]
        trigger.click()
        return texts

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def see(self, s, timeout=60):
        self.wait(lambda: s in self.text(), timeout, "text " + s)

    def heading(self, s, timeout=60):
        xp = "//*[self::h1 or self::h2][contains(normalize-space(.), %s)]" % json.dumps(s)
        return self.wait(lambda: self.visible(xp), timeout, "heading " + s)

    def nav(self, text):
        xp = "//nav//a[normalize-space(.)=%s]" % json.dumps(text)
        self.wait(lambda: self.settled(self.visible(xp)), 60, "nav " + text).click()

    def shot(self, name):
        """Saves the whole page (up to 1800 px high) as name.png."""
        h = self.d.execute_script("return document.documentElement.scrollHeight") or 900
        if h > 900:
            self.d.set_window_size(1280, min(h + 140, 1800))
            time.sleep(0.3)
        self.d.save_screenshot(os.path.join(self.shots, name + ".png"))
        if h > 900:
            self.d.set_window_size(1280, 900)

    def no_alert(self):
        try:
            a = self.d.switch_to.alert
            text = a.text
            a.dismiss()
            self.fail("a script ran: alert(%r)" % text)
        except NoAlertPresentException:
            pass

    def sign_in(self):
        self.d.get(self.srv.url + "/console/")
        self.heading("Sign in")
        self.fill("Access key ID", self.srv.key(0)["aws_access_key_id"])
        self.fill("Secret access key", self.srv.key(0)["aws_secret_access_key"])
        self.click_button("Sign in")
        self.heading("Dashboard")


@unittest.skipIf(SKIP, SKIP or "")
class ConsoleBrowserTest(BrowserCase):
    # ---- the lab ---------------------------------------------------------------------
    def test_1_seed_000_lab(self):
        d, srv = self.d, self.srv
        iot = srv.client("iot")
        key = srv.key(0)

        # sign in
        d.get(srv.url + "/console/")
        self.heading("Sign in")
        self.shot("signin")
        self.fill("Access key ID", key["aws_access_key_id"])
        self.fill("Secret access key", key["aws_secret_access_key"])
        self.click_button("Sign in")
        self.heading("Dashboard")
        self.see("Account " + srv.key(0)["account_id"])
        # the secret is nowhere in the page's storage
        stored = d.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie")
        self.assertNotIn(key["aws_secret_access_key"], stored)
        self.assertNotIn("dd_console", stored)  # HttpOnly: invisible to scripts

        # Defend › Audit › Settings: Create role, Enable all, Save
        self.nav("Settings")
        self.heading("Checks")
        self.see("DEVICE_CERTIFICATE_SHARED_CHECK")
        self.click_button("Create role")
        self.fill("Role name", "AuditRole")
        self.click_button("Create")
        self.wait(lambda: "AuditRole" in self.trigger("Audit role").text, 60, "role chosen")
        self.click_button("Enable all")
        self.shot("settings")
        self.click_button("Save")
        self.see("Audit settings saved.")
        cfg = iot.describe_account_audit_configuration()
        self.assertTrue(cfg["roleArn"].endswith(":role/AuditRole"), cfg["roleArn"])
        checks = cfg["auditCheckConfigurations"]
        self.assertGreaterEqual(len(checks), 17)
        self.assertTrue(all(v["enabled"] for v in checks.values()), checks)
        attached = srv.client("iam").list_attached_role_policies(RoleName="AuditRole")["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached],
                         ["arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"])

        # Run audit now, from Results; the audit page follows its progress by itself
        self.nav("Results")
        self.heading("Audit results")
        self.click_button("Run audit now")
        self.see("COMPLETED", timeout=120)
        audit_id = d.current_url.rstrip("/").split("/")[-1]
        task = iot.describe_audit_task(taskId=audit_id)
        self.assertEqual(task["taskStatus"], "COMPLETED")
        self.assertEqual(task["taskStatistics"]["totalChecks"], len(checks))
        self.heading("Non-compliant checks")

        # Results: the audit is listed, with its non-compliant checks count
        self.nav("Results")
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)=%s]]" % json.dumps(audit_id)), 60, "audit row")
        self.assertIn("COMPLETED", row.text)
        self.assertIn("On demand", row.text)
        self.assertIn(str(task["taskStatistics"]["nonCompliantChecks"]), row.text)
        self.shot("results")
        self.link(audit_id).click()
        self.heading("Non-compliant checks")
        nc_row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)='Device certificate shared']]"), 60, "check row")
        self.assertIn("CRITICAL", nc_row.text)
        self.assertIn("1", nc_row.text)
        self.see("Logging disabled")
        self.shot("audit")

        # the device-certificate-shared check and its resources
        self.link("Device certificate shared").click()
        self.heading("Device certificate shared")
        self.link("Certificate " + self.shared_cert)
        self.see("Client ID smart-lock-1")
        self.see("Client ID " + XSS)  # markup in a client id shows as text
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "img[src='x']"), [])
        self.no_alert()
        self.assertNotIn(self.own_cert, self.text())
        self.shot("check")

        # Mitigation actions › Create: UPDATE_DEVICE_CERTIFICATE with Create role
        self.nav("Mitigation actions")
        self.heading("Mitigation actions")
        self.click_button("Create")
        self.heading("Create a new mitigation action")
        self.fill("Action name", "DeactivateSharedCert")
        self.choose("Action type", "Update device certificate")
        self.see("Needs iot:UpdateCertificate.")
        self.click_button("Create role")
        self.fill("Role name", "UpdateCertRole")
        self.click_button("Create")
        self.wait(lambda: "UpdateCertRole" in self.trigger("Action execution role").text, 60, "role chosen")
        self.shot("mitigation-action-create")
        self.click_button("Save")
        self.see("Mitigation action DeactivateSharedCert created.")
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)='DeactivateSharedCert']]"), 60, "action row")
        self.assertIn("UPDATE_DEVICE_CERTIFICATE", row.text)
        self.assertIn("role/UpdateCertRole", row.text)
        self.shot("mitigation-actions")
        ma = iot.describe_mitigation_action(actionName="DeactivateSharedCert")
        self.assertEqual(ma["actionParams"], {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        pol = srv.client("iam").get_role_policy(RoleName="UpdateCertRole", PolicyName="UpdateCertRolePolicy")
        doc = pol["PolicyDocument"]
        if isinstance(doc, str):
            doc = json.loads(doc)
        self.assertEqual([s["Action"] for s in doc["Statement"]], [["iot:UpdateCertificate"]])

        # a field error shows next to the field, nothing is saved
        self.open_form("Create", "Action name", field=True)
        self.fill("Action name", "bad name!")
        self.choose("Action type", "Update device certificate")
        self.choose("Action execution role", "UpdateCertRole")
        self.click_button("Save")
        err = self.wait(lambda: self.visible("//label[normalize-space(.)='Action name']/ancestor::*[contains(., 'actionName')]"
                                             "[1][contains(., 'regular expression')][not(contains(., 'Action type'))]"),
                        30, "error next to Action name")
        self.assertTrue(err.is_displayed())
        names = [a["actionName"] for a in iot.list_mitigation_actions()["actionIdentifiers"]]
        self.assertEqual(names, ["DeactivateSharedCert"])

        # Start mitigation actions from the audit result
        d.get(srv.url + "/console/audit/results/" + audit_id)
        self.click_button("Start mitigation actions")
        self.heading("Start mitigation actions")
        self.assertEqual(self.field("Task name").get_attribute("value"), audit_id)
        # only the actions valid for each check are offered
        self.assertIn("DeactivateSharedCert", " ".join(self.options_of("Actions for DEVICE_CERTIFICATE_SHARED_CHECK")))
        self.assertNotIn("DeactivateSharedCert", " ".join(self.options_of("Actions for LOGGING_DISABLED_CHECK")))
        self.choose("Actions for DEVICE_CERTIFICATE_SHARED_CHECK", "DeactivateSharedCert")
        self.shot("start-mitigation")
        self.click_button("Confirm")
        self.heading("Statistics")
        self.see("COMPLETED", timeout=120)
        mt = iot.describe_audit_mitigation_actions_task(taskId=audit_id)
        self.assertEqual(mt["taskStatus"], "COMPLETED")
        self.assertEqual(mt["taskStatistics"]["DEVICE_CERTIFICATE_SHARED_CHECK"]["succeededFindingsCount"], 1)
        # its executions
        self.wait(lambda: self.visible("//tr[contains(., 'DeactivateSharedCert') and contains(., 'COMPLETED')]"), 60, "execution")
        self.shot("mitigation-task")

        # Action executions: the task, COMPLETED
        self.nav("Action executions")
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)=%s]]" % json.dumps(audit_id)), 60, "task row")
        self.wait(lambda: "COMPLETED" in row.text, 60, "task completed")
        self.shot("action-executions")

        # the certificate is INACTIVE on its page
        d.get(srv.url + "/console/audit/results/%s/DEVICE_CERTIFICATE_SHARED_CHECK" % audit_id)
        self.link("Certificate " + self.shared_cert).click()
        self.heading("Certificate " + self.shared_cert)
        self.see("INACTIVE")
        self.link("smart-lock-2")
        self.shot("certificate")
        self.link("smart-lock-1").click()
        self.heading("Thing smart-lock-1")
        self.link(self.shared_cert)
        self.assertEqual(iot.describe_certificate(certificateId=self.shared_cert)["certificateDescription"]["status"],
                         "INACTIVE")
        self.assertEqual(iot.describe_certificate(certificateId=self.own_cert)["certificateDescription"]["status"],
                         "ACTIVE")

        # the dashboard: the last audit by severity
        self.nav("Dashboard")
        self.heading("Last audit")
        self.see("Audit " + audit_id)
        self.see("CRITICAL")
        self.link("Device certificate shared")
        self.shot("dashboard")

        # the region menu: calls carry the chosen region (whatever the store scopes by it)
        self.click_button("us-east-1")
        self.wait(lambda: self.visible("//*[@role='menuitem' and normalize-space(.)='eu-west-1']"), 60, "region").click()
        self.nav("Results")
        self.heading("Audit results")
        self.wait(lambda: self.d.execute_script(
            "return performance.getEntriesByType('resource').some(e => e.name.includes('ListAuditTasks?region=eu-west-1'))"),
            30, "a call in eu-west-1")
        self.click_button("eu-west-1")
        self.wait(lambda: self.visible("//*[@role='menuitem' and normalize-space(.)='us-east-1']"), 60, "region").click()
        self.link(audit_id)

        # sign out: the console is closed again
        self.click_button("Sign out")
        self.heading("Sign in")
        d.get(srv.url + "/console/audit/results")
        self.heading("Sign in")
        self.no_alert()
        severe = [l for l in d.get_log("browser") if l["level"] == "SEVERE" and "Content Security Policy" in l["message"]]
        self.assertEqual(severe, [])

    def test_2_schedules_and_suppressions(self):
        d, srv = self.d, self.srv
        iot = srv.client("iot")
        if not iot.describe_account_audit_configuration().get("roleArn"):
            self.skipTest("needs the audit settings made by test_1")
        self.sign_in()

        # Schedules › Create: weekly, all enabled checks
        self.nav("Schedules")
        self.heading("Schedules")
        self.click_button("Create")
        self.heading("Available checks")
        self.see("Device certificate shared")
        self.choose("Recurrence", "Weekly")
        self.fill("Name", "WeeklyAudit")
        self.choose("Day of week", "TUE")
        self.shot("schedule-create")
        self.click_button("Create")
        self.see("Schedule WeeklyAudit created.")
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)='WeeklyAudit']]"), 60, "schedule row")
        self.assertIn("WEEKLY", row.text)
        self.assertIn("TUE", row.text)
        s = iot.describe_scheduled_audit(scheduledAuditName="WeeklyAudit")
        self.assertEqual((s["frequency"], s["dayOfWeek"]), ("WEEKLY", "TUE"))
        enabled = [k for k, v in iot.describe_account_audit_configuration()["auditCheckConfigurations"].items()
                   if v["enabled"]]
        self.assertEqual(sorted(s["targetCheckNames"]), sorted(enabled))
        self.shot("schedules")

        # edit: monthly; a bad day of month is the API's error next to the field, nothing saved
        self.link("WeeklyAudit").click()
        self.heading("Edit schedule")
        self.wait(lambda: "Weekly" in self.trigger("Recurrence").text, 60, "loaded")
        self.choose("Recurrence", "Monthly")
        self.fill("Day of month", "99")
        self.click_button("Save")
        self.wait(lambda: self.visible("//label[normalize-space(.)='Day of month']/ancestor::*[contains(., 'dayOfMonth')][1]"
                                       "[not(contains(., 'Recurrence'))]"), 60, "error next to Day of month")
        self.assertEqual(iot.describe_scheduled_audit(scheduledAuditName="WeeklyAudit")["frequency"], "WEEKLY")
        self.fill("Day of month", "15")
        self.click_button("Save")
        self.see("Schedule WeeklyAudit updated.")
        s = iot.describe_scheduled_audit(scheduledAuditName="WeeklyAudit")
        self.assertEqual((s["frequency"], s["dayOfMonth"]), ("MONTHLY", "15"))

        # Create › Run audit now (once) › Create starts an audit at once
        self.click_button("Create")
        self.heading("Available checks")
        self.see("Device certificate shared")
        self.click_button("Create")
        self.see("COMPLETED", timeout=120)
        once = d.current_url.rstrip("/").split("/")[-1]
        self.assertEqual(iot.describe_audit_task(taskId=once)["taskType"], "ON_DEMAND_AUDIT_TASK")

        # delete the schedule, with confirmation
        self.nav("Schedules")
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)='WeeklyAudit']]"), 60, "schedule row")
        row.find_element(By.XPATH, ".//input").click()
        self.click_button("Delete")
        self.see("Delete WeeklyAudit?")
        dialog = self.wait(lambda: self.visible("//*[@role='dialog']"), 60, "dialog")
        dialog.find_element(By.XPATH, ".//button[normalize-space(.)='Delete']").click()
        self.see("Deleted WeeklyAudit.")
        self.assertEqual(iot.list_scheduled_audits()["scheduledAudits"], [])

        # Finding suppressions: create, edit, delete
        self.nav("Finding suppressions")
        self.heading("Finding suppressions")
        self.open_form("Create", "Check")
        self.choose("Check", "Device certificate key quality")
        self.choose("Resource identifier type", "Device certificate ID")
        self.fill("Resource identifier", self.own_cert)
        d.find_element(By.XPATH, "//label[.//*[normalize-space(.)='Suppress indefinitely']] | "
                                 "//*[normalize-space(text())='Suppress indefinitely']").click()
        self.fill("Description", "lab thermostat")
        self.shot("suppression-create")
        dialog = self.wait(lambda: self.visible("//*[@role='dialog']"), 60, "dialog")
        dialog.find_element(By.XPATH, ".//button[normalize-space(.)='Create']").click()
        self.see("Suppression saved.")
        row = self.wait(lambda: self.visible("//tr[contains(., 'lab thermostat')]"), 60, "suppression row")
        self.assertIn("Indefinitely", row.text)
        self.assertIn(self.own_cert, row.text)
        self.shot("suppressions")
        sup = iot.list_audit_suppressions()["suppressions"]
        self.assertEqual(len(sup), 1)
        self.assertEqual(sup[0]["resourceIdentifier"], {"deviceCertificateId": self.own_cert})
        self.assertTrue(sup[0]["suppressIndefinitely"])
        row.find_element(By.XPATH, ".//input").click()
        self.click_button("Edit")
        self.fill("Description", "lab thermostat, reviewed")
        dialog = self.wait(lambda: self.visible("//*[@role='dialog']"), 60, "dialog")
        dialog.find_element(By.XPATH, ".//button[normalize-space(.)='Save']").click()
        self.see("lab thermostat, reviewed")
        self.assertEqual(iot.list_audit_suppressions()["suppressions"][0]["description"], "lab thermostat, reviewed")
        row = self.wait(lambda: self.visible("//tr[contains(., 'lab thermostat, reviewed')]"), 60, "row")
        if not row.find_element(By.XPATH, ".//input").is_selected():
            row.find_element(By.XPATH, ".//input").click()
        self.click_button("Delete")
        dialog = self.wait(lambda: self.visible("//*[@role='dialog']"), 60, "dialog")
        dialog.find_element(By.XPATH, ".//button[normalize-space(.)='Delete']").click()
        self.see("Suppression deleted.")
        self.assertEqual(iot.list_audit_suppressions()["suppressions"], [])

        # Mitigation actions: ADD_THINGS_TO_THING_GROUP's own form, edit, delete
        iot.create_thing_group(thingGroupName="Quarantine")
        self.nav("Mitigation actions")
        self.open_form("Create", "Action name", field=True)
        self.fill("Action name", "QuarantineThings")
        self.choose("Action type", "Add things to thing group")
        self.choose("Thing groups", "Quarantine")
        d.find_element(By.XPATH, "//*[normalize-space(text())='Override dynamic groups']").click()
        self.see("Needs iot:ListPrincipalThings, iot:AddThingToThingGroup.")
        self.click_button("Create role")
        self.fill("Role name", "QuarantineRole")
        self.click_button("Create")
        self.wait(lambda: "QuarantineRole" in self.trigger("Action execution role").text, 60, "role chosen")
        self.click_button("Save")
        self.see("Mitigation action QuarantineThings created.")
        ma = iot.describe_mitigation_action(actionName="QuarantineThings")
        self.assertEqual(ma["actionParams"], {"addThingsToThingGroupParams": {
            "thingGroupNames": ["Quarantine"], "overrideDynamicGroups": True}})
        doc = srv.client("iam").get_role_policy(RoleName="QuarantineRole", PolicyName="QuarantineRolePolicy")["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        self.assertEqual([s["Action"] for s in doc["Statement"]], [["iot:ListPrincipalThings", "iot:AddThingToThingGroup"]])
        # edit: the name cannot change; clear Override dynamic groups
        self.link("QuarantineThings").click()
        self.heading("Edit mitigation action")
        self.wait(lambda: self.field("Action name").get_attribute("value") == "QuarantineThings", 60, "loaded")
        self.assertFalse(self.field("Action name").is_enabled())
        d.find_element(By.XPATH, "//*[normalize-space(text())='Override dynamic groups']").click()
        self.click_button("Save")
        self.see("Mitigation action QuarantineThings updated.")
        ma = iot.describe_mitigation_action(actionName="QuarantineThings")
        self.assertFalse(ma["actionParams"]["addThingsToThingGroupParams"]["overrideDynamicGroups"])
        # delete, with confirmation
        row = self.wait(lambda: self.visible("//tr[.//a[normalize-space(.)='QuarantineThings']]"), 60, "action row")
        row.find_element(By.XPATH, ".//input").click()
        self.click_button("Delete")
        # the dialog is visible before its text is rendered: wait for the text
        dialog = self.wait(lambda: (lambda e: e if e is not None and "QuarantineThings" in e.text else None)(
            self.visible("//*[@role='dialog']")), 60, "dialog naming QuarantineThings")
        self.assertIn("QuarantineThings", dialog.text)
        dialog.find_element(By.XPATH, ".//button[normalize-space(.)='Delete']").click()
        self.see("Deleted QuarantineThings.")
        self.assertNotIn("QuarantineThings", [a["actionName"] for a in iot.list_mitigation_actions()["actionIdentifiers"]])
        self.no_alert()


@unittest.skipIf(SKIP, SKIP or "")
class RunningAuditTest(BrowserCase):
    """With no audit workers an audit stays queued: its page shows it in progress, the
    dashboard lists it as running, and Cancel audit ends it without a reload."""
    SERVER_ARGS = ("--audit-workers", "0")

    def test_running_audit_and_cancel(self):
        srv = self.srv
        iot = srv.client("iot")
        role = srv.client("iam").create_role(RoleName="AuditRole", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        srv.client("iam").attach_role_policy(
            RoleName="AuditRole", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit")
        iot.update_account_audit_configuration(roleArn=role, auditCheckConfigurations={
            "DEVICE_CERTIFICATE_SHARED_CHECK": {"enabled": True}, "LOGGING_DISABLED_CHECK": {"enabled": True}})
        self.sign_in()
        self.nav("Results")
        self.click_button("Run audit now")
        self.see("IN_PROGRESS")
        audit_id = self.d.current_url.rstrip("/").split("/")[-1]
        self.see("0 of 2 checks done")
        self.shot("audit-running")
        self.nav("Dashboard")
        self.link("Audit " + audit_id).click()
        self.click_button("Cancel audit")
        self.see("CANCELED")
        self.assertEqual(iot.describe_audit_task(taskId=audit_id)["taskStatus"], "CANCELED")
        self.assertIsNone(self.visible("//button[normalize-space(.)='Start mitigation actions']"))
        self.no_alert()


if __name__ == "__main__":
    unittest.main()
