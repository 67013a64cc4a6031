"""Stored pages: a page's screen, its image and the crop of one question."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from sipas_scan.errors import SipasError
from sipas_scan.review import crops, screens
from sipas_scan.review.views.common import language, login_required, store

blueprint = Blueprint("pages", __name__)


@blueprint.get("/image/field/<int:page_id>/<field_id>.jpg")
@login_required()
def field_image(page_id: int, field_id: str):
    # A question's crop (or a whole grid's), keyed, a grid row under its headings.
    stored, image = store().stored_page(page_id), store().page_image(page_id)
    if stored is None or not stored.survey or image is None:
        abort(404)
    try:
        return Response(crops.field_crop(image, stored.survey, stored.page_no, field_id), mimetype="image/jpeg")
    except (LookupError, SipasError, OSError):
        abort(404)


@blueprint.get("/image/page/<int:page_id>.jpg")
@login_required()
def page_image(page_id: int):
    # A page quarantined as scanned is shown the right way up.
    stored, image = store().stored_page(page_id), store().page_image(page_id)
    if stored is None or image is None:
        abort(404)
    try:
        return Response(crops.page_view(image, upright=stored.status == "quarantined"), mimetype="image/jpeg")
    except OSError:
        abort(404)


@blueprint.get("/page/<int:page_id>")
@login_required()
def page(page_id: int):
    facts = screens.page_context(store(), page_id, language())
    if facts is None:
        abort(404)
    return render_template("page.html", page_id=page_id, p=facts)
