#!/usr/bin/env python3
"""The hosted partner portal in a real browser (headless Chromium via WebDriver).

Starts `partnerctl serve`, makes a partner with a branded app, a click, a referral
and a commission, opens a fresh portal link, checks the app's name, the code and
the balances, registers a deal through the form and sees it listed, checks the page
fits a phone screen, and that a tampered link shows the error page. Then browser
access (CORS): pages served from two loopback origins call the API with fetch(),
and only the origin in the app's allowedOrigins gets through. Then the admin
console: a login link, approving with a code, a bulk rejection, the partner under
Partners, a reused link, forms without the CSRF token or from another origin, a
phone-sized screen and a webhook replay reaching a local receiver. Screenshots go
to .test-artifacts/. Usage: browser.py PATH_TO_PARTNERCTL
"""

import http.server
import json
import os
import sys
import tempfile
import threading
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
import check  # noqa: E402  (the black-box helpers: Server, call, partnerctl)

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", ".test-artifacts")
RESULTS = check.RESULTS


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp()}", "--window-size=1280,1600",
    ]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# A site's page: applies with the publishable key and, given a session token, loads
# the partner's dashboard, writing each outcome (a status, the code, or "blocked"
# when the browser hides the answer: fetch throws a TypeError) into the page.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Partner program</title></head>
<body><h1>Join our partner program</h1>
<div>apply: <pre id="result"></pre></div>
<div>dashboard: <pre id="code"></pre></div>
<script>
const CONFIG = __CONFIG__;
async function attempt(request) {
  try {
    return await request();
  } catch (error) {
    return error instanceof TypeError ? "blocked" : "error: " + error;
  }
}
(async () => {
  document.getElementById("result").textContent = await attempt(async () => {
    const response = await fetch(CONFIG.base + "/v1/affiliate/apply", {
      method: "POST",
      headers: {"content-type": "application/json", "x-api-key": CONFIG.key},
      body: JSON.stringify({email: CONFIG.email, name: "Web Visitor"}),
    });
    return String(response.status);
  });
  document.getElementById("code").textContent = !CONFIG.session ? "none" : await attempt(async () => {
    const response = await fetch(CONFIG.base + "/v1/affiliate/dashboard", {
      headers: {"authorization": "Bearer " + CONFIG.session},
    });
    const body = await response.json();
    return response.ok ? body.affiliate.code : "status " + response.status;
  });
})();
</script></body></html>
"""


class Site:
    """One static page on its own loopback origin (a free port), served by a thread."""

    def __init__(self, html):
        page = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                found = self.path.split("?")[0] == "/"
                self.send_response(200 if found else 404)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page if found else b"not found")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def page(base, key, email, session=None):
    config = {"base": base, "key": key, "email": email, "session": session}
    # Inlined in a <script>: keep "</" out of it.
    return PAGE.replace("__CONFIG__", json.dumps(config).replace("</", "<\\/"))


def page_text(driver):
    """The page's visible text now, read in one script call."""
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def filled(driver, element_id, seconds=15):
    """The element's text once the page's script has written it."""
    return WebDriverWait(driver, seconds).until(lambda d: d.find_element(By.ID, element_id).text.strip())


def cors(env):
    """Browser access: a page on an allowed origin applies with the publishable key and
    reads the dashboard with a session token; a page on any other origin gets nothing
    back and writes nothing."""
    label = "browser access (CORS)"
    print(f"\n{label}")
    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        app = check.partnerctl([*target, "--json", "apps", "create", "--name", "Web"], env)
        token = check.partnerctl([*target, "--json", "token", "admin", "--app", app["appId"]], env)["token"]
        secret, publishable = app["apiKey"], app["publishableKey"]
        check.check(f"{label}: apps create gives a secret and a publishable key",
                    secret.startswith("sk_live_") and publishable.startswith("pk_live_"), app)
        with check.Server(target, env) as server:
            base = server.base
            call = check.call
            _, _, applied = call(base, "POST", "/v1/affiliate/apply", secret, {"email": "dash@example.com", "name": "Dana"})
            _, _, approved = call(base, "POST", f"/v1/apps/{app['appId']}/affiliates/applications/{applied['id']}/review",
                                  token=token, body={"action": "approve", "code": "WEB20"})
            _, _, session = call(base, "POST", "/v1/sessions", secret, {"customerId": approved["affiliate"]["customer_id"]})

            def applied_status(email):
                query = urllib.parse.urlencode({"email": email})
                return call(base, "GET", f"/v1/affiliate/apply/status?{query}", secret)

            allowed = Site(page(base, publishable, "web-a@example.com", session["token"]))
            other = Site(page(base, publishable, "web-b@example.com", session["token"]))
            driver = None
            try:
                status, _, settings = call(base, "PUT", f"/v1/apps/{app['appId']}/affiliates/settings", token=token,
                                           body={"allowedOrigins": [allowed.origin]})
                check.check(f"{label}: page A's origin is put in allowedOrigins",
                            status == 200 and settings.get("allowedOrigins") == [allowed.origin], (status, settings))

                driver = browser()
                driver.get(allowed.origin + "/")
                result = filled(driver, "result")
                check.check(f"{label}: a page on an allowed origin applies with the publishable key -> 201",
                            result == "201", result)
                status, _, body = applied_status("web-a@example.com")
                check.check(f"{label}: the allowed page's application exists",
                            status == 200 and body.get("applied") is True, (status, body))
                code = filled(driver, "code")
                check.check(f"{label}: the allowed page reads the dashboard with a session token",
                            code == "WEB20", code)
                driver.save_screenshot(os.path.join(ARTIFACTS, "cors-allowed.png"))

                driver.get(other.origin + "/")
                result = filled(driver, "result")
                check.check(f"{label}: a page on another origin cannot read the answer (fetch fails)",
                            result == "blocked", result)
                status, _, body = applied_status("web-b@example.com")
                check.check(f"{label}: the other origin's application was not written",
                            status == 200 and body == {"applied": False}, (status, body))
                code = filled(driver, "code")
                check.check(f"{label}: the other origin cannot read the dashboard either", code == "blocked", code)
                driver.save_screenshot(os.path.join(ARTIFACTS, "cors-blocked.png"))
            finally:
                if driver is not None:
                    driver.quit()
                allowed.close()
                other.close()


def console(env):
    """The admin console end to end in the browser."""
    label = "console"
    print(f"\n{label}")
    env = dict(env, WEBHOOK_ALLOW_PRIVATE_TARGETS="true")
    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        app = check.partnerctl([*target, "--json", "apps", "create", "--name", "Console"], env)
        app_id, key = app["appId"], app["apiKey"]
        token = check.partnerctl([*target, "--json", "token", "admin", "--app", app_id], env)["token"]
        receiver = check.Receiver()
        with check.Server(target, env) as server:
            base = server.base
            call = check.call
            call(base, "PUT", f"/v1/apps/{app_id}/affiliates/settings", token=token,
                 body={"branding": {"name": "Acme Analytics", "color": "#0f766e"}})
            ids = {}
            for email, name in [("jane@example.com", "Jane Smith"), ("bob@example.com", "Bob Stone"),
                                ("carol@example.com", "Carol King"), ("x@example.com", "<script>alert(1)</script>")]:
                ids[email] = call(base, "POST", "/v1/affiliate/apply", key, {"email": email, "name": name})[2]["id"]
            link = check.partnerctl([*target, "--json", "console", "--app", app_id, "--url", base], env)["url"]
            check.check(f"{label}: partnerctl console prints a login link", link.startswith(base + "/admin/login?token="), link)

            driver = browser()
            try:
                driver.get(link)
                driver.find_element(By.ID, "continue").click()
                WebDriverWait(driver, 15).until(expected_conditions.url_to_be(base + "/admin/applications"))
                check.check(f"{label}: the login link lands on the applications, without the token in the URL",
                      "token" not in driver.current_url, driver.current_url)
                check.check(f"{label}: the header shows the app's branding",
                      driver.find_element(By.ID, "brand-name").text == "Acme Analytics")
                table = driver.find_element(By.ID, "applications").text
                check.check(f"{label}: the pending tab lists the applications", "Jane Smith" in table and "Bob Stone" in table, table)
                check.check(f"{label}: a name with markup shows as text", "<script>alert(1)</script>" in table, table)

                driver.get(base + "/admin/webhooks")
                driver.find_element(By.NAME, "url").send_keys(receiver.url)
                driver.find_element(By.XPATH, "//button[text()='Add endpoint']").click()
                secret = WebDriverWait(driver, 15).until(
                    expected_conditions.presence_of_element_located((By.ID, "secret"))).text
                check.check(f"{label}: a new endpoint's secret is shown once", secret.startswith("whsec_"), secret)

                driver.get(base + "/admin/applications")
                driver.find_element(By.LINK_TEXT, "Jane Smith").click()
                driver.find_element(By.NAME, "code").send_keys("JANE20")
                driver.find_element(By.XPATH, "//button[text()='Approve']").click()
                WebDriverWait(driver, 15).until(expected_conditions.url_contains("done=approved"))
                check.check(f"{label}: approving with a code says so", "Application approved." in driver.page_source)

                driver.get(base + "/admin/applications")
                for email in ["bob@example.com", "carol@example.com"]:
                    driver.find_element(By.CSS_SELECTOR, f"input[name=ids][value='{ids[email]}']").click()
                driver.find_element(By.XPATH, "//button[text()='Reject selected']").click()
                results = WebDriverWait(driver, 15).until(
                    expected_conditions.presence_of_element_located((By.ID, "bulk-results"))).text
                check.check(f"{label}: bulk-rejecting two rejects both", results.count("rejected") == 2, results)
                for email in ["bob@example.com", "carol@example.com"]:
                    status = call(base, "GET", "/v1/affiliate/apply/status?email=" + email, key)[2]["status"]
                    check.check(f"{label}: {email} is rejected", status == "rejected", status)

                driver.get(base + "/admin/partners")
                partners = driver.find_element(By.ID, "partners").text
                check.check(f"{label}: the approved partner appears under Partners with its code", "JANE20" in partners, partners)
                driver.get(base + "/admin/applications?status=all")
                driver.save_screenshot(os.path.join(ARTIFACTS, "console.png"))

                # A replay from the delivery log reaches the receiver again.
                delivered = receiver.wait_for(3)
                check.check(f"{label}: the approval and both rejections were delivered", len(delivered) == 3, len(delivered))
                driver.get(base + "/admin/webhooks")
                driver.find_element(By.CSS_SELECTOR, "#endpoints a").click()
                driver.find_element(By.XPATH, "//button[text()='Replay']").click()
                WebDriverWait(driver, 15).until(expected_conditions.url_contains("done=replayed"))
                received = receiver.wait_for(4)
                earlier = {h.get("webhook-id") for h, _ in received[:3]}
                check.check(f"{label}: a replay from the delivery log reaches the receiver",
                            len(received) == 4 and received[-1][0].get("webhook-id") in earlier,
                            [h.get("webhook-id") for h, _ in received])

                # A form without the CSRF token, and one from another origin, change nothing.
                pending = ids["x@example.com"]
                driver.execute_script(
                    "var f=document.createElement('form');f.method='post';f.action=arguments[0];"
                    "var a=document.createElement('input');a.name='action';a.value='approve';f.appendChild(a);"
                    "document.body.appendChild(f);f.submit();",
                    f"/admin/applications/{pending}/review")
                WebDriverWait(driver, 15).until(lambda d: "refused" in d.page_source)
                check.check(f"{label}: a form without the CSRF token is refused", "This form was refused" in driver.page_source)
                csrf = None
                driver.get(base + "/admin/applications")
                csrf = driver.find_element(By.NAME, "csrf").get_attribute("value")
                hostile = Site(f"""<!doctype html><html><body><form id="f" method="post"
                    action="{base}/admin/applications/{pending}/review"><input name="csrf" value="{csrf}">
                    <input name="action" value="approve"></form><script>document.getElementById('f').submit()</script></body></html>""")
                try:
                    driver.get(hostile.origin + "/")
                    WebDriverWait(driver, 15).until(
                        lambda d: d.current_url.startswith(base) and "refused" in d.page_source)
                    check.check(f"{label}: a form posted from another origin is refused, even with the token",
                          "This form was refused" in driver.page_source, driver.page_source[:300])
                finally:
                    hostile.close()
                status = call(base, "GET", "/v1/affiliate/apply/status?email=x@example.com", key)[2]["status"]
                check.check(f"{label}: the application those forms aimed at is still pending", status == "pending", status)

                driver.set_window_size(390, 844)
                for path in ["/admin/applications?status=all", "/admin/partners", "/admin/settings", "/admin/webhooks"]:
                    driver.get(base + path)
                    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                    check.check(f"{label}: {path} fits a phone screen", overflow <= 0, overflow)
                driver.get(base + "/admin/applications?status=all")
                driver.save_screenshot(os.path.join(ARTIFACTS, "console-phone.png"))
                driver.set_window_size(1280, 900)

                # The used link, in a browser with no session, opens nothing.
                driver.delete_all_cookies()
                driver.get(link)
                driver.find_element(By.ID, "continue").click()
                # The post navigates while we look: read the page in one script call
                # (an element found on the old page and read on the new one fails).
                WebDriverWait(driver, 15, ignored_exceptions=[WebDriverException]).until(
                    lambda d: "not valid" in page_text(d))
                text = page_text(driver)
                check.check(f"{label}: the reused login link shows an error and no data",
                      "not valid" in text and "JANE20" not in driver.page_source and "jane@" not in driver.page_source, text)
            finally:
                driver.quit()
                receiver.close()


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNER_", "TABLE_NAME"))}
    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        app = check.partnerctl([*target, "--json", "apps", "create", "--name", "Browser"], env)
        token = check.partnerctl([*target, "--json", "token", "admin", "--app", app["appId"]], env)["token"]
        key = app["apiKey"]
        with check.Server(target, env) as server:
            base = server.base
            call = check.call
            call(base, "PUT", f"/v1/apps/{app['appId']}/affiliates/settings", token=token, body={
                "branding": {"name": "Acme Analytics", "color": "#0f766e", "websiteUrl": "https://acme.example/pricing"}})
            _, _, applied = call(base, "POST", "/v1/affiliate/apply", key, {"email": "jane@example.com", "name": "Jane Smith"})
            _, _, approved = call(base, "POST", f"/v1/apps/{app['appId']}/affiliates/applications/{applied['id']}/review",
                                  token=token, body={"action": "approve", "code": "JANE20"})
            customer = approved["affiliate"]["customer_id"]
            call(base, "POST", "/v1/affiliate/track", key, {"code": "JANE20", "url": "https://acme.example/", "visitorId": "v1"})
            call(base, "POST", "/v1/affiliate/referrals", key, {"customerId": "cust_buyer", "code": "JANE20"})
            call(base, "POST", "/v1/affiliate/revenue", key, {"eventId": "pay_1", "customerId": "cust_buyer", "amount": 99.0,
                                                               "currency": "usd", "type": "payment"})
            _, _, session = call(base, "POST", "/v1/sessions", key, {"customerId": customer})
            request = check.urllib.request.Request(base + "/v1/affiliate/portal-link",
                                                   headers={"authorization": f"Bearer {session['token']}"})
            with check.urllib.request.urlopen(request) as response:
                link = json.load(response)
            check.check("portal-link is an absolute URL on the server", link["url"].startswith(base + "/portal?token="), link)

            driver = browser()
            try:
                driver.get(link["url"])
                heading = driver.find_element(By.TAG_NAME, "h1").text
                check.check("the portal shows the app's name", heading == "Acme Analytics", heading)
                code = driver.find_element(By.ID, "code").text
                check.check("the portal shows the partner's code", code == "JANE20", code)
                earned = driver.find_element(By.ID, "total-earned").text
                check.check("the portal shows the balance", earned == "19.80 USD", earned)
                link_value = driver.find_element(By.ID, "link").get_attribute("value")
                check.check("the referral link is the app's site with the code",
                            link_value == "https://acme.example/pricing?ref=JANE20", link_value)
                driver.save_screenshot(os.path.join(ARTIFACTS, "portal.png"))

                driver.find_element(By.ID, "leadName").send_keys("Ada Lovelace")
                driver.find_element(By.ID, "leadEmail").send_keys("ada@example.com")
                driver.find_element(By.ID, "notes").send_keys("Met at a conference")
                driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
                # The form posts, then redirects back to the portal: wait for that page.
                WebDriverWait(driver, 15).until(expected_conditions.url_contains("notice="))
                deals = WebDriverWait(driver, 15).until(
                    expected_conditions.presence_of_element_located((By.ID, "deals"))).text
                check.check("a deal registered through the form is listed", "Ada Lovelace" in deals, deals)
                check.check("the page confirms the registration", "Deal registered" in driver.page_source)

                driver.set_window_size(390, 844)
                driver.get(link["url"])
                overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                check.check("the portal fits a phone screen", overflow <= 0, overflow)
                driver.save_screenshot(os.path.join(ARTIFACTS, "portal-phone.png"))

                driver.set_window_size(1280, 900)
                driver.get(link["url"] + "x")
                text = driver.find_element(By.TAG_NAME, "body").text
                check.check("a tampered link shows the error page and no partner data",
                            "not valid" in text and "JANE20" not in driver.page_source, text)
                driver.save_screenshot(os.path.join(ARTIFACTS, "portal-invalid.png"))
            finally:
                driver.quit()

    cors(env)
    console(env)

    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"\n{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
