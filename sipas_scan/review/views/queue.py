"""The overview and the review queue: the next item, one item, a decision,
the lease that keeps two reviewers off one item."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from sipas_scan.assembly import decisions as keys
from sipas_scan.assembly.forms import unproven
from sipas_scan.layout import survey_and_layout
from sipas_scan.records import STATUSES
from sipas_scan.review import actions, screens
from sipas_scan.review.labels import label
from sipas_scan.review.overview import overview
from sipas_scan.review.queue import ReviewItem, find_item, open_idents, take_lease, take_next
from sipas_scan.review.views.common import (
    error_text,
    ident,
    language,
    ledger_path,
    login_required,
    message_page,
    store,
)

blueprint = Blueprint("queue", __name__)


def _question_text(survey_id: str, field_id: str) -> tuple[str, str]:
    survey, _ = survey_and_layout(survey_id)
    question = survey.field(field_id)
    return question.label, question.text


def _choices(item: ReviewItem) -> list[tuple[str, str, str]]:
    """(key, value, label) of each button for an item that is not an answer."""
    lang = language()
    if item.kind == "form":
        values = [(keys.KEPT, label("keep_form", lang)), (keys.REJECTED, label("reject_form", lang))]
        values = [(key, text) for key, text in values if key in (actions.allowed_values(item) or set())]
    elif item.kind == "quarantine":
        values = [(keys.REJECTED, label("reject_page", lang))]
    elif "duplicate-conflict" in item.reasons and len(item.page_ids) >= 2:
        values = [
            (f"{keys.USE}{item.page_ids[0]}", label("use_left", lang)),
            (f"{keys.USE}{item.page_ids[1]}", label("use_right", lang)),
            (keys.REJECTED, label("reject_form", lang)),
        ]
    elif "unread-copy" in item.reasons and item.page_ids:
        values = [(f"{keys.USE}{item.page_ids[0]}", label("use_read", lang)), (keys.REJECTED, label("reject_form", lang))]
    elif "placed-by-stack" in item.reasons:
        values = [
            (keys.CONFIRMED, label("placed_confirm", lang)),
            (keys.TAKEN_OUT, label("placed_take_out", lang)),
            (keys.REJECTED, label("reject_form", lang)),
        ]
    elif "missing-page" in item.reasons:
        values = [(keys.NOT_RETURNED, label("not_returned", lang)), (keys.REJECTED, label("reject_form", lang))]
    else:
        values = [
            (keys.CONFIRMED, label("confirm_as_read", lang)),
            (keys.ANSWER_EACH, label("answer_each", lang)),
            (keys.REJECTED, label("reject_form", lang)),
        ]
    return [(str(n), value, text) for n, (value, text) in enumerate(values, start=1)]


def item_page(found: ReviewItem, error: str = "", status: int = 200) -> tuple[str, int]:
    context: dict = {"item": found, "error": error}
    if found.kind in ("answer", "comment"):
        context["label"], context["text"] = _question_text(found.survey, found.key)
        question = survey_and_layout(found.survey)[0].field(found.key)
        context["question"] = question
        context["machine"] = actions.current_value(store(), found.survey, found.serial, found.key) or ""
    else:
        context["choices"] = _choices(found)
        context["surveys"] = store().surveys()
        context["assignable"] = actions.assignable(found)
        context["unproven"] = unproven(found.reasons)
    context.update(screens.item_context(store(), found, language(), context.get("machine", "")))
    return render_template("item.html", **context), status


@blueprint.get("/")
@login_required()
def home():
    opened = store()
    facts = overview(opened, ledger_path())
    return render_template("overview.html", o=facts, statuses=STATUSES, waiting=len(open_idents(opened)))


@blueprint.get("/next")
@login_required()
def next_item():
    after = request.args.get("after")
    if request.args.get("dir") not in (None, "1", "-1"):
        abort(400)
    step = -1 if request.args.get("dir") == "-1" else 1
    opened = store()
    # Picked and leased in one step: two reviewers never land on one item.
    item = take_next(opened, g.user, ident(after) if after else None, step)
    if item is None:
        return render_template("empty.html")
    return redirect(url_for("queue.item", id=item.ident))


@blueprint.get("/item")
@login_required()
def item():
    wanted = ident(request.args.get("id", ""))
    found = find_item(store(), wanted)
    if found is None:
        return message_page(label("already_decided", language()), 404)
    holder = take_lease(store(), wanted, g.user)
    if holder:
        return message_page(label("leased_by", language(), who=holder), 409)
    return item_page(found)


@blueprint.post("/decide")
@login_required()
def decide():
    wanted = ident(request.form.get("id", ""))
    found = find_item(store(), wanted)
    if found is None:
        return message_page(label("already_decided", language()), 409)
    value = request.form.get("value", "")
    if request.form.get("assign_serial") and found.kind == "quarantine":
        value = (
            f"{keys.ASSIGN}{request.form.get('assign_survey', '')}|{request.form['assign_serial'].strip()}|"
            f"{request.form.get('assign_page', '')}"
        )
    try:
        actions.decide(store(), found, value, g.user, request.form.get("note", ""), ledger_path(), supervisor=g.role == "supervisor")
    except actions.ReviewError as exc:
        if exc.status == 409:
            return message_page(error_text(exc), 409)
        # Refused, nothing written: the item again, with why.
        return item_page(found, error_text(exc), exc.status)
    return redirect(url_for("queue.next_item", after=wanted))


@blueprint.post("/lease")
@login_required(activity=False)
def renew_lease():
    holder = take_lease(store(), ident(request.form.get("id", "")), g.user)
    return ("", 409) if holder else ("", 204)
