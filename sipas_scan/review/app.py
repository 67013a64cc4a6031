"""The reviewers' web app (Flask, server-rendered pages, a little JavaScript
for the keyboard).

Routes are thin: they check who is asking, call queue/actions/qc/overview
and render. Each request opens the database and closes it after; writes go
through the Store's transactions, so several reviewers can work at once.
Sessions live in the database (the cookie holds a random token), so logging
out, a new password or a new role ends them at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, abort, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from sipas_scan.errors import SipasError
from sipas_scan.reading.page import survey_and_layout
from sipas_scan.reading.pipeline import rebuild, rederive_stale
from sipas_scan.records import STATUSES
from sipas_scan.review import accounts, actions, crops, qc, screens
from sipas_scan.review.labels import DEFAULT_LANGUAGE, LANGUAGES, label, option_key, reason_label
from sipas_scan.review.overview import overview
from sipas_scan.review.queue import (
    ReviewItem,
    find_item,
    open_idents,
    parse_ident,
    take_lease,
    take_next,
)
from sipas_scan.store import decisions as keys
from sipas_scan.store.db import Store

SESSION_HOURS = accounts.SESSION_HOURS
SESSION_IDLE_MINUTES = accounts.SESSION_IDLE_MINUTES
MAX_LOGIN_FAILURES = 5      # wrong passwords for one name before it is refused
LOGIN_LOCK_MINUTES = 15     # for this long
MAX_TRACKED_NAMES = 1000    # names whose failures are remembered: the counter never grows past this
# The largest request the app accepts: a transcription and a note, each at
# its limit, percent-encoded (9 bytes for a Vietnamese letter), fit in this.
MAX_REQUEST_BYTES = 64 * 1024
MAX_IDENT_LENGTH = 200      # survey|serial|key of any real item is far shorter
# Scripts, styles and images come from the app itself, never inline, and no
# other site may frame it (clickjacking a "confirm" button).
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
ERROR_LABELS = {400: "error_bad_request", 403: "forbidden", 404: "error_not_found", 405: "error_bad_request",
                413: "error_too_large", 500: "error_server"}
PROXY_SECTION = "README.md, section 'Review app behind a reverse proxy'"


def create_app(db_path: Path, ledger_path: Path | None = None, *, session_key: bytes | None = None,
               behind_proxy: bool = False) -> Flask:
    """``behind_proxy``: served through a TLS reverse proxy (one hop): the
    cookies are marked Secure and the proxy's X-Forwarded-Proto and -Host
    are believed."""
    app = Flask(__name__)
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
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    CSRFProtect(app)
    with Store(db_path) as store:
        # A database scanned before schema 2 has flags that do not say which
        # decision settles them: derive its forms again once.
        if store.needs_schema_2_rebuild():
            rebuild(store, ledger_path)
        # A form left behind by its last decision (an older version killed
        # between the two) is put right before anyone sees the queue.
        rederive_stale(store, ledger_path)
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
        return (f"--host {host}: the review app listens beyond this machine; only the TLS reverse proxy should "
                f"reach this port ({PROXY_SECTION})")
    return (f"--host {host}: the review app speaks plain HTTP, without TLS: passwords, session cookies and answers "
            f"cross the network readable by anyone on it. Put a TLS reverse proxy in front and start the app with "
            f"--behind-proxy ({PROXY_SECTION})")


def _store() -> Store:
    if "store" not in g:
        g.store = Store(g.db_path)
    return g.store


def _queue_store() -> Store:
    """The store, after deriving again any form a decision left behind: what
    the queue shows always agrees with the decisions."""
    store = _store()
    if not g.get("fresh"):
        rederive_stale(store, g.ledger_path)
        g.fresh = True
    return store


def _language() -> str:
    return session.get("lang", DEFAULT_LANGUAGE)


def login_required(role: str | None = None, *, activity: bool = True) -> Callable:
    """Only for a live session (and ``role``). ``activity``: the request is
    the user's own doing and restarts the idle clock; a background lease
    renewal is not, so a forgotten tab still times out."""
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            token = session.get("sid")
            current = accounts.current_session(_store(), token, activity=activity) if isinstance(token, str) else None
            if current is None:
                session.pop("sid", None)
                return redirect(url_for("login", next=request.full_path if request.method == "GET" else None))
            g.user, g.role = current.user, current.role
            if role and current.role != role:
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


def _question_text(survey_id: str, field_id: str) -> tuple[str, str]:
    survey, _ = survey_and_layout(survey_id)
    question = survey.field(field_id)
    return question.label, question.text


def _ident(text: str) -> str:
    """An item id from a request: what no item's id can be is a bad request."""
    try:
        if len(text) > MAX_IDENT_LENGTH:
            raise ValueError(text)
        _, _, key = parse_ident(text)
        if not key:
            raise ValueError(text)
        if key.startswith((keys.QUARANTINE, *keys.PAGE_KEYS)):
            keys.page_of(key)
    except (ValueError, IndexError):
        abort(400)
    return text


def _choices(item: ReviewItem) -> list[tuple[str, str, str]]:
    """(key, value, label) of each button for an item that is not an answer."""
    lang = _language()
    if item.kind == "form":
        values = [(keys.KEPT, label("keep_form", lang)), (keys.REJECTED, label("reject_form", lang))]
    elif item.kind == "quarantine":
        values = [(keys.REJECTED, label("reject_page", lang))]
    elif "duplicate-conflict" in item.reasons and len(item.page_ids) >= 2:
        values = [(f"{keys.USE}{item.page_ids[0]}", label("use_left", lang)),
                  (f"{keys.USE}{item.page_ids[1]}", label("use_right", lang)),
                  (keys.REJECTED, label("reject_form", lang))]
    elif "unread-copy" in item.reasons and item.page_ids:
        values = [(f"{keys.USE}{item.page_ids[0]}", label("use_read", lang)), (keys.REJECTED, label("reject_form", lang))]
    elif "missing-page" in item.reasons:
        values = [(keys.NOT_RETURNED, label("not_returned", lang)), (keys.REJECTED, label("reject_form", lang))]
    else:
        values = [(keys.CONFIRMED, label("confirm_blank", lang)), (keys.ANSWER_EACH, label("answer_each", lang)),
                  (keys.REJECTED, label("reject_form", lang))]
    return [(str(n), value, text) for n, (value, text) in enumerate(values, start=1)]


def _item_page(found: ReviewItem, error: str = "", status: int = 200) -> tuple[str, int]:
    context: dict = {"item": found, "error": error}
    if found.kind in ("answer", "comment"):
        context["label"], context["text"] = _question_text(found.survey, found.key)
        question = survey_and_layout(found.survey)[0].field(found.key)
        context["question"] = question
        context["machine"] = actions.current_value(_store(), found.survey, found.serial, found.key) or ""
    else:
        context["choices"] = _choices(found)
        context["surveys"] = _store().surveys()
        context["assignable"] = actions.assignable(found)
    context.update(screens.item_context(_store(), found, _language(), context.get("machine", "")))
    return render_template("item.html", **context), status


def _error_text(exc: actions.ReviewError) -> str:
    lang = _language()
    values = {k: reason_label(v, lang) if k == "reason" else v for k, v in exc.values.items()}
    return label(exc.message, lang, **values)


def _message_page(message: str, status: int) -> tuple[str, int]:
    return render_template("empty.html", message=message), status


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
    failures = LoginFailures()
    app.extensions["sipas_login_failures"] = failures  # for tests: the counter's size

    @app.before_request
    def _open() -> None:
        g.db_path = app.config["DB_PATH"]
        g.ledger_path = app.config["LEDGER_PATH"]

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.context_processor
    def _helpers() -> dict:
        lang = _language()
        return {"t": lambda key, **values: label(key, lang, **values), "lang": lang, "option_key": option_key,
                "reason": lambda r: reason_label(r, lang), "user": g.get("user"), "role": g.get("role")}

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
        return _message_page(label(key, _language()), exc.code or 500)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            password = request.form.get("password", "")
            if len(name) > accounts.MAX_NAME_LENGTH or len(password) > accounts.MAX_PASSWORD_LENGTH:
                # No account has such a name or password: refused, and nothing about it is kept.
                return render_template("login.html", error=label("bad_login", _language())), 401
            if failures.locked(name):
                return render_template("login.html", error=label("locked", _language())), 429
            role = accounts.check_login(_store(), name, password)
            failures.record(name, success=bool(role))
            if role:
                old = session.get("sid")
                if isinstance(old, str):
                    accounts.close_session(_store(), old)
                lang = _language()
                session.clear()
                session.permanent = True
                session.update(sid=accounts.open_session(_store(), name), lang=lang)
                target = request.args.get("next") or ""
                return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("home"))
            error = label("bad_login", _language())
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    @login_required()
    def logout():
        accounts.close_session(_store(), session["sid"])
        session.clear()
        return redirect(url_for("login"))

    @app.get("/lang/<code>")
    def language(code: str):
        if code in LANGUAGES:
            session["lang"] = code
        return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                        else url_for("home"))

    @app.get("/")
    @login_required()
    def home():
        store = _queue_store()
        facts = overview(store, app.config["LEDGER_PATH"])
        return render_template("overview.html", o=facts, statuses=STATUSES, waiting=len(open_idents(store)))

    @app.get("/next")
    @login_required()
    def next_item():
        after = request.args.get("after")
        if request.args.get("dir") not in (None, "1", "-1"):
            abort(400)
        step = -1 if request.args.get("dir") == "-1" else 1
        store = _queue_store()
        # Picked and leased in one step: two reviewers never land on one item.
        item = take_next(store, g.user, _ident(after) if after else None, step)
        if item is None:
            return render_template("empty.html")
        return redirect(url_for("item", id=item.ident))

    @app.get("/item")
    @login_required()
    def item():
        ident = _ident(request.args.get("id", ""))
        found = find_item(_queue_store(), ident)
        if found is None:
            return _message_page(label("already_decided", _language()), 404)
        holder = take_lease(_store(), ident, g.user)
        if holder:
            return _message_page(label("leased_by", _language(), who=holder), 409)
        return _item_page(found)

    @app.post("/decide")
    @login_required()
    def decide():
        ident = _ident(request.form.get("id", ""))
        found = find_item(_queue_store(), ident)
        if found is None:
            return _message_page(label("already_decided", _language()), 409)
        value = request.form.get("value", "")
        if request.form.get("assign_serial") and found.kind == "quarantine":
            value = (f"{keys.ASSIGN}{request.form.get('assign_survey', '')}|{request.form['assign_serial'].strip()}|"
                     f"{request.form.get('assign_page', '')}")
        try:
            actions.decide(_store(), found, value, g.user, request.form.get("note", ""), app.config["LEDGER_PATH"],
                           supervisor=g.role == "supervisor")
        except actions.ReviewError as exc:
            if exc.status == 409:
                return _message_page(_error_text(exc), 409)
            # Refused, nothing written: the item again, with why.
            return _item_page(found, _error_text(exc), exc.status)
        return redirect(url_for("next_item", after=ident))

    @app.post("/lease")
    @login_required(activity=False)
    def renew_lease():
        holder = take_lease(_store(), _ident(request.form.get("id", "")), g.user)
        return ("", 409) if holder else ("", 204)

    @app.get("/image/field/<int:page_id>/<field_id>.jpg")
    @login_required()
    def field_image(page_id: int, field_id: str):
        # A question's crop (or a whole grid's), keyed, a grid row under its headings.
        stored, path = _store().stored_page(page_id), _store().page_image(page_id)
        if stored is None or not stored.survey or path is None:
            abort(404)
        try:
            return Response(crops.field_crop(path, stored.survey, stored.page_no, field_id), mimetype="image/jpeg")
        except (LookupError, SipasError, OSError):
            abort(404)

    @app.get("/image/page/<int:page_id>.jpg")
    @login_required()
    def page_image(page_id: int):
        # A page quarantined as scanned is shown the right way up.
        stored, path = _store().stored_page(page_id), _store().page_image(page_id)
        if stored is None or path is None:
            abort(404)
        try:
            return Response(crops.page_view(path, upright=stored.status == "quarantined"), mimetype="image/jpeg")
        except OSError:
            abort(404)

    @app.get("/page/<int:page_id>")
    @login_required()
    def page(page_id: int):
        facts = screens.page_context(_store(), page_id, _language())
        if facts is None:
            abort(404)
        return render_template("page.html", page_id=page_id, p=facts)

    @app.get("/qc")
    @login_required()
    def qc_home():
        return render_template("qc.html", s=qc.summary(_store()))

    @app.post("/qc/draw")
    @login_required("supervisor")
    def qc_draw():
        try:
            forms = max(1, min(1000, int(request.form.get("forms", "20") or 20)))
        except ValueError:
            abort(400)
        qc.draw_sample(_store(), forms, g.user)
        return redirect(url_for("qc_home"))

    @app.get("/qc/next")
    @login_required()
    def qc_next():
        task = qc.next_task(_store())
        if task is None:
            return render_template("empty.html", message=label("qc_done", _language()))
        question = survey_and_layout(task.survey)[0].field(task.field_id)
        return render_template("qc_item.html", task=task, question=question)

    @app.post("/qc/enter")
    @login_required()
    def qc_enter():
        try:
            sample_id, survey, serial, field_id = request.form.get("id", "").split("|")
            task = qc.task_of(_store(), int(sample_id), survey, serial, field_id)
        except (ValueError, LookupError):
            abort(400)
        known = {o.code for o in survey_and_layout(survey)[0].field(field_id).options}
        value = request.form.get("value", "")
        if any(c.strip() not in known for c in value.split(";") if c.strip()):
            abort(400)
        qc.record_entry(_store(), task, actions.normalise_codes(value), g.user)
        return redirect(url_for("qc_next"))

    @app.get("/log")
    @login_required("supervisor")
    def log():
        before = request.args.get("before")
        if before is not None and not before.isdigit():
            abort(400)
        rows, older = screens.log_page(_store(), _language(), int(before) if before else None)
        return render_template("log.html", rows=rows, older=older, before=before)

    @app.post("/reopen")
    @login_required("supervisor")
    def reopen():
        survey, serial, key = (request.form.get(name, "") for name in ("survey", "serial", "key"))
        if not key or len(survey) + len(serial) + len(key) > MAX_IDENT_LENGTH:
            abort(400)
        try:
            actions.reopen(_store(), survey, serial, key, g.user, request.form.get("note", ""),
                           app.config["LEDGER_PATH"])
        except actions.ReviewError as exc:
            return _message_page(_error_text(exc), exc.status)
        ident = f"{survey}|{serial}|{key}"
        return redirect(url_for("item", id=ident) if find_item(_store(), ident) else url_for("log"))
