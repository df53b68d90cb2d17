"""Schemathesis hooks: each operation gets the credential it needs (the app's API
key, an admin JWT for /v1/apps/..., a partner's session token for the session
routes), and `{appId}` is the app those credentials belong to, so generated requests
reach the handlers instead of stopping at authentication."""

import os

import schemathesis

APP_ID = os.environ["ST_APP_ID"]
API_KEY = os.environ["ST_API_KEY"]
ADMIN_TOKEN = os.environ["ST_ADMIN_TOKEN"]
SESSION_TOKEN = os.environ["ST_SESSION_TOKEN"]
SESSION_ROUTES = ("/v1/affiliate", "/v1/affiliate/dashboard", "/v1/affiliate/portal-link", "/v1/affiliate/deals")


@schemathesis.auth()
class Credentials:
    def get(self, case, context):
        return True

    def set(self, case, data, context):
        path = case.operation.path
        case.headers = case.headers or {}
        if path.startswith("/v1/apps/"):
            case.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        elif path in SESSION_ROUTES:
            case.headers["Authorization"] = f"Bearer {SESSION_TOKEN}"
        elif not path.startswith("/portal"):
            case.headers["x-api-key"] = API_KEY


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if path_parameters and "appId" in path_parameters:
        path_parameters["appId"] = APP_ID
    return path_parameters
