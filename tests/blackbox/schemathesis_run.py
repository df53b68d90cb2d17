#!/usr/bin/env python3
"""Runs Schemathesis over every operation of openapi.yaml against a real
`partnerctl serve`, with working credentials (see schemathesis_hooks.py): no
server errors, and every response as the description says (status codes, content
types, schemas). Usage: schemathesis_run.py PATH_TO_PARTNERCTL MAX_EXAMPLES
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    max_examples = sys.argv[2] if len(sys.argv) > 2 else "10"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNER_", "TABLE_NAME"))}
    # Schemathesis sends many requests without valid credentials on purpose; the
    # failed-authentication limit (its own checks are in check.py) would otherwise
    # turn the rest of each minute into 429s and leave the schema untested.
    env["FAILED_AUTH_LIMIT_PER_MINUTE"] = "1000000"
    with tempfile.TemporaryDirectory() as data_dir:
        target = ["--data", data_dir]
        app = check.partnerctl([*target, "--json", "apps", "create", "--name", "Schemathesis"], env)
        token = check.partnerctl([*target, "--json", "token", "admin", "--app", app["appId"]], env)["token"]
        with check.Server(target, env) as server:
            base = server.base
            # A partner, so the session routes have someone to show.
            _, _, applied = check.call(base, "POST", "/v1/affiliate/apply", app["apiKey"], {"email": "st@example.com", "name": "St"})
            _, _, approved = check.call(base, "POST", f"/v1/apps/{app['appId']}/affiliates/applications/{applied['id']}/review",
                                        token=token, body={"action": "approve", "code": "SCHEMA1"})
            _, _, session = check.call(base, "POST", "/v1/sessions", app["apiKey"], {"customerId": approved["affiliate"]["customer_id"]})
            run_env = dict(env, ST_APP_ID=app["appId"], ST_API_KEY=app["apiKey"], ST_ADMIN_TOKEN=token,
                           ST_SESSION_TOKEN=session["token"], SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=HERE)
            result = subprocess.run(
                [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", os.path.join(HERE, "..", "..", "openapi.yaml"),
                 "--url", base, "--max-examples", max_examples, "--checks", "all",
                 "--exclude-checks", "ignored_auth,positive_data_acceptance,missing_required_header,unsupported_method",
                 "--generation-deterministic", "--no-color", "--suppress-health-check", "all"],
                env=run_env, cwd=HERE,
            )
            sys.exit(result.returncode)


if __name__ == "__main__":
    main()
