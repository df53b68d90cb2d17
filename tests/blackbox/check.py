#!/usr/bin/env python3
"""Black-box checks of `partnerctl serve`, with a client that is not the project's.

Starts the real server (on the embedded store, then on DynamoDB through moto),
talks plain HTTP to it with Python's standard library, and checks what the API
documentation (docs/api.md, openapi.yaml) promises a site developer.
Usage: check.py PATH_TO_PARTNERCTL (MOTO_ENDPOINT set for the DynamoDB run).
Ends with "N passed, N failed".
"""

import concurrent.futures
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(sys.argv[1])
RESULTS = []

SEED = {
    "email": "partner@example.com",
    "name": "Jane Smith",
    "company": "Acme Inc",
    "website": "https://acme.com",
    "reason": "I have a large audience in the SaaS space",
}


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    mark = "PASS" if ok else "FAIL"
    print(f"  {mark}  {name}" + ("" if ok else f"\n        {detail}"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, key=None, body=None, raw=None, content_type="application/json", token=None):
    """One request; returns (status, content type, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if key is not None:
        request.add_header("x-api-key", key)
    if token is not None:
        request.add_header("authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("content-type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, headers, payload = err.code, err.headers, err.read()
    ctype = headers.get("content-type", "")
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return status, ctype, parsed


def call_from(source_ip, base, method, path, key=None, body=None):
    """One request from a chosen loopback address (the server's per-IP limits count
    by the connection's peer): returns (status, headers, parsed JSON)."""
    import http.client
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source_ip, 0))
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, response.headers, json.loads(payload) if payload else None
    finally:
        connection.close()


def is_problem(result, status, code=None):
    got_status, ctype, body = result
    return (
        got_status == status
        and ctype == "application/problem+json"
        and isinstance(body, dict)
        and body.get("status") == status
        and isinstance(body.get("code"), str)
        and (code is None or body["code"] == code)
    )


class Server:
    def __init__(self, args, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = [BIN, *args, "serve", "--addr", f"127.0.0.1:{self.port}"]
        self.env = env

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError("partnerctl serve did not start:\n" + self.log.read().decode(errors="replace"))

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.seek(0)
        self.output = self.log.read().decode(errors="replace")
        self.log.close()


class Receiver:
    """A webhook receiver on loopback: answers with the scripted statuses in order,
    then 200, and keeps every request (headers and raw body)."""

    def __init__(self, statuses=()):
        self.script = list(statuses)
        self.received = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, seconds=15):
        deadline = time.time() + seconds
        while len(self.received) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self):
        self.server.shutdown()


def webhook_suite(env):
    """Real signed webhooks from `partnerctl serve`, verified with the official
    Standard Webhooks library."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    label = "webhooks"
    print(f"\n{label}")
    env = dict(env, WEBHOOK_ALLOW_PRIVATE_TARGETS="true", WEBHOOK_RETRY_SCHEDULE="1,1,1", RUST_LOG="debug")
    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        app = partnerctl([*target, "--json", "apps", "create", "--name", "Webhooks"], env)
        token = partnerctl([*target, "--json", "token", "admin", "--app", app["appId"]], env)["token"]
        with Server(target, env) as server:
            base = server.base
            receiver = Receiver(statuses=[500, 500])
            status, _, endpoint = call(base, "POST", f"/v1/apps/{app['appId']}/webhooks", token=token,
                                       body={"url": receiver.url, "events": ["partner_application_approved"]})
            check(f"{label}: registering an endpoint -> 201 with a whsec_ secret",
                  status == 201 and endpoint.get("secret", "").startswith("whsec_"), (status, endpoint))
            status, _, listed = call(base, "GET", f"/v1/apps/{app['appId']}/webhooks", token=token)
            check(f"{label}: the listing never shows the secret",
                  status == 200 and "whsec_" not in json.dumps(listed), listed)
            _, _, applied = call(base, "POST", "/v1/affiliate/apply", app["apiKey"], SEED)
            review = f"/v1/apps/{app['appId']}/affiliates/applications/{applied['id']}/review"
            status, _, approved = call(base, "POST", review, body={"action": "approve", "code": "JANE20"}, token=token)
            received = receiver.wait_for(3)
            time.sleep(2.5)
            check(f"{label}: a receiver answering 500, 500, 200 gets exactly three attempts",
                  len(receiver.received) == 3, [h.get("webhook-id") for h, _ in receiver.received])
            ids = {headers.get("webhook-id") for headers, _ in received}
            check(f"{label}: every attempt has the same webhook-id", len(ids) == 1, ids)
            headers, body = received[-1]
            verifier = Webhook(endpoint["secret"])
            try:
                payload = verifier.verify(body, headers)
                verified = True
            except WebhookVerificationError as err:
                payload, verified = str(err), False
            check(f"{label}: the signature verifies with the official standardwebhooks library", verified, payload)
            check(f"{label}: the payload has the documented approved-event shape",
                  verified and payload["event"] == "partner_application_approved"
                  and payload["data"]["application"]["email"] == "partner@example.com"
                  and payload["data"]["affiliate"] == approved["affiliate"], payload)
            try:
                verifier.verify(body.replace(b"JANE20", b"EVIL20"), headers)
                tampered_refused = False
            except WebhookVerificationError:
                tampered_refused = True
            check(f"{label}: a tampered body fails verification", tampered_refused)
            status, _, log = call(base, "GET", f"/v1/apps/{app['appId']}/webhooks/{endpoint['id']}/deliveries", token=token)
            codes = [a.get("statusCode") for a in log["data"][0]["attempts"]] if status == 200 and log["data"] else []
            check(f"{label}: the delivery log shows 500, 500, 200", codes == [500, 500, 200], log)
            receiver.close()
        no_secrets_logged(label, server, [app["apiKey"], token, endpoint.get("secret", "")])

    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        strict = {k: v for k, v in env.items() if k != "WEBHOOK_ALLOW_PRIVATE_TARGETS"}
        app = partnerctl([*target, "--json", "apps", "create", "--name", "Strict"], strict)
        token = partnerctl([*target, "--json", "token", "admin", "--app", app["appId"]], strict)["token"]
        with Server(target, strict) as server:
            for url in ["http://169.254.169.254/latest", "http://10.0.0.1/", "http://127.0.0.1/", "http://[::1]/"]:
                result = call(server.base, "POST", f"/v1/apps/{app['appId']}/webhooks", token=token,
                              body={"url": url, "events": ["partner_application_approved"]})
                check(f"{label}: by default {url} is refused with 400", is_problem(result, 400), result)


def partnerctl(args, env):
    return json.loads(subprocess.check_output([BIN, *args], env=env))


def no_secrets_logged(label, server, secrets):
    """The server's whole output (debug logging on) holds none of the credentials."""
    leaked = [s[:12] + "…" for s in secrets if s and s in server.output]
    check(f"{label}: no API key, token or secret appears in the server's logs",
          not leaked and len(server.output) > 0, leaked)


def suite(label, target_args, env):
    print(f"\n{label}")
    env = dict(env, RUST_LOG="debug")
    app_a = partnerctl([*target_args, "--json", "apps", "create", "--name", "Black-box A"], env)
    app_b = partnerctl([*target_args, "--json", "apps", "create", "--name", "Black-box B"], env)
    key_a, key_b = app_a["apiKey"], app_b["apiKey"]
    with Server(target_args, env) as server:
        base = server.base

        status, ctype, body = call(base, "POST", "/v1/affiliate/apply", key_a, SEED)
        application_id = body.get("id") if isinstance(body, dict) else None
        check(
            f"{label}: the documented apply example -> 201 {{id, status: pending, message}}",
            status == 201 and ctype == "application/json" and body["status"] == "pending"
            and body["id"].startswith("apl_") and body["message"],
            (status, body),
        )
        result = call(base, "POST", "/v1/affiliate/apply", key_a, dict(SEED, email="PARTNER@Example.COM"))
        check(f"{label}: same email in another case -> 409 problem+json application_exists",
              is_problem(result, 409, "application_exists"), result)

        status, _, body = call(base, "GET", "/v1/affiliate/apply/status?email=partner%40example.com", key_a)
        check(f"{label}: status by email -> applied, pending",
              status == 200 and body.get("applied") is True and body.get("status") == "pending"
              and body.get("submittedAt"), (status, body))
        status, _, body = call(base, "GET", "/v1/affiliate/apply/status?email=stranger%40example.com", key_a)
        check(f"{label}: status of an unknown email -> {{applied: false}}",
              status == 200 and body == {"applied": False}, (status, body))
        status, _, body = call(base, "GET", "/v1/affiliate/by-customer/cust_123", key_a)
        check(f"{label}: by-customer of an unknown id -> {{enrolled: false}}",
              status == 200 and body == {"enrolled": False}, (status, body))

        result = call(base, "POST", "/v1/affiliate/apply", None, SEED)
        check(f"{label}: no API key -> 401", is_problem(result, 401, "unauthorized"), result)
        result = call(base, "POST", "/v1/affiliate/apply", "pk_live_" + "x" * 40, SEED)
        check(f"{label}: wrong API key -> 401", is_problem(result, 401, "unauthorized"), result)

        result = call(base, "POST", "/v1/affiliate/apply", key_a, {"email": "nope", "name": "Jane"})
        check(f"{label}: invalid email -> 400 naming email",
              is_problem(result, 400) and result[2].get("field") == "email", result)
        result = call(base, "POST", "/v1/affiliate/apply", key_a, {"email": "jane@example.com"})
        check(f"{label}: missing name -> 400 naming name",
              is_problem(result, 400) and result[2].get("field") == "name", result)
        result = call(base, "POST", "/v1/affiliate/apply", key_a, raw=b'{"email": "jane@example.com",')
        check(f"{label}: malformed JSON -> 400", is_problem(result, 400, "malformed_json"), result)
        big = json.dumps({"email": "big@example.com", "name": "Big", "reason": "x" * 200_000}).encode()
        result = call(base, "POST", "/v1/affiliate/apply", key_a, raw=big)
        check(f"{label}: a 200 KB body -> 413", is_problem(result, 413, "payload_too_large"), result)

        status, _, body = call(base, "GET", "/v1/affiliate/apply/status?email=partner%40example.com", key_b)
        check(f"{label}: another app's key never sees this app's application",
              status == 200 and body == {"applied": False}, (status, body))
        status, _, _ = call(base, "POST", "/v1/affiliate/apply", key_b, SEED)
        check(f"{label}: the same email may apply to another app", status == 201, status)

        def apply_once(n):
            email = "race@example.com" if n % 2 else "Race@Example.com"
            return call(base, "POST", "/v1/affiliate/apply", key_a, {"email": email, "name": f"Racer {n}"})[0]

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(apply_once, range(20)))
        check(f"{label}: 20 concurrent applies with one email -> one 201, nineteen 409",
              statuses.count(201) == 1 and statuses.count(409) == 19, statuses)

        token = partnerctl([*target_args, "--json", "token", "admin", "--app", app_a["appId"]], env)["token"]
        review = f"/v1/apps/{app_a['appId']}/affiliates/applications/{application_id}/review"
        result = call(base, "POST", review, body={"action": "approve", "code": "JANE20"})
        check(f"{label}: review without an admin token -> 401", is_problem(result, 401), result)
        other_token = partnerctl([*target_args, "--json", "token", "admin", "--app", app_b["appId"]], env)["token"]
        result = call(base, "POST", review, body={"action": "approve", "code": "JANE20"}, token=other_token)
        check(f"{label}: review with another app's admin token -> 403", is_problem(result, 403), result)
        status, _, body = call(base, "POST", review, body={"action": "approve", "code": "JANE20"}, token=token)
        customer = (body or {}).get("affiliate", {}).get("customer_id", "") if isinstance(body, dict) else ""
        check(f"{label}: approve with code JANE20 -> 200 with the partner's code and customer id",
              status == 200 and body["affiliate"]["code"] == "JANE20" and customer.startswith("cust_"), (status, body))
        status, _, body = call(base, "GET", f"/v1/affiliate/by-customer/{customer}", key_a)
        check(f"{label}: by-customer of the new partner -> enrolled, JANE20, active",
              status == 200 and body.get("enrolled") is True and body.get("code") == "JANE20"
              and body.get("status") == "active", (status, body))
        status, _, body = call(base, "GET", "/v1/affiliate/apply/status?email=partner%40example.com", key_a)
        check(f"{label}: status after approval -> approved", status == 200 and body.get("status") == "approved", body)
        result = call(base, "POST", review, body={"action": "reject", "rejectionReason": "No"}, token=token)
        check(f"{label}: a second review -> 409", is_problem(result, 409, "application_already_reviewed"), result)
        rate_limits(label, base, app_b)
    no_secrets_logged(label, server, [key_a, key_b, token, other_token])
    operations(label, target_args, env, app_a["appId"])


def rate_limited(result, policy):
    status, headers, body = result
    retry = headers.get("retry-after", "")
    return (
        status == 429 and isinstance(body, dict) and body.get("code") == "rate_limited"
        and retry.isdigit() and 1 <= int(retry) <= 60
        and headers.get("ratelimit-policy", "").startswith(f'"{policy}";q=')
        and headers.get("ratelimit", "") == f'"{policy}";r=0;t={retry}'
    )


def rate_limits(label, base, app):
    """The per-IP limits of a web page's key and of failed authentication, from
    distinct loopback addresses so they do not touch the other checks' 127.0.0.1."""
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)  # all of it inside one minute's window
    publishable = app["publishableKey"]
    results = [call_from("127.0.0.2", base, "POST", "/v1/affiliate/apply", publishable,
                         {"email": f"visitor{n}@example.com", "name": "Visitor"}) for n in range(11)]
    check(f"{label}: 10 applies with the publishable key from one IP inside a minute -> 201",
          [r[0] for r in results[:10]] == [201] * 10, [r[0] for r in results])
    check(f"{label}: the 11th -> 429 rate_limited with Retry-After and the RateLimit headers",
          rate_limited(results[10], "apply"), results[10][:1] + results[10][2:])
    result = call_from("127.0.0.3", base, "POST", "/v1/affiliate/apply", publishable,
                       {"email": "neighbour@example.com", "name": "Neighbour"})
    check(f"{label}: meanwhile another IP's apply -> 201", result[0] == 201, result[0])

    def garbage(n):
        return call_from("127.0.0.4", base, "GET", "/v1/affiliate/apply/status?email=a%40example.com",
                         "sk_live_" + os.urandom(16).hex())

    def tenant(n):
        return call_from("127.0.0.5", base, "GET", "/v1/affiliate/apply/status?email=a%40example.com",
                         app["apiKey"])[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        flood = pool.map(garbage, range(60))
        served = pool.map(tenant, range(20))
        flood, served = list(flood), list(served)
    statuses = [r[0] for r in flood]
    check(f"{label}: a flood of 60 random garbage keys from one IP -> 401s, then cut off with 429",
          set(statuses) == {401, 429} and statuses.count(401) <= 30
          and all(rate_limited(r, "failed-auth") for r in flood if r[0] == 429), statuses)
    check(f"{label}: meanwhile a valid key from another IP -> 20 x 200",
          served == [200] * 20, served)
    result = call_from("127.0.0.4", base, "GET", "/v1/affiliate/apply/status?email=a%40example.com", app["apiKey"])
    check(f"{label}: the flooding IP is refused even with a valid key until the minute ends",
          rate_limited(result, "failed-auth"), result[0])


def operations(label, target_args, env, app):
    """Operations from the command line go through the same commands as the API."""
    ctl = [*target_args, "--json"]
    pending = partnerctl([*ctl, "applications", "list", "--app", app, "--status", "pending"], env)
    check(f"{label}: partnerctl applications list --status pending -> the one racing applicant",
          len(pending) == 1 and pending[0]["email"] == "race@example.com", pending)
    racer = pending[0]["id"] if pending else "apl_missing"
    rejected = partnerctl([*ctl, "applications", "reject", "--app", app, racer, "--reason", "Not now"], env)
    check(f"{label}: partnerctl applications reject -> rejected with the reason",
          rejected["application"]["status"] == "rejected"
          and rejected["application"]["rejectionReason"] == "Not now", rejected)
    again = subprocess.run([BIN, *ctl, "applications", "approve", "--app", app, racer],
                           env=env, capture_output=True, text=True)
    check(f"{label}: partnerctl applications approve of a reviewed one fails and says why",
          again.returncode != 0 and "already been reviewed" in again.stderr, (again.returncode, again.stderr))
    partners = partnerctl([*ctl, "partners", "list", "--app", app], env)
    check(f"{label}: partnerctl partners list -> the partner JANE20",
          [p["code"] for p in partners] == ["JANE20"], partners)
    run = partnerctl([*ctl, "payouts", "run", "--app", app], env)
    check(f"{label}: partnerctl payouts run -> a completed run over the one partner",
          run["status"] == "completed" and run["partnersDone"] == 1 and run["payouts"] == 0, run)


def main():
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNER_")}
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(base_env)
        env.pop("TABLE_NAME", None)
        suite("embedded store", ["--data", data_dir], env)

    moto = os.environ.get("MOTO_ENDPOINT")
    if not moto:
        check("DynamoDB run: MOTO_ENDPOINT is set", False, "run through make test, which starts moto")
    else:
        env = dict(base_env, AWS_ENDPOINT_URL=moto, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", ADMIN_JWT_SECRET="black-box-admin-secret-of-40-bytes-ok!!")
        table = f"blackbox-{int(time.time() * 1000)}"
        partnerctl(["--table", table, "--json", "table", "create"], env)
        suite("DynamoDB (moto)", ["--table", table], env)

    webhook_suite({k: v for k, v in base_env.items() if k != "TABLE_NAME"})

    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"\n{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
