"""For supervisors: the decision log, and reopening a decision."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from sipas_scan.review import actions, screens
from sipas_scan.review.queue import find_item
from sipas_scan.review.views.common import (
    MAX_IDENT_LENGTH,
    error_text,
    language,
    ledger_path,
    login_required,
    message_page,
    store,
)

blueprint = Blueprint("log", __name__)


@blueprint.get("/log")
@login_required("supervisor")
def decisions():
    before = request.args.get("before")
    if before is not None and not before.isdigit():
        abort(400)
    rows, older = screens.log_page(store(), language(), int(before) if before else None)
    return render_template("log.html", rows=rows, older=older, before=before)


@blueprint.post("/reopen")
@login_required("supervisor")
def reopen():
    survey, serial, key = (request.form.get(name, "") for name in ("survey", "serial", "key"))
    if not key or len(survey) + len(serial) + len(key) > MAX_IDENT_LENGTH:
        abort(400)
    try:
        actions.reopen(store(), survey, serial, key, g.user, request.form.get("note", ""), ledger_path())
    except actions.ReviewError as exc:
        return message_page(error_text(exc), exc.status)
    ident = f"{survey}|{serial}|{key}"
    return redirect(url_for("queue.item", id=ident) if find_item(store(), ident) else url_for("log.decisions"))
