"""Logging in and out, and the reviewer's language."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from sipas_scan.review import accounts
from sipas_scan.review.labels import LANGUAGES, label
from sipas_scan.review.views.common import language, login_required, store

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    failures = current_app.extensions["sipas_login_failures"]
    error = ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        if len(name) > accounts.MAX_NAME_LENGTH or len(password) > accounts.MAX_PASSWORD_LENGTH:
            # No account has such a name or password: refused, and nothing about it is kept.
            return render_template("login.html", error=label("bad_login", language())), 401
        if failures.locked(name):
            return render_template("login.html", error=label("locked", language())), 429
        role = accounts.check_login(store(), name, password)
        failures.record(name, success=bool(role))
        if role:
            old = session.get("sid")
            if isinstance(old, str):
                accounts.close_session(store(), old)
            lang = language()
            session.clear()
            session.permanent = True
            session.update(sid=accounts.open_session(store(), name), lang=lang)
            target = request.args.get("next") or ""
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("queue.home"))
        error = label("bad_login", language())
    return render_template("login.html", error=error), 401 if error else 200


@blueprint.post("/logout")
@login_required()
def logout():
    accounts.close_session(store(), session["sid"])
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.get("/lang/<code>")
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("queue.home"))
