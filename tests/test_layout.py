import itertools
import json
import os
import subprocess
import sys

import pytest

from sipas_scan import defs
from sipas_scan.fonts import missing_glyphs, vietnamese_letters
from sipas_scan.layout import TextRun, all_boxes, layout_survey
from sipas_scan.survey import load_survey

SURVEYS = ("sipas-household", "sipas-national-2023")


@pytest.fixture(scope="module", params=SURVEYS)
def survey_and_layout(request):
    survey = load_survey(request.param)
    return survey, layout_survey(survey)


def _overlap(a, b, margin=0.0):
    return not (
        a[0] + a[2] + margin <= b[0] or b[0] + b[2] + margin <= a[0] or a[1] + a[3] + margin <= b[1] or b[1] + b[3] + margin <= a[1]
    )


def test_every_field_is_laid_out_once_in_survey_order(survey_and_layout):
    survey, layout = survey_and_layout
    laid_out = [f.id for page in layout.pages for f in page.fields]
    assert laid_out == survey.field_ids()
    for question in survey.fields():
        fld = layout.field(question.id)
        assert fld.kind == question.kind
        assert [o.code for o in fld.options] == list(question.codes)


def test_boxes_are_pen_sized_separated_and_inside_the_content_area(survey_and_layout):
    _, layout = survey_and_layout
    for page in layout.pages:
        boxes = [o.box for f in page.fields for o in f.options]
        for x, y, w, h in boxes:
            assert w >= 4.0 and h >= 4.0
            assert x >= defs.CONTENT_LEFT_MM and x + w <= defs.CONTENT_RIGHT_MM
            assert y >= defs.CONTENT_TOP_MM and y + h <= defs.CONTENT_BOTTOM_MM
        for a, b in itertools.combinations(boxes, 2):
            assert not _overlap(a, b, margin=2.0), (page.number, a, b)


def test_text_boxes_and_regions_stay_on_the_page(survey_and_layout):
    _, layout = survey_and_layout
    for page in layout.pages:
        for fld in page.fields:
            if fld.kind == "text":
                x, y, w, h = fld.box
                assert h >= 3 * defs.TEXT_LINE_PITCH_MM and y + h <= defs.CONTENT_BOTTOM_MM
            rx, ry, rw, rh = fld.region
            assert rx >= 0 and rx + rw <= defs.PAGE_WIDTH_MM and ry >= 0 and ry + rh <= defs.PAGE_HEIGHT_MM


def test_markers_and_qr_do_not_touch_the_content(survey_and_layout):
    _, layout = survey_and_layout
    assert [m.id for m in layout.markers] == list(defs.MARKER_IDS)
    for page in layout.pages:
        for _, option in ((f, o) for f in page.fields for o in f.options):
            for marker in layout.markers:
                assert not _overlap(option.box, marker.rect, margin=3.0)
            assert not _overlap(option.box, layout.qr, margin=3.0)


def test_layout_json_matches_the_contract(survey_and_layout, tmp_path):
    survey, layout = survey_and_layout
    path = tmp_path / "layout.json"
    layout.write_json(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["survey"] == survey.id
    assert doc["page_size_mm"] == [210, 297]
    assert [p["page"] for p in doc["pages"]] == list(range(1, layout.page_count + 1))
    kinds = {}
    for page in doc["pages"]:
        for fld in page["fields"]:
            kinds[fld["id"]] = fld["kind"]
            if fld["kind"] == "text":
                assert len(fld["box_mm"]) == 4
            else:
                assert all(len(o["box_mm"]) == 4 and isinstance(o["code"], str) for o in fld["options"])
            if fld["kind"] == "multi":
                assert fld["max"] == survey.field(fld["id"]).max_choices
    assert list(kinds) == survey.field_ids()


def test_layout_is_the_same_in_every_process():
    """Print writes layout.json; simulate and scan lay the survey out again,
    in other processes, and refuse a batch whose layout differs. Python
    salts its string hashes per process: a layout that leaned on set or hash
    order would differ between two processes, never within one."""
    script = (
        "import json; from sipas_scan.layout import layout_survey; from sipas_scan.survey import load_survey; "
        "print(json.dumps(layout_survey(load_survey()).to_contract(), sort_keys=True))"
    )
    here = json.dumps(layout_survey(load_survey()).to_contract(), sort_keys=True)
    for hash_seed in ("1", "2", "3"):
        there = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout.strip()
        assert there == here, hash_seed


def test_the_font_has_every_vietnamese_glyph_and_every_character_printed(survey_and_layout):
    _, layout = survey_and_layout
    assert missing_glyphs(vietnamese_letters()) == set()
    printed = "".join(d.text for page in layout.pages for d in page.drawing if isinstance(d, TextRun))
    assert missing_glyphs(printed) == set()
    assert missing_glyphs(printed, "SipasSans-Bold") == set()


def test_all_boxes_lists_every_option():
    layout = layout_survey(load_survey())
    assert sum(1 for _ in all_boxes(layout)) == sum(len(q.options) for q in load_survey().fields())
