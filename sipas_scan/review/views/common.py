"""What every view needs: the request's database, the reviewer's language,
the login check, item ids read from a request, and message pages."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from sipas_scan.assembly import decisions as keys
from sipas_scan.review import accounts, actions
from sipas_scan.review.labels import DEFAULT_LANGUAGE, label, reason_label
from sipas_scan.review.queue import parse_ident
from sipas_scan.store.db import Store

MAX_IDENT_LENGTH = 200  # survey|serial|key of any real item is far shorter


def store() -> Store:
    """The request's database, opened on first use and closed when the request ends."""
    if "store" not in g:
        g.store = Store(current_app.config["DB_PATH"])
    return g.store


def ledger_path():
    return current_app.config["LEDGER_PATH"]


def language() -> str:
    return session.get("lang", DEFAULT_LANGUAGE)


def login_required(role: str | None = None, *, activity: bool = True) -> Callable:
    """Only for a live session (and ``role``). ``activity``: the request is
    the user's own doing and restarts the idle clock; a background lease
    renewal is not, so a forgotten tab still times out."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            token = session.get("sid")
            current = accounts.current_session(store(), token, activity=activity) if isinstance(token, str) else None
            if current is None:
                session.pop("sid", None)
                return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
            g.user, g.role = current.user, current.role
            if role and current.role != role:
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def ident(text: str) -> str:
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


def error_text(exc: actions.ReviewError) -> str:
    lang = language()
    values = {k: reason_label(v, lang) if k == "reason" else v for k, v in exc.values.items()}
    return label(exc.message, lang, **values)


def message_page(message: str, status: int) -> tuple[str, int]:
    return render_template("empty.html", message=message), status
