"""The reviewers' web app (Flask, server-rendered pages, a little JavaScript
for the keyboard).

Routes are thin: they check who is asking, call queue/actions/qc/overview
and render. Each request opens the database and closes it after; writes go
through the Store's transactions, so several reviewers can work at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, abort, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from sipas_scan.errors import SipasError
from sipas_scan.reading.page import survey_and_layout
from sipas_scan.reading.pipeline import rebuild
from sipas_scan.records import STATUSES
from sipas_scan.review import accounts, actions, crops, qc
from sipas_scan.review.labels import DEFAULT_LANGUAGE, LANGUAGES, label, reason_label
from sipas_scan.review.overview import overview
from sipas_scan.review.queue import ReviewItem, find_item, neighbour, open_items, release_lease, take_lease
from sipas_scan.store import decisions as keys
from sipas_scan.store.db import Store
from sipas_scan.survey.model import join_codes

SESSION_HOURS = 8           # a login lasts a working day at most
SESSION_IDLE_MINUTES = 30   # and lapses after half an hour without a request
MAX_LOGIN_FAILURES = 5      # wrong passwords for one name before it is refused
LOGIN_LOCK_MINUTES = 15     # for this long


def create_app(db_path: Path, ledger_path: Path | None = None, *, session_key: bytes | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_key or os.urandom(32),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,  # the session's own expiry bounds the token
        DB_PATH=Path(db_path),
        LEDGER_PATH=ledger_path,
    )
    CSRFProtect(app)
    with Store(db_path) as store:
        # A database scanned before schema 2 has flags that do not say which
        # decision settles them: derive its forms again once.
        if store.db.execute("SELECT 1 FROM flags WHERE item = '' LIMIT 1").fetchone():
            rebuild(store, ledger_path)
    _routes(app)
    return app


def _store() -> Store:
    if "store" not in g:
        g.store = Store(g.db_path)
    return g.store


def _language() -> str:
    return session.get("lang", DEFAULT_LANGUAGE)


def login_required(role: str | None = None) -> Callable:
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            user = session.get("user")
            now = dt.datetime.now(dt.UTC).timestamp()
            expired = (now - session.get("seen", 0) > SESSION_IDLE_MINUTES * 60
                       or now - session.get("login_at", 0) > SESSION_HOURS * 3600)
            # The account as it is now: a removed user or a changed role counts at once.
            current_role = accounts.role_of(_store(), user) if user and not expired else None
            if current_role is None:
                session.pop("user", None)
                return redirect(url_for("login", next=request.full_path if request.method == "GET" else None))
            session["seen"], session["role"] = now, current_role
            if role and current_role != role:
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


def option_key(position: int) -> str:
    """The key that picks the option at ``position`` (1-based): digits 1-9,
    then letters a, b, c... for long lists (0 is blank)."""
    return str(position) if position < 10 else "abcdefghijklm"[position - 10]


def _question_text(survey_id: str, field_id: str) -> tuple[str, str]:
    survey, _ = survey_and_layout(survey_id)
    question = survey.field(field_id)
    return question.label, question.text


def _field_layout(survey_id: str, field_id: str):
    _, layout = survey_and_layout(survey_id)
    return next(f for page in layout.pages for f in page.fields if f.id == field_id)


def _page_image(page_id: int) -> bytes:
    row = _store().db.execute("SELECT image_path FROM pages WHERE id = ?", (page_id,)).fetchone()
    if not row or not row[0]:
        abort(404)
    try:
        return (g.db_path.parent / row[0]).read_bytes()
    except OSError:
        abort(404)


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


class LoginFailures:
    """Failed logins per user name in this process: after a few, the name is
    refused for a while, so passwords cannot be guessed at speed."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> list[float]:
        return [t for t in self._times.get(name, []) if now - t < LOGIN_LOCK_MINUTES * 60]

    def locked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name, time.monotonic())) >= MAX_LOGIN_FAILURES

    def record(self, name: str, success: bool) -> None:
        with self._lock:
            now = time.monotonic()
            self._times[name] = [] if success else [*self._recent(name, now), now]


def _routes(app: Flask) -> None:
    failures = LoginFailures()
    @app.before_request
    def _open() -> None:
        g.db_path = app.config["DB_PATH"]

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.context_processor
    def _helpers() -> dict:
        lang = _language()
        return {"t": lambda key, **values: label(key, lang, **values), "lang": lang, "option_key": option_key,
                "reason": lambda r: reason_label(r, lang), "user": session.get("user"), "role": session.get("role")}

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            if failures.locked(name):
                return render_template("login.html", error=label("locked", _language())), 429
            role = accounts.check_login(_store(), name, request.form.get("password", ""))
            failures.record(name, success=bool(role))
            if role:
                session.clear()
                session.permanent = True
                moment = dt.datetime.now(dt.UTC).timestamp()
                session.update(user=name, role=role, seen=moment, login_at=moment, lang=_language())
                target = request.args.get("next") or ""
                return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("home"))
            error = label("bad_login", _language())
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    @login_required()
    def logout():
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
        facts = overview(_store(), app.config["LEDGER_PATH"])
        return render_template("overview.html", o=facts, statuses=STATUSES, waiting=len(open_items(_store())))

    @app.get("/next")
    @login_required()
    def next_item():
        after = request.args.get("after")
        step = -1 if request.args.get("dir") == "-1" else 1
        if after:
            release_lease(_store(), after, session["user"])
        item = neighbour(_store(), session["user"], after, step)
        if item is None:
            return render_template("empty.html")
        return redirect(url_for("item", id=item.ident))

    @app.get("/item")
    @login_required()
    def item():
        ident = request.args.get("id", "")
        found = find_item(_store(), ident)
        if found is None:
            return render_template("empty.html", message=label("already_decided", _language())), 404
        holder = take_lease(_store(), ident, session["user"])
        if holder:
            return render_template("empty.html", message=label("leased_by", _language(), who=holder)), 409
        context: dict = {"item": found, "error": request.args.get("error", "")}
        if found.kind in ("answer", "comment"):
            context["label"], context["text"] = _question_text(found.survey, found.key)
            question = survey_and_layout(found.survey)[0].field(found.key)
            context["question"] = question
            context["machine"] = actions.current_value(_store(), found.survey, found.serial, found.key) or ""
        else:
            context["choices"] = _choices(found)
            context["surveys"] = sorted({r[0] for r in _store().db.execute("SELECT DISTINCT survey FROM forms")})
        return render_template("item.html", **context)

    @app.post("/decide")
    @login_required()
    def decide():
        ident = request.form.get("id", "")
        found = find_item(_store(), ident)
        if found is None:
            return render_template("empty.html", message=label("already_decided", _language())), 409
        value = request.form.get("value", "")
        if request.form.get("assign_serial") and found.kind == "quarantine":
            value = (f"{keys.ASSIGN}{request.form.get('assign_survey', '')}|{request.form['assign_serial'].strip()}|"
                     f"{request.form.get('assign_page', '')}")
        try:
            actions.decide(_store(), found, value, session["user"], request.form.get("note", ""),
                           app.config["LEDGER_PATH"])
        except actions.ReviewError as exc:
            return redirect(url_for("item", id=ident, error=str(exc)))
        return redirect(url_for("next_item", after=ident))

    @app.post("/lease")
    @login_required()
    def renew_lease():
        holder = take_lease(_store(), request.form.get("id", ""), session["user"])
        return ("", 409) if holder else ("", 204)

    @app.get("/image/field/<int:page_id>/<field_id>.jpg")
    @login_required()
    def field_image(page_id: int, field_id: str):
        survey = _store().db.execute("SELECT survey FROM pages WHERE id = ?", (page_id,)).fetchone()
        if not survey or not survey[0]:
            abort(404)
        try:
            fld = _field_layout(survey[0], field_id)
        except (StopIteration, SipasError):
            abort(404)
        return Response(crops.field_crop(_page_image(page_id), fld), mimetype="image/jpeg")

    @app.get("/image/page/<int:page_id>.jpg")
    @login_required()
    def page_image(page_id: int):
        return Response(_page_image(page_id), mimetype="image/jpeg")

    @app.get("/page/<int:page_id>")
    @login_required()
    def page(page_id: int):
        row = _store().db.execute("SELECT survey, serial, page_no, status, reason, detail FROM pages WHERE id = ?",
                                  (page_id,)).fetchone()
        if row is None:
            abort(404)
        return render_template("page.html", page_id=page_id, row=row)

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
        qc.draw_sample(_store(), forms, session["user"])
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
        codes = [c for c in request.form.get("value", "").split(";") if c]
        if any(c not in known for c in codes):
            abort(400)
        qc.record_entry(_store(), task, join_codes(codes), session["user"])
        return redirect(url_for("qc_next"))

    @app.get("/log")
    @login_required("supervisor")
    def log():
        rows = _store().db.execute(
            "SELECT id, survey, serial, field_id, old_value, new_value, reviewer, at, reason FROM decisions"
            " ORDER BY id DESC LIMIT 500").fetchall()
        return render_template("log.html", rows=rows, in_force=_store().decisions())

    @app.post("/reopen")
    @login_required("supervisor")
    def reopen():
        survey, serial, key = request.form["survey"], request.form["serial"], request.form["key"]
        try:
            actions.reopen(_store(), survey, serial, key, session["user"], request.form.get("note", ""),
                           app.config["LEDGER_PATH"])
        except actions.ReviewError as exc:
            abort(Response(str(exc), status=409))
        ident = f"{survey}|{serial}|{key}"
        return redirect(url_for("item", id=ident) if find_item(_store(), ident) else url_for("log"))
