"""Webhooks: a job's end POSTed to its callback URL, signed per the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).

Secrets. Each API key has one signing secret, ``whsec_`` + base64 of 32 random bytes, made by
``set_webhook`` (``flask --app app api-keys set-webhook KEY_ID``) and shown once. It is stored
Fernet-encrypted with WEBHOOK_ENCRYPTION_KEY (a comma list rotates keys: the first encrypts, any
decrypts). A new secret replaces the old one at once, for deliveries already queued too.

Messages. A job that succeeds or fails gets one delivery per URL (``create_deliveries``, written
by the job runner in the transaction that ends the job). Its body is
``{"type": "job.succeeded" | "job.failed", "timestamp": the job's end (UTC ISO 8601), "data": the
job as GET /api/jobs/<id> shows it}``, serialised once as compact JSON; those exact bytes are
signed and sent. Headers: ``webhook-id`` (the delivery's ``msg_...`` id, the same on every retry:
receivers dedupe on it), ``webhook-timestamp`` (unix seconds of this attempt) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``). A receiver verifies
with ``standardwebhooks.Webhook(secret).verify(body, headers)``.

Attempts (``attempt_delivery``). A worker claims a due delivery with one conditional UPDATE, so a
delivery enqueued twice is attempted once; a claim older than 5 minutes (its process died) may
be taken over. Before every attempt the URL is checked again (DNS may have changed) and the
request goes to the addresses that check vetted, never to a second lookup, so a rebinding name
cannot slip past it. Redirects are not followed; at most WEBHOOK_MAX_RESPONSE_BYTES of the
answer are read. A 2xx ends the delivery as delivered; anything else is retried with
exponential backoff and full jitter (WEBHOOK_RETRY_BASE_SECONDS up to
WEBHOOK_RETRY_MAX_DELAY_SECONDS) until WEBHOOK_RETRY_HOURS after the delivery was created, then
it is failed. A refused URL, or a key that was revoked or lost its secret, fails it at once
(outcome "refused", no request made); a host that does not resolve is retried as a network
error, and so are settings this process cannot use (WEBHOOK_ENCRYPTION_KEY, WEBHOOK_ALLOWED_HOSTS;
recorded as "refused"), since the fix is on this side. Every attempt is a ``webhook_attempts`` row
and a metric.

SSRF guard (``check_callback_url``). Callback URLs are absolute https URLs without userinfo;
every address the host resolves to must be public: private, loopback, link-local, multicast,
reserved, unspecified, shared (CGNAT 100.64.0.0/10) addresses and cloud metadata endpoints are
refused, IPv4-mapped, NAT64 and 6to4 IPv6 forms included. WEBHOOK_ALLOWED_HOSTS names exceptions
(host names, addresses, CIDRs), which may also use plain http. A metadata address is allowed
only when that address itself is listed (not through a CIDR or a host name).

Logs carry delivery ids, attempt numbers, outcomes, status codes and timings; never the secret,
a signature, the payload or a response body.
"""

import base64
import ipaddress
import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
from celery.utils.time import get_exponential_backoff_interval
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from models import ApiKey, Job, WebhookAttempt, WebhookDelivery, db, utcnow
from services import metrics
from services.errors import (
    InvalidInput,
    NotFound,
    ServiceError,
    UnresolvableHost,
    WebhookKeyInvalid,
    WebhooksNotConfigured,
)

log = logging.getLogger("techscreen.webhooks")

SECRET_PREFIX = "whsec_"
USER_AGENT = "TechScreen-Webhooks/1"
MAX_URL_LENGTH = 2048
EVENT_TYPES = {"succeeded": "job.succeeded", "failed": "job.failed"}
# A "sending" delivery whose claim is older than this lost its process and may be taken over.
SENDING_STALE = timedelta(minutes=5)
# A timer that fires a little early (clock slew) still finds its delivery due.
_EARLY_TOLERANCE = timedelta(milliseconds=50)
# Addresses of one host tried in turn when a connection cannot be made (bounds an attempt's time).
_MAX_ADDRESSES_TRIED = 3
_ERROR_LENGTH = 300

# Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba, Azure's wireserver.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # CGNAT (RFC 6598); not is_private in Python
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


def generate_secret():
    """Return a new signing secret: "whsec_" + standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def encrypt_secret(secret, key):
    """Return ``secret`` (str) Fernet-encrypted with ``key`` (WEBHOOK_ENCRYPTION_KEY) as an ASCII token.

    key: a Fernet key, or a comma list of them (the first encrypts). Raises WebhooksNotConfigured
    (no key), WebhookKeyInvalid (not a Fernet key).
    """
    return _fernet(key).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt_secret(token, key):
    """Return the secret (str) that ``encrypt_secret`` turned into ``token``.

    key: as encrypt_secret (any key of a comma list may decrypt). Raises WebhooksNotConfigured (no
    key), WebhookKeyInvalid (not a Fernet key, or the token was made with another key).
    """
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise WebhookKeyInvalid(
            "A stored webhook secret cannot be decrypted with WEBHOOK_ENCRYPTION_KEY (was the key changed? list the old "
            "key after the new one, comma-separated, or make a new secret with `flask --app app api-keys set-webhook KEY_ID`)"
        ) from None


def _fernet(key):
    keys = [part.strip() for part in (key or "").split(",") if part.strip()]
    if not keys:
        raise WebhooksNotConfigured()
    try:
        return MultiFernet([Fernet(part) for part in keys])
    except (ValueError, TypeError):
        raise WebhookKeyInvalid(
            "WEBHOOK_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes, 44 characters); make one with "
            "`python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`"
        ) from None


def set_webhook(api_key_id, *, url=None, encryption_key, allowed_hosts):
    """Give an API key a new signing secret (replacing any old one) and optionally a default URL.

    url: the key's default callback URL, checked by check_callback_url (resolving its host);
    None keeps the stored one, "" clears it. encryption_key: WEBHOOK_ENCRYPTION_KEY.
    allowed_hosts: WEBHOOK_ALLOWED_HOSTS text or parse_allowed_hosts' result (None: none).
    Returns (ApiKey, plaintext secret); only the encrypted secret is stored (committed).
    Raises NotFound (unknown or revoked key), WebhooksNotConfigured / WebhookKeyInvalid,
    InvalidInput (field callback_url), ValueError (a bad WEBHOOK_ALLOWED_HOSTS entry).
    """
    api_key = db.session.get(ApiKey, api_key_id)
    if api_key is None:
        raise NotFound(f"API key {api_key_id} not found")
    if api_key.revoked_at is not None:
        raise NotFound(f"API key {api_key_id} is revoked")
    _fernet(encryption_key)  # refuse before anything else when webhooks cannot work here
    if url:
        check_callback_url(url, _allowed(allowed_hosts), resolve=True)
    secret = generate_secret()
    api_key.webhook_secret_encrypted = encrypt_secret(secret, encryption_key)
    if url is not None:
        api_key.webhook_url = url or None
    db.session.commit()
    log.info("API key %s: new webhook signing secret", api_key.id)
    return api_key, secret


def webhook_settings(api_key_id, encryption_key):
    """Return (secret or None, default URL or None) of an API key, for submitting a job.

    An unknown or revoked key, or None, has neither. Raises WebhooksNotConfigured /
    WebhookKeyInvalid only when the key has a secret that WEBHOOK_ENCRYPTION_KEY cannot read.
    """
    if api_key_id is None:
        return None, None
    api_key = db.session.get(ApiKey, api_key_id)
    if api_key is None or api_key.revoked_at is not None:
        return None, None
    secret = decrypt_secret(api_key.webhook_secret_encrypted, encryption_key) if api_key.webhook_secret_encrypted else None
    return secret, api_key.webhook_url


# --- The SSRF guard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedHosts:
    """Parsed WEBHOOK_ALLOWED_HOSTS: lower-case host names and networks (an address is a /32 or /128)."""

    names: frozenset = frozenset()
    networks: tuple = ()

    def allows_name(self, host):
        """True when ``host`` (any case, trailing dot or not) is a listed host name."""
        return _normal_name(host) in self.names

    def allows_address(self, address, *, exact=False):
        """True when ``address`` (or its embedded IPv4) is listed; exact: only as a single address."""
        candidates = {address, *_embedded_ipv4(address)}
        return any(
            candidate in network
            for network in self.networks
            if not exact or network.num_addresses == 1
            for candidate in candidates
            if candidate.version == network.version
        )


def parse_allowed_hosts(text):
    """Parse WEBHOOK_ALLOWED_HOSTS ("127.0.0.1,hooks.internal,10.0.0.0/8,[::1]") into AllowedHosts.

    Entries are host names (matched exactly, case-insensitively), IPv4/IPv6 addresses or CIDR
    networks; blanks are ignored; None or "" allows nothing. Raises ValueError naming a bad entry.
    """
    names, networks = set(), []
    for raw in (text or "").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        bare = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
        try:
            networks.append(ipaddress.ip_network(bare, strict=False))
            continue
        except ValueError:
            pass
        name = _normal_name(bare)
        if not _is_host_name(name):
            raise ValueError(
                f"WEBHOOK_ALLOWED_HOSTS entry {raw.strip()!r} is not a host name, an IP address or a CIDR network "
                "(no scheme, port or path)"
            )
        names.add(name)
    return AllowedHosts(frozenset(names), tuple(networks))


def check_callback_url(url, allowed, *, resolve=True):
    """Check a callback URL against the SSRF rules; return the vetted addresses (tuple of str).

    allowed: AllowedHosts (or WEBHOOK_ALLOWED_HOSTS text). resolve: look the host up with
    socket.getaddrinfo and check every address (False checks syntax, and an IP literal, only;
    returns the literal or ()). Raises InvalidInput (field callback_url) with a reason for the
    integrator; UnresolvableHost (a subclass) when the host does not resolve.
    """
    allowed = _allowed(allowed)
    host, scheme, port = _parse(url)
    literal = _ip_literal(host)
    named_ok = literal is None and allowed.allows_name(host)
    if literal is None and not _is_host_name(_normal_name(host)):
        raise _refuse(f"host {host!r} is not a valid host name")
    if literal is None and _NUMERIC_LABEL.match(_normal_name(host).rsplit(".", 1)[-1]):
        raise _refuse(f"host {host!r} is not a canonical IP address; write the address in dotted-quad or IPv6 form")
    if literal is not None:
        addresses = [literal]
    elif resolve:
        addresses = _resolve(host, port)
    else:
        addresses = []
    for address in addresses:
        problem = _forbidden(address)
        if problem is None:
            continue
        metadata = address in METADATA_ADDRESSES or any(a in METADATA_ADDRESSES for a in _embedded_ipv4(address))
        if allowed.allows_address(address, exact=True) or (not metadata and (named_ok or allowed.allows_address(address))):
            continue
        remedy = "listing this address in WEBHOOK_ALLOWED_HOSTS" if metadata else "WEBHOOK_ALLOWED_HOSTS"
        where = f"{host} is" if literal is not None else f"{host} resolves to {address},"
        raise _refuse(f"{where} {problem}; {remedy} can allow it")
    if scheme == "http" and not (named_ok or (addresses and all(allowed.allows_address(a) for a in addresses))):
        raise _refuse("plain http is accepted only for allow-listed hosts (WEBHOOK_ALLOWED_HOSTS); use https")
    return tuple(str(address) for address in addresses)


def _allowed(allowed):
    return allowed if isinstance(allowed, AllowedHosts) else parse_allowed_hosts(allowed)


def _refuse(reason):
    return InvalidInput("callback_url", reason)


def _parse(url):
    """Return (ascii host, scheme, port) of an absolute http(s) URL without userinfo, or refuse it."""
    if not isinstance(url, str) or not url:
        raise _refuse("must be an absolute http(s) URL")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"is longer than {MAX_URL_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url) or "\\" in url:
        raise _refuse("must not contain spaces, control characters or backslashes")
    try:
        parsed = httpx.URL(url)  # the parser of the client that sends: no parser differential
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise _refuse("is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.is_absolute_url or not parsed.raw_host:
        raise _refuse("must be an absolute http(s) URL, e.g. https://hooks.example.com/techscreen")
    authority = url.split("//", 1)[1] if "//" in url else ""
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if parsed.userinfo or "@" in authority:
        raise _refuse("must not contain a user name or password (userinfo); authenticate with the signature")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise _refuse(f"has an invalid port {parsed.port}")
    try:
        host = parsed.raw_host.decode("ascii").lower()
    except UnicodeError:
        raise _refuse("has an invalid host") from None
    return host, parsed.scheme, parsed.port or (443 if parsed.scheme == "https" else 80)


def _normal_name(host):
    host = host.strip().lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host
    return host


def _is_host_name(name):
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))


def _ip_literal(host):
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        return None


def _resolve(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnresolvableHost("callback_url", f"host {host} does not resolve ({_short(exc)})") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost("callback_url", f"host {host} does not resolve to any address")
    return addresses


def _embedded_ipv4(address):
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, NAT64 64:ff9b::/96, 6to4)."""
    if address.version != 6:
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    return found


def _forbidden(address):
    """Why ``address`` must not be called (e.g. "a private address"), or None for a public one."""
    for embedded in _embedded_ipv4(address):
        problem = _forbidden(embedded)
        if problem is not None:
            return f"{problem} ({embedded} in IPv6 form)"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.version == 6 and address.is_site_local:
        return "a site-local address"
    if address.version == 4 and address in _SHARED:
        return "a shared (CGNAT) address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a globally routable address"
    return None


# --- Deliveries ---------------------------------------------------------------------------------


def create_deliveries(session, job, *, url):
    """Add the deliveries of a job's end to ``session`` (the caller commits); return them.

    One WebhookDelivery for ``url`` (status "pending", due now, message_id "msg_" + 32 hex digits,
    event_type job.succeeded / job.failed), or [] when there is no URL or the job did not
    succeed or fail (a canceled job sends nothing).
    """
    event_type = EVENT_TYPES.get(job.status)
    if event_type is None or not url:
        return []
    now = utcnow()
    delivery = WebhookDelivery(
        job_id=job.id, message_id="msg_" + uuid.uuid4().hex, event_type=event_type, url=url,
        status="pending", attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(delivery)
    return [delivery]


def due_deliveries(session, now, limit=100):
    """Return the ids of deliveries due at ``now`` (aware UTC datetime), soonest first, at most ``limit``:
    pending ones whose next_attempt_at has come, and "sending" ones claimed more than 5 minutes ago."""
    return list(session.scalars(
        db.select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
    ))


def _due(now, early=timedelta(0)):
    return or_(
        and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now + early),
        and_(WebhookDelivery.status == "sending", WebhookDelivery.next_attempt_at < now - SENDING_STALE),
    )


def next_retry_delay(attempts, *, base_seconds, max_seconds):
    """Return the seconds (float, millisecond resolution) to wait after failed attempt number ``attempts``.

    Exponential backoff with full jitter (celery's get_exponential_backoff_interval): uniform in
    [0, min(max_seconds, base_seconds * 2 ** (attempts - 1))]. Computed in milliseconds, so
    sub-second settings work.
    """
    delay_ms = get_exponential_backoff_interval(
        factor=max(0, round(base_seconds * 1000)), retries=max(0, attempts - 1),
        maximum=max(0, round(max_seconds * 1000)), full_jitter=True,
    )
    return delay_ms / 1000


def attempt_delivery(delivery_id, *, config):
    """Make one HTTP attempt of a due delivery; return seconds until its next attempt, or None.

    config: the app's config (WEBHOOK_* settings). Returns None when the delivery is over
    (delivered or failed), not due, or claimed by another worker; otherwise the delay (float
    seconds, already stored as next_attempt_at) after which the caller enqueues it again. Records
    one WebhookAttempt (outcome delivered, http_error, network_error or refused; duration in ms)
    and the metrics. Needs an application context; uses its own database sessions and holds none
    while the receiver is called. Raises only on database failures.
    """
    claim = _claim(delivery_id)
    if claim is None:
        return None
    attempt, created_at = claim
    started_at = utcnow()
    clock = time.monotonic()
    status_code = None
    try:
        prepared = _prepare(delivery_id, config)
    except _Gone:
        return None
    except _Refused as refusal:
        outcome, error, final = refusal.outcome, refusal.error, refusal.final
    else:
        status_code, error = _post(prepared, config)
        if status_code is None:
            outcome, final = "network_error", False
        elif 200 <= status_code < 300:
            outcome, final = "delivered", True
        else:
            outcome, final = "http_error", False
    duration_ms = round((time.monotonic() - clock) * 1000)
    return _record(
        delivery_id, attempt, created_at, config, outcome=outcome, final=final, status_code=status_code,
        error=error, duration_ms=duration_ms, started_at=started_at,
    )


def list_deliveries(job_id):
    """Return the job's deliveries, oldest first, each with every attempt, as dicts:
    {delivery_id, message_id, event_type, url, status, attempts, next_attempt_at, created_at,
    completed_at, attempt_log: [{attempt, outcome, status_code, error, duration_ms, started_at}]}
    (timestamps UTC ISO 8601 or None)."""
    deliveries = db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.job_id == job_id).order_by(WebhookDelivery.id)
    ).all()
    return [
        {
            "delivery_id": delivery.id,
            "message_id": delivery.message_id,
            "event_type": delivery.event_type,
            "url": delivery.url,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": _iso(delivery.next_attempt_at),
            "created_at": _iso(delivery.created_at),
            "completed_at": _iso(delivery.completed_at),
            "attempt_log": [
                {
                    "attempt": row.attempt,
                    "outcome": row.outcome,
                    "status_code": row.status_code,
                    "error": row.error,
                    "duration_ms": row.duration_ms,
                    "started_at": _iso(row.started_at),
                }
                for row in delivery.attempt_log
            ],
        }
        for delivery in deliveries
    ]


def _iso(moment):
    return moment.isoformat() if moment is not None else None


# --- One attempt --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    url: str
    addresses: tuple
    body: bytes
    headers: dict


class _Gone(Exception):
    """The delivery (or its job) was deleted after it was claimed."""


class _Refused(Exception):
    """No HTTP request is made: the reason, the outcome to record and whether the delivery ends."""

    def __init__(self, error, *, final=True, outcome="refused"):
        super().__init__(error)
        self.error, self.final, self.outcome = error, final, outcome


def _claim(delivery_id):
    """Take a due delivery (pending -> sending, attempts + 1; or a stale "sending" one); return
    (attempt number, created_at), or None when it is not due or someone else has it."""
    now = utcnow()
    with Session(db.engine) as session:
        changed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, _due(now, early=_EARLY_TOLERANCE))
            # While sending, next_attempt_at holds when the claim was made (to spot a dead worker's).
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            session.rollback()
            return None
        attempt, created_at = session.execute(
            db.select(WebhookDelivery.attempts, WebhookDelivery.created_at).where(WebhookDelivery.id == delivery_id)
        ).one()
        session.commit()
    return attempt, created_at


def _prepare(delivery_id, config):
    """Read what the attempt needs and end the read; then decrypt the secret, vet the URL (DNS) and
    sign the body. Return _Prepared; raise _Refused when nothing may be sent, _Gone when deleted."""
    with Session(db.engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        job = session.get(Job, delivery.job_id) if delivery is not None else None
        if job is None:
            raise _Gone()
        api_key = session.get(ApiKey, job.api_key_id) if job.api_key_id is not None else None
        if api_key is None:
            raise _Refused("the job's API key no longer exists, so there is no webhook secret")
        if api_key.revoked_at is not None:
            raise _Refused("the job's API key was revoked")
        if not api_key.webhook_secret_encrypted:
            raise _Refused("the API key has no webhook secret")
        token, message_id, url = api_key.webhook_secret_encrypted, delivery.message_id, delivery.url
        payload = {"type": delivery.event_type, "timestamp": _iso(job.finished_at or delivery.created_at),
                   "data": _job_resource(job)}
    try:
        secret = decrypt_secret(token, config.get("WEBHOOK_ENCRYPTION_KEY"))
        allowed = parse_allowed_hosts(config.get("WEBHOOK_ALLOWED_HOSTS", ""))
    except (ServiceError, ValueError) as exc:  # this process's configuration: retried, once it is fixed
        problem = getattr(exc, "message", None) or str(exc)
        log.error("Webhook delivery %s cannot be signed or checked here: %s", delivery_id, problem)
        raise _Refused(f"this server's webhook settings are unusable: {problem}", final=False) from None
    try:
        addresses = check_callback_url(url, allowed, resolve=True)
    except UnresolvableHost as exc:  # DNS may be down or lagging: retried as a network error
        raise _Refused(exc.errors["callback_url"][0], final=False, outcome="network_error") from None
    except InvalidInput as exc:
        raise _Refused(f"refused: {exc.errors['callback_url'][0]}") from None
    body = json.dumps(payload, separators=(",", ":"), default=str)
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": _sign(secret, message_id, stamp, body),
    }
    return _Prepared(url=url, addresses=addresses, body=body.encode("utf-8"), headers=headers)


def _sign(secret, message_id, stamp, body):
    from standardwebhooks import Webhook

    return Webhook(secret).sign(message_id, datetime.fromtimestamp(stamp, UTC), body)


def _job_resource(job):
    """services.jobs.job_resource in a fresh app context, so its usage query runs on a session of its
    own (removed when that context ends), never the caller's."""
    from services.jobs import job_resource

    with current_app._get_current_object().app_context():
        return job_resource(job)


def _post(prepared, config):
    """POST the body to the vetted addresses in turn (the next only when connecting fails).

    Returns (status code, None) when the receiver answered (an error text for a non-2xx), or
    (None, error text) when no answer came."""
    timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS", 5.0))
    cap = max(0, int(config.get("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024)))
    original = httpx.URL(prepared.url)
    host = original.raw_host.decode("ascii")
    headers = {**prepared.headers, "host": original.netloc.decode("ascii")}
    extensions = {}
    if original.scheme == "https" and _ip_literal(host) is None:
        extensions["sni_hostname"] = host.rstrip(".")  # the certificate is checked against the name
    error = "no address to connect to"
    # trust_env=False: no proxy from HTTP(S)_PROXY, which would reach hosts this guard never saw.
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, verify=_tls_context(), trust_env=False) as client, \
            _watchdog(client, ATTEMPT_DEADLINE_FACTOR * timeout) as expired:
        try:
            status, error = _send_to_addresses(client, prepared, original, headers, extensions, cap, timeout, error)
        except Exception:  # the watchdog closed the client under a blocked read
            if not expired.is_set():
                raise
    if expired.is_set():
        return None, f"the whole attempt took longer than {ATTEMPT_DEADLINE_FACTOR * timeout:g} s; abandoned"
    return status, error


# One attempt (connect, send, answer, body) may take at most this many times WEBHOOK_TIMEOUT_SECONDS:
# the timeout itself bounds each read, so a receiver trickling bytes could otherwise hold it forever.
ATTEMPT_DEADLINE_FACTOR = 3


@contextmanager
def _watchdog(client, seconds):
    """Close ``client`` (ending a blocked read) if the block outlives ``seconds``; yields an Event
    that is set when it had to."""
    expired = threading.Event()

    def expire():
        expired.set()
        client.close()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _send_to_addresses(client, prepared, original, headers, extensions, cap, timeout, error):
    """Try the vetted addresses in turn; return (status code or None, error text or None)."""
    for address in prepared.addresses[:_MAX_ADDRESSES_TRIED]:
        request = client.build_request("POST", original.copy_with(host=address), content=prepared.body,
                                       headers=headers, extensions=extensions)
        try:
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            error = _network_error(exc, timeout)
            continue  # the next address of the host, as a browser would
        except httpx.HTTPError as exc:
            return None, _network_error(exc, timeout)
        try:
            _drain(response, cap, deadline=time.monotonic() + timeout)
        finally:
            response.close()
        status = response.status_code
        if 200 <= status < 300:
            return status, None
        if 300 <= status < 400:
            return status, f"HTTP {status}: redirects are not followed; point the callback URL at the final address"
        return status, f"HTTP {status}"
    return None, error


def _drain(response, cap, *, deadline):
    """Read at most ``cap`` bytes of the (raw, undecoded) body, and stop at ``deadline`` (monotonic)."""
    if cap <= 0:
        return
    read = 0
    try:
        for chunk in response.iter_raw(min(cap, 16 * 1024)):
            read += len(chunk)
            if read >= cap or time.monotonic() > deadline:
                return
    except httpx.HTTPError:
        return  # the status line decided the outcome; the body is not needed


_tls = None


def _tls_context():
    """One verifying TLS context per process (system CAs, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    global _tls
    if _tls is None:
        _tls = httpx.create_ssl_context(verify=True)
        _tls.minimum_version = ssl.TLSVersion.TLSv1_2
    return _tls


def _network_error(exc, timeout):
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting timed out after {timeout:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect: {_short(exc)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the receiver closed the connection or answered invalid HTTP: {_short(exc)}"
    return f"{type(exc).__name__}: {_short(exc)}"


def _short(exc):
    text = str(exc) or type(exc).__name__
    return text[:200]


def _record(delivery_id, attempt, created_at, config, *, outcome, final, status_code, error, duration_ms, started_at):
    """Write the attempt and the delivery's next state (if this worker still holds it); return the
    delay before the next attempt, or None when the delivery ended."""
    now = utcnow()
    deadline = created_at + timedelta(hours=float(config.get("WEBHOOK_RETRY_HOURS", 24.0)))
    delay = None
    if outcome == "delivered":
        values = {"status": "delivered", "next_attempt_at": None, "completed_at": now}
    elif final or now >= deadline:
        values = {"status": "failed", "next_attempt_at": None, "completed_at": now}
    else:
        delay = next_retry_delay(
            attempt, base_seconds=float(config.get("WEBHOOK_RETRY_BASE_SECONDS", 10.0)),
            max_seconds=float(config.get("WEBHOOK_RETRY_MAX_DELAY_SECONDS", 3600.0)),
        )
        due = min(now + timedelta(seconds=delay), deadline)  # one last attempt at the deadline
        delay = max(0.0, (due - now).total_seconds())
        values = {"status": "pending", "next_attempt_at": due}
    with Session(db.engine) as session:
        session.add(WebhookAttempt(
            delivery_id=delivery_id, attempt=attempt, outcome=outcome, status_code=status_code,
            error=error[:_ERROR_LENGTH] if error else None, duration_ms=duration_ms, started_at=started_at,
        ))
        changed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "sending", WebhookDelivery.attempts == attempt)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    metrics.record_webhook_attempt(outcome)
    extra = {"outcome": outcome}
    if not changed:
        log.warning("Webhook delivery %s attempt %s (%s) ended after another worker took it over", delivery_id,
                    attempt, outcome, extra=extra)
        return None
    if values["status"] in ("delivered", "failed"):
        metrics.record_webhook_delivery(values["status"])
    level = logging.WARNING if values["status"] == "failed" else logging.INFO
    log.log(level, "Webhook delivery %s attempt %s: %s%s in %d ms; %s", delivery_id, attempt, outcome,
            f" (HTTP {status_code})" if status_code is not None else "", duration_ms,
            f"retry in {delay:.1f} s" if delay is not None else values["status"], extra=extra)
    return delay
