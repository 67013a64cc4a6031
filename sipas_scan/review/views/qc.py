"""Blind re-entry: the sample's summary, drawing a sample, the next answer
to enter again, an entry."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from sipas_scan.layout import survey_and_layout
from sipas_scan.review import actions, qc
from sipas_scan.review.labels import label
from sipas_scan.review.views.common import language, login_required, store

blueprint = Blueprint("qc", __name__)


@blueprint.get("/qc")
@login_required()
def summary():
    return render_template("qc.html", s=qc.summary(store()))


@blueprint.post("/qc/draw")
@login_required("supervisor")
def draw():
    try:
        forms = max(1, min(1000, int(request.form.get("forms", "20") or 20)))
    except ValueError:
        abort(400)
    qc.draw_sample(store(), forms, g.user)
    return redirect(url_for("qc.summary"))


@blueprint.get("/qc/next")
@login_required()
def next_task():
    task = qc.next_task(store())
    if task is None:
        return render_template("empty.html", message=label("qc_done", language()))
    question = survey_and_layout(task.survey)[0].field(task.field_id)
    return render_template("qc_item.html", task=task, question=question)


@blueprint.post("/qc/enter")
@login_required()
def enter():
    try:
        sample_id, survey, serial, field_id = request.form.get("id", "").split("|")
        task = qc.task_of(store(), int(sample_id), survey, serial, field_id)
    except (ValueError, LookupError):
        abort(400)
    known = {o.code for o in survey_and_layout(survey)[0].field(field_id).options}
    value = request.form.get("value", "")
    if any(c.strip() not in known for c in value.split(";") if c.strip()):
        abort(400)
    qc.record_entry(store(), task, actions.normalise_codes(value), g.user)
    return redirect(url_for("qc.next_task"))
