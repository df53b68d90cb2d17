#!/usr/bin/env python3
"""moto's server, with DynamoDB requests handled one at a time.

moto serves requests on threads and does not isolate DynamoDB operations from each
other, so two concurrent conditional transactions on the same item can both
succeed there. DynamoDB itself never allows that (transactions are serialisable),
and the tests that race 20 applies or 8 approvals check exactly this guarantee. So
DynamoDB requests take a lock here; everything else (SQS long polls, EventBridge)
stays concurrent.

moto also backs up a table for a transaction's rollback once per *operation* of the
transaction, so a 100-operation transaction on a table of a thousand items spent
seconds copying it. Here the backup is made once per table per transaction (what
moto means to do; the rollback is unchanged).

And moto ignores a transaction's `ClientRequestToken`. DynamoDB does not: a
transaction sent again with the same token within ten minutes (an SDK retry after
a time-out whose first attempt did commit) answers success without running again.
The code relies on that, so the tests need it. Usage: moto_server.py HOST PORT
"""

import copy
import json
import sys
import threading
import time

import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.responses as dynamodb_responses

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

DYNAMODB = threading.Lock()


class _TableBackupOncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB models: while a
    transaction runs, a table deep-copied for its backup is copied only once."""

    backups = None

    def deepcopy(self, obj, memo=None):
        if self.backups is not None and isinstance(obj, dynamodb_models.Table):
            if id(obj) not in self.backups:
                self.backups[id(obj)] = copy.deepcopy(obj)
            return self.backups[id(obj)]
        return copy.deepcopy(obj, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


_backup = _TableBackupOncePerTransaction()
dynamodb_models.copy = _backup
_transact = dynamodb_models.DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    _backup.backups = {}
    try:
        return _transact(self, transact_items)
    finally:
        _backup.backups = None


dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items

# Committed transactions by client token: (their items, when).
_COMMITTED = {}
_IDEMPOTENCY_SECONDS = 600
_handle_transaction = dynamodb_responses.DynamoHandler.transact_write_items


def _transact_write_items_once_per_token(self):
    token = self.body.get("ClientRequestToken")
    items = json.dumps(self.body["TransactItems"], sort_keys=True)
    now = time.time()
    if token is not None:
        for old in [t for t, (_, at) in _COMMITTED.items() if now - at > _IDEMPOTENCY_SECONDS]:
            del _COMMITTED[old]
        seen = _COMMITTED.get(token)
        if seen is not None and seen[0] == items:
            return dynamodb_responses.ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
    result = _handle_transaction(self)
    if token is not None:
        _COMMITTED[token] = (items, now)
    return result


dynamodb_responses.DynamoHandler.transact_write_items = _transact_write_items_once_per_token
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
