#!/usr/bin/env python3
"""`cargo lambda watch` smoke test: the functions run as Lambda processes on the
Runtime API emulator, with API Gateway's paths (the router in Cargo.toml), sharing
one embedded store, and accept the admin tokens `partnerctl` mints from the same data
directory. Usage: lambda_smoke.py PATH_TO_PARTNERCTL (cargo-lambda on PATH)
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import check  # noqa: E402

RESULTS = check.RESULTS


def wait_for(base, key, seconds=600):
    """The first request compiles the function; wait for it."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, _, body = check.call(base, "GET", "/v1/affiliate/apply/status?email=first%40example.com", key)
            if status in (200, 401):
                return status, body
        except OSError:
            pass
        time.sleep(2)
    return None, None


def main():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNER_", "TABLE_NAME"))}
    with tempfile.TemporaryDirectory() as data_dir:
        app = check.partnerctl(["--data", data_dir, "--json", "apps", "create", "--name", "Watch"], env)
        token = check.partnerctl(["--data", data_dir, "--json", "token", "admin", "--app", app["appId"]], env)["token"]
        port = check.free_port()
        log = tempfile.TemporaryFile()
        watch = subprocess.Popen(
            ["cargo", "lambda", "watch", "-A", "127.0.0.1", "-P", str(port)],
            env=dict(env, PARTNER_DATA_DIR=data_dir), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            status, body = wait_for(base, app["apiKey"])
            check.check("cargo lambda watch serves the status function on its API Gateway path", status == 200, (status, body))
            status, _, applied = check.call(base, "POST", "/v1/affiliate/apply", app["apiKey"],
                                            {"email": "partner@example.com", "name": "Jane Smith"})
            check.check("apply answers 201 under cargo lambda watch", status == 201, (status, applied))
            _, _, seen = check.call(base, "GET", "/v1/affiliate/apply/status?email=partner%40example.com", app["apiKey"])
            check.check("another function process sees the application (one shared store)",
                        seen.get("status") == "pending", seen)
            review = f"/v1/apps/{app['appId']}/affiliates/applications/{applied.get('id')}/review"
            status, _, approved = check.call(base, "POST", review, body={"action": "approve", "code": "JANE20"}, token=token)
            check.check("the admin function accepts partnerctl's admin token", status == 200, (status, approved))
            customer = (approved or {}).get("affiliate", {}).get("customer_id", "cust_x")
            _, _, partner = check.call(base, "GET", f"/v1/affiliate/by-customer/{customer}", app["apiKey"])
            check.check("by-customer sees the new partner", partner.get("code") == "JANE20", partner)
            status, _, body = check.call(base, "GET", f"/lambda-url/by-customer/v1/affiliate/by-customer/{customer}", app["apiKey"])
            check.check("the /lambda-url/<function>/ form works too", status == 200 and body.get("enrolled") is True, body)
            for _ in range(5):
                check.call(base, "POST", "/v1/affiliate/track", "pk_live_" + "g" * 40,
                           {"code": "JANE20", "url": "https://example.com/"})
            log.seek(0)
            lines = [line for line in log.read().decode(errors="replace").splitlines() if "request_id" in line]
            # A Lambda serves one request at a time, so its log's round trips are exact.
            trips = [int(m.group(1)) for line in lines if "/v1/affiliate/track" in line and "status=401" in line
                     for m in [re.search(r"round_trips=(\d+)", line)] if m]
            check.check("a repeated garbage key costs one store read per instance (then only the "
                        "failed-authentication counter)",
                        len(trips) == 5 and trips[0] == trips[1] + 1 and len(set(trips[1:])) == 1
                        and trips[1] <= 1, trips)
            applied_lines = [line for line in lines if "/v1/affiliate/apply" in line and "status=201" in line
                             and app["appId"] in line]
            check.check("each function logs the request line a Lambda writes (request id, route, status, app)",
                        len(applied_lines) == 1, lines[-10:])
            leaked = [line for line in lines
                      if app["apiKey"] in line or token in line or "example.com" in line]
            check.check("no key, token or email in the request lines", lines and not leaked, leaked)
        finally:
            os.killpg(watch.pid, signal.SIGTERM)
            try:
                watch.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(watch.pid, signal.SIGKILL)
            if any(not ok for _, ok in RESULTS):
                log.seek(0)
                print(log.read().decode(errors="replace")[-4000:])
    passed = sum(1 for _, ok in RESULTS if ok)
    print(f"\n{passed} passed, {len(RESULTS) - passed} failed")
    sys.exit(0 if passed == len(RESULTS) else 1)


if __name__ == "__main__":
    main()
