"""A small receiver of TechScreen's job webhooks: verify, dedupe, acknowledge, then process.

Run it beside the service (it needs only Flask and standardwebhooks, both in requirements.txt):

    WEBHOOK_SECRET=whsec_... PORT=9000 .venv/bin/python examples/webhook_receiver.py

WEBHOOK_SECRET is the API key's signing secret, printed once by
``flask --app app api-keys set-webhook KEY_ID`` (which needs WEBHOOK_ENCRYPTION_KEY, a Fernet
key; docs/jobs-and-webhooks.md, "Webhooks"). The receiver listens on 127.0.0.1 (HOST) and PORT (default 9000) at
POST /hooks/techscreen. To send a job's webhook here, start the service with the same
WEBHOOK_ENCRYPTION_KEY and the loopback address allow-listed (the SSRF guard refuses it
otherwise, and allows plain http only for allow-listed hosts):

    WEBHOOK_ALLOWED_HOSTS=127.0.0.1 make run
    curl -s -X POST http://127.0.0.1:8000/api/interview/jd/enhance \
      -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -H "Prefer: respond-async" \
      -d '{"req_id": "REQ-HOOK-1", "basic_title": "Data Engineer",
           "basic_description": "Build data pipelines with dbt and Snowflake.",
           "callback_url": "http://127.0.0.1:9000/hooks/techscreen"}'

What it does, in order:

1. Verifies the signature over the **raw body bytes** with ``standardwebhooks.Webhook(secret)
   .verify(body, headers)`` (HMAC-SHA256 of ``webhook-id.webhook-timestamp.body``; a timestamp
   more than 5 minutes from now is refused too). Never parse and re-serialise the JSON first:
   the signature would no longer match. A bad or missing signature answers 401.
2. Dedupes on ``webhook-id``: it is the same on every retry of one delivery, and the service
   delivers at least once (a retry may follow a 2xx it never saw). A repeat is acknowledged
   (2xx) and not processed again.
3. Answers 204 at once and processes the event on a background thread, so a slow handler never
   makes the service time out and retry.

The ids seen are kept **in memory** only (the most recent ``remember`` of them): they are lost on a
restart and not shared between processes. A real receiver records each ``webhook-id`` durably
(a unique key in its database, or Redis ``SET id 1 NX EX 172800``: at least the service's
WEBHOOK_RETRY_HOURS) in the same step that queues the work, and only then answers 2xx.

The log names webhook ids, event types and job ids; never the secret, the signature or the body
(a job's result holds job descriptions, interview kits and candidate scorecards).
"""

import logging
import os
import queue
import threading
from collections import OrderedDict

from flask import Flask, jsonify, request
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

log = logging.getLogger("webhook_receiver")

PATH = "/hooks/techscreen"


def log_event(message_id, event):
    """Process one verified, new event (here: log what it says). Replace with your own work."""
    job = event.get("data") or {}
    log.info("%s %s: job %s is %s (http_status %s)", message_id, event.get("type"), job.get("job_id"),
             job.get("status"), job.get("http_status"))


class SeenIds:
    """The most recent ``limit`` webhook ids, in memory (see the module docstring)."""

    def __init__(self, limit):
        self.limit = limit
        self._ids = OrderedDict()
        self._lock = threading.Lock()

    def add(self, message_id):
        """Remember ``message_id``; return False when it was already there (a repeat)."""
        with self._lock:
            if message_id in self._ids:
                self._ids.move_to_end(message_id)
                return False
            self._ids[message_id] = True
            if len(self._ids) > self.limit:
                self._ids.popitem(last=False)
            return True


def create_app(secret, *, handle=log_event, remember=10_000):
    """Return the receiver's Flask app for signing secret ``secret`` ("whsec_..." as printed).

    handle(message_id, event): called once per new, verified event, on a background thread.
    ``app.extensions["webhook_work"]`` is that thread's queue (``.join()`` waits until it is idle).
    """
    webhook = Webhook(secret)
    seen = SeenIds(remember)
    work = queue.Queue()

    def process():
        while True:
            message_id, event = work.get()
            try:
                handle(message_id, event)
            except Exception:
                log.exception("Processing %s failed", message_id)
            finally:
                work.task_done()

    threading.Thread(target=process, name="webhook-work", daemon=True).start()

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # a job resource is far smaller
    app.extensions["webhook_work"] = work

    @app.post(PATH)
    def receive():
        body = request.get_data()  # the raw bytes, as signed
        try:
            event = webhook.verify(body, dict(request.headers))
        except (WebhookVerificationError, ValueError):  # ValueError: malformed headers, base64 or UTF-8
            log.warning("Refused a webhook with a bad signature (webhook-id %r)", request.headers.get("webhook-id"))
            return jsonify(error="invalid signature"), 401
        message_id = request.headers["webhook-id"]
        if not seen.add(message_id):
            log.info("%s already received; acknowledged again", message_id)
            return "", 204
        work.put((message_id, event))
        return "", 204

    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        raise SystemExit("Set WEBHOOK_SECRET to the whsec_... secret printed by `flask --app app api-keys set-webhook`")
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "9000"))
    log.info("Receiving TechScreen webhooks at http://%s:%s%s", host, port, PATH)
    create_app(secret).run(host=host, port=port, threaded=True)
