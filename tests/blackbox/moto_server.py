#!/usr/bin/env python3
"""moto's server, with DynamoDB requests handled one at a time.

moto serves requests on threads and does not isolate DynamoDB operations from each
other, so two concurrent conditional transactions on the same item can both
succeed there. DynamoDB itself never allows that (transactions are serialisable),
and the tests that race 20 applies or 8 approvals check exactly this guarantee. So
DynamoDB requests take a lock here; everything else (SQS long polls, EventBridge)
stays concurrent. Usage: moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

DYNAMODB = threading.Lock()
moto = DomainDispatcherApplication(create_backend_app)


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with DYNAMODB:
            # Consume the whole response inside the lock.
            return list(moto(environ, start_response))
    return moto(environ, start_response)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)
