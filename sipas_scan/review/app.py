"""The reviewers' web app (Flask, server-rendered pages, a little JavaScript
for the keyboard).

The routes are blueprints, one per area (sipas_scan.review.views); this
module makes the app and sets what holds for every request. Each request
opens the database and closes it after; writes go through the Store's
transactions, so several reviewers can work at once.
Sessions live in the database (the cookie holds a random token), so logging
out, a new password or a new role ends them at once.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import threading
import time
from pathlib import Path

from flask import Flask, Response, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from sipas_scan.assembly.derive import derive_pending, rebuild
from sipas_scan.dbfile import is_url
from sipas_scan.printing.ledger import LedgerLocation
from sipas_scan.review import accounts
from sipas_scan.review.labels import label, option_key, reason_label
from sipas_scan.review.views import BLUEPRINTS
from sipas_scan.review.views.common import language, message_page
from sipas_scan.store.db import Store

SESSION_HOURS = accounts.SESSION_HOURS
SESSION_IDLE_MINUTES = accounts.SESSION_IDLE_MINUTES
MAX_LOGIN_FAILURES = 5  # wrong passwords for one name before it is refused
LOGIN_LOCK_MINUTES = 15  # for this long
MAX_TRACKED_NAMES = 1000  # names whose failures are remembered: the counter never grows past this
# The largest request the app accepts: a transcription and a note, each at
# its limit, percent-encoded (9 bytes for a Vietnamese letter), fit in this.
MAX_REQUEST_BYTES = 64 * 1024
# Scripts, styles and images come from the app itself, never inline, and no
# other site may frame it (clickjacking a "confirm" button).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ERROR_LABELS = {
    400: "error_bad_request",
    403: "forbidden",
    404: "error_not_found",
    405: "error_bad_request",
    413: "error_too_large",
    500: "error_server",
}
PROXY_SECTION = "README.md, section 'Review app behind a reverse proxy'"


def create_app(
    db_path: Path | str, ledger_path: LedgerLocation | None = None, *, session_key: bytes | None = None, behind_proxy: bool = False
) -> Flask:
    """``behind_proxy``: served through a TLS reverse proxy (one hop): the
    cookies are marked Secure and the proxy's X-Forwarded-Proto and -Host
    are believed."""
    app = Flask(__name__)
    if not is_url(db_path):
        db_path = Path(db_path).resolve()  # the server may change directory; the database does not move
    app.config.update(
        SECRET_KEY=session_key or os.urandom(32),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=behind_proxy,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own expiry bounds the token
        DB_PATH=db_path,
        LEDGER_PATH=ledger_path,
    )
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]  # Flask's documented way
    CSRFProtect(app)
    with Store(db_path) as store:
        # A database scanned before schema 2 has flags that do not say which
        # decision settles them: derive its forms again once.
        if store.needs_schema_2_rebuild():
            rebuild(store, ledger_path)
        # A form left behind by its last decision (an older version killed
        # between the two), or by a scan run killed before it derived its
        # forms, is put right before anyone sees the queue.
        store.mark_stale_pending()
        derive_pending(store, ledger_path)
    accounts.dummy_hash()  # made now, so the first unknown name costs no more than a known one
    _routes(app)
    return app


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def exposure_warning(host: str, behind_proxy: bool = False) -> str | None:
    """What to tell whoever makes the app listen beyond this machine: it
    speaks plain HTTP."""
    if is_loopback(host):
        return None
    if behind_proxy:
        return (
            f"--host {host}: the review app listens beyond this machine; only the TLS reverse proxy should "
            f"reach this port ({PROXY_SECTION})"
        )
    return (
        f"--host {host}: the review app speaks plain HTTP, without TLS: passwords, session cookies and answers "
        f"cross the network readable by anyone on it. Put a TLS reverse proxy in front and start the app with "
        f"--behind-proxy ({PROXY_SECTION})"
    )


class LoginFailures:
    """Failed logins per user name in this process: after a few, the name is
    refused for a while, so passwords cannot be guessed at speed. Bounded:
    at most ``capacity`` names (of bounded length), each with at most
    MAX_LOGIN_FAILURES times; nothing else about a failed login is kept."""

    def __init__(self, capacity: int = MAX_TRACKED_NAMES) -> None:
        self._times: dict[str, list[float]] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> list[float]:
        return [t for t in self._times.get(name, []) if now - t < LOGIN_LOCK_MINUTES * 60]

    def locked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name, time.monotonic())) >= MAX_LOGIN_FAILURES

    def record(self, name: str, success: bool) -> None:
        with self._lock:
            now = time.monotonic()
            recent = self._recent(name, now)
            self._times.pop(name, None)
            if success:
                return
            self._times[name] = [*recent, now][-MAX_LOGIN_FAILURES:]  # the latest at the end of the order
            if len(self._times) > self._capacity:
                # Forget lapsed names first, then the longest untouched.
                for other in [n for n in self._times if not self._recent(n, now)]:
                    del self._times[other]
                while len(self._times) > self._capacity:
                    del self._times[next(iter(self._times))]

    def __len__(self) -> int:
        return len(self._times)


def _routes(app: Flask) -> None:
    app.extensions["sipas_login_failures"] = LoginFailures()  # per app; tests read its size

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.context_processor
    def _helpers() -> dict:
        lang = language()
        return {
            "t": lambda key, **values: label(key, lang, **values),
            "lang": lang,
            "option_key": option_key,
            "reason": lambda r: reason_label(r, lang),
            "user": g.get("user"),
            "role": g.get("role"),
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # In the reviewer's language, never the framework's English page.
        key = ERROR_LABELS.get(exc.code or 500, "error_bad_request" if (exc.code or 500) < 500 else "error_server")
        return message_page(label(key, language()), exc.code or 500)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
