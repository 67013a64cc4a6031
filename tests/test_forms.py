"""Pages -> forms on hand-made page records: which evidence holds a form for
a person, and which does not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sipas_scan.assembly import decisions as keys
from sipas_scan.assembly.forms import IssuedForms, PageRecord, assemble
from sipas_scan.layout import survey_and_layout
from sipas_scan.review.actions import allowed_values
from sipas_scan.review.queue import ReviewItem

SURVEY = "sipas-household"


def _surveys():
    survey, layout = survey_and_layout(SURVEY)
    return {SURVEY: survey}, {SURVEY: layout.page_count}, layout


def _page(
    page_id: int, page_no: int, origin: str, *, serial: str = "0000018", value: str = "1", verified: bool = True, quarantined: str = ""
) -> PageRecord:
    _, _, layout = _surveys()
    fields = (
        []
        if quarantined
        else [
            {"field_id": f.id, "value": value if f.kind != "text" else "", "confidence": 1.0, "flags": []}
            for f in layout.pages[page_no - 1].fields
            if f.kind != "text"
        ]
    )
    comments = (
        []
        if quarantined
        else [
            {"field_id": f.id, "has_writing": False, "text": "", "mean_confidence": 0.0, "flags": []}
            for f in layout.pages[page_no - 1].fields
            if f.kind == "text"
        ]
    )
    return PageRecord(page_id, origin, SURVEY, serial, page_no, fields, comments, verified, quarantined)


def _form(pages: list[PageRecord]):
    surveys, counts, _ = _surveys()
    (form,) = assemble(pages, surveys, counts, IssuedForms(), {})
    return form


def _reasons(form) -> dict[str, bool]:
    return {f.reason: f.blocking for f in form.flags}


def _pages(count: int, origins: list[str], **kwargs) -> list[PageRecord]:
    return [_page(n, n, origins[n - 1], **kwargs) for n in range(1, count + 1)]


def test_a_form_split_across_files_is_no_doubt():
    _, counts, _ = _surveys()
    n = counts[SURVEY]
    form = _form(_pages(n, ["job-1.pdf p. 40"] * (n - 1) + ["rescan-0001.jpg p. 1"]))
    assert not any(blocking for blocking in _reasons(form).values()), form.flags
    assert form.status == "accepted"


def test_a_page_scanned_twice_alike_names_both_files_and_does_not_block():
    _, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY]) + [_page(99, 2, "b.pdf p. 7")]
    form = _form(pages)
    (dup,) = [f for f in form.flags if f.reason == "duplicate-page"]
    assert not dup.blocking and "a.pdf p. 1" in dup.detail and "b.pdf p. 7" in dup.detail
    assert form.status == "accepted"


def test_two_differently_filled_copies_hold_the_whole_form():
    _, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY]) + [_page(99, 2, "b.pdf p. 7", value="2")]
    form = _form(pages)
    reasons = _reasons(form)
    assert reasons["duplicate-conflict"] and reasons["two-copies"]
    conflict = next(f for f in form.flags if f.reason == "duplicate-conflict")
    assert "a.pdf p. 1" in conflict.detail and "b.pdf p. 7" in conflict.detail
    assert form.status == "needs_review"


def _faded(page: PageRecord, *field_ids: str) -> PageRecord:
    """The page as a scan that lost these questions' marks under a fade."""
    fields = [{**f, "value": "", "flags": ["faded"]} if f["field_id"] in field_ids else f for f in page.fields]
    return replace(page, fields=fields)


def test_a_second_scan_that_lost_marks_under_a_fade_is_no_second_copy():
    # An office seed no one tuned on: page 3 fed twice, two answers under a
    # fade streak on one scan, read clearly on the other. The clear scan
    # counts; the form is no photocopy.
    _, counts, layout = _surveys()
    c4 = [f.id for f in layout.pages[2].fields if f.kind != "text"][:2]
    clear = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY])
    faded_second = [*clear, _faded(_page(99, 3, "a.pdf p. 34"), *c4)]
    faded_first = [*clear[:2], _faded(clear[2], *c4), *clear[3:], _page(99, 3, "b.pdf")]
    for pages in (faded_second, faded_first):
        form = _form(pages)
        assert form.status == "accepted", form.flags
        (dup,) = [f for f in form.flags if f.reason == "duplicate-page"]
        assert "same marks where both scans read clearly" in dup.detail and not dup.blocking
        assert all(form.answers[f][0] == "1" for f in c4)
    # A question answered differently where both scans read clearly: two copies.
    other = _faded(_page(99, 3, "a.pdf p. 34", value="2"), *c4)
    assert {"duplicate-conflict", "two-copies"} <= set(_reasons(_form([*clear, other])))
    # Nor does a light mark one scan lost settle it: the form is looked at whole.
    faint = _faded(_page(99, 3, "a.pdf p. 34"), *c4)
    faint = replace(faint, fields=[{**f, "flags": ["faint"]} if f["field_id"] in c4 else f for f in faint.fields])
    assert {"duplicate-conflict", "two-copies"} <= set(_reasons(_form([*clear, faint])))


def test_an_unreadable_copy_beside_a_read_page_is_held():
    _, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY]) + [_page(99, 3, "b.pdf p. 2", quarantined="poor-alignment")]
    form = _form(pages)
    (flag,) = [f for f in form.flags if f.reason == "unread-copy"]
    assert flag.blocking and flag.page_id == 99 and "b.pdf p. 2" in flag.detail
    assert form.status == "needs_review"


def test_a_page_identified_by_its_printed_serial_joins_a_verified_form():
    _, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY])
    pages[1] = _page(2, 2, "a.pdf p. 2", verified=False)
    form = _form(pages)
    assert form.status == "accepted" and "unverified-code" not in _reasons(form)


def test_a_form_whose_pages_were_all_identified_by_print_is_confirmed_by_a_person():
    _, counts, _ = _surveys()
    form = _form(_pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY], verified=False))
    assert _reasons(form)["unverified-code"] and form.status == "needs_review"


def test_a_page_that_only_came_unreadable_is_missing_with_the_reason():
    _, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY])
    pages[0] = _page(1, 1, "a.pdf p. 1", quarantined="markers-not-found")
    form = _form(pages)
    (missing,) = [f for f in form.flags if f.reason == "missing-page"]
    assert missing.page_id == 1 and "markers-not-found" in missing.detail


def test_cancelled_and_circled_answers_do_not_block_but_are_recorded():
    _, counts, layout = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY])
    pages[0].fields[0]["flags"] = ["cancelled"]
    pages[0].fields[1]["flags"] = ["circled"]
    pages[0].fields[2]["flags"] = ["unclear-cancel", "cancelled"]
    form = _form(pages)
    blocking = {(f.field_id, f.reason): f.blocking for f in form.flags}
    ids = [f["field_id"] for f in pages[0].fields[:3]]
    assert blocking[(ids[0], "cancelled")] is False and blocking[(ids[1], "circled")] is False
    assert blocking[(ids[2], "unclear-cancel")] is True


def _with_answers(pages: list[PageRecord], answers: dict[str, tuple[str, list[str]]]) -> list[PageRecord]:
    for page in pages:
        for reading in page.fields:
            if reading["field_id"] in answers:
                reading["value"], reading["flags"] = answers[reading["field_id"]]
    return pages


@pytest.mark.parametrize("doubt", ["faint-page", "faded", "faint", "outside-box"])
def test_a_blank_that_a_clear_answer_says_does_not_apply_is_no_doubt(doubt):
    # c5_* apply only when a5 is 1: with a5 clearly 2 they are blank as
    # they should be, however light the page's other marks, faded the
    # streak they lie in, or doubtful a trace or a loop in them.
    _, counts, _ = _surveys()
    doubted_blank = {f"c5_{n}": ("", [doubt]) for n in range(1, 5)}
    form = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a5": ("2", []), **doubted_blank}))
    assert doubt not in _reasons(form) and form.status == "accepted", form.flags
    # A form a person looks at anyway shows them too: lost marks there may
    # be a respondent's who answered where they should not have.
    elsewhere = {"d1": ("1;2", ["multiple"])}
    form = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a5": ("2", []), **doubted_blank, **elsewhere}))
    assert {f.field_id for f in form.flags if f.reason == doubt} == set(doubted_blank), form.flags
    # Where they apply, or the answer that decides is itself in doubt, a person looks.
    for a5 in [("1", []), ("2", ["faint"])]:
        form = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a5": a5, **doubted_blank}))
        assert _reasons(form).get(doubt) and form.status == "needs_review", a5


def test_copies_that_disagree_on_a_question_that_does_not_apply_are_still_looked_at():
    _, counts, _ = _surveys()
    conflict = {"a5": ("2", []), "c5_1": ("", ["duplicate-conflict"])}
    form = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), conflict))
    assert _reasons(form).get("duplicate-conflict") and form.status == "needs_review", form.flags


def _no_marks(form) -> list[str]:
    return [f.detail for f in form.flags if f.reason == "no-marks" and not f.field_id]


def test_most_of_a_grid_left_blank_is_looked_at_half_is_not():
    # Respondents skip a row, even half a grid; more than half blank is marks the scan lost (a
    # stray stroke may be all that is left of the page).
    _, counts, _ = _surveys()
    one = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"c4_2": ("", [])}))
    assert _no_marks(one) == [] and one.status == "accepted", one.flags
    half = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"c4_2": ("", []), "c4_4": ("", [])}))
    assert _no_marks(half) == [] and half.status == "accepted", half.flags  # respondents do skip half a grid
    most = _form(
        _with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"c4_1": ("", []), "c4_2": ("", []), "c4_4": ("", [])})
    )
    assert [d for d in _no_marks(most) if "b_f4" in d] and most.status == "needs_review", most.flags
    assert "3 of 4 rows" in _no_marks(most)[0]
    # A row a person already looks at still counts as blank: a trace in it
    # says nothing of the others, which go to a person with the grid.
    doubted = _form(
        _with_answers(
            _pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"c4_1": ("", []), "c4_2": ("", []), "c4_4": ("", ["faint"])}
        )
    )
    assert [d for d in _no_marks(doubted) if "b_f4" in d and "3 of 4 rows" in d], doubted.flags
    # Every blank row already doubted: the grid is still held as a whole,
    # its answered row with it.
    all_doubted = _form(
        _with_answers(
            _pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]),
            {"c4_1": ("", ["faint"]), "c4_2": ("", ["faint"]), "c4_4": ("", ["faint"])},
        )
    )
    assert [d for d in _no_marks(all_doubted) if "b_f4" in d and "3 of 4 rows" in d], all_doubted.flags


def test_a_grid_that_does_not_apply_may_be_blank():
    _, counts, _ = _surveys()
    blank_c5 = {f"c5_{n}": ("", []) for n in range(1, 5)}
    form = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a5": ("2", []), **blank_c5}))
    assert _no_marks(form) == [] and form.status == "accepted", form.flags


def test_a_page_with_no_answer_is_looked_at_even_when_one_question_is_doubted():
    _, counts, layout = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY])
    first = {r["field_id"]: ("", []) for r in pages[0].fields}
    first[pages[0].fields[1]["field_id"]] = ("", ["faded"])
    form = _form(_with_answers(pages, first))
    assert any("page 1 has no marks at all" in d for d in _no_marks(form)), form.flags


def test_most_of_a_page_of_questions_left_blank_is_looked_at():
    # Page 1's five questions: two blank is a respondent's choice, three is
    # marks the scan lost.
    _, counts, _ = _surveys()
    two = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a1": ("", []), "a2": ("", [])}))
    assert _no_marks(two) == [] and two.status == "accepted", two.flags
    three = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), {"a1": ("", []), "a2": ("", []), "a3": ("", [])}))
    assert _no_marks(three)[0] == "page 1: 3 of 5 questions without marks", three.flags
    # ... and such a page before the form's last answer shows its marks
    # vanishing: the other pages are looked at too.
    assert len(_no_marks(three)) == counts[SURVEY], three.flags


def test_questions_left_blank_in_a_row_before_later_answers_are_looked_at():
    # C1 and D1-D3 lost to a faded streak of a black-and-white scan, D4-D5
    # read: three or more questions in a row is marks the scan lost; two is
    # a respondent's choice, and so is a form left unfinished at its end.
    _, counts, _ = _surveys()

    def form_with(blank: list[str], **answers: str):
        chosen = {f: ("", []) for f in blank} | {f: (v, []) for f, v in answers.items()}
        return _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), chosen))

    lost = form_with(["e1", "d1", "d2", "d3"])
    assert _no_marks(lost) == ["page 3: 4 questions in a row without marks"] and lost.status == "needs_review", lost.flags
    two = form_with(["d1", "d2"])
    assert _no_marks(two) == [] and two.status == "accepted", two.flags
    unfinished = form_with(["d1", "d2", "d3", "d4", "d5"])
    assert _no_marks(unfinished) == ["page 4 has no marks at all"], unfinished.flags  # page 4's own rule; page 3 is not held
    # ... unless the form shows its marks vanishing elsewhere: a page before
    # its last answer without any, or a page of barely visible marks.
    vanished = form_with(["a1", "a2", "a3", "a4", "a5", "e1", "d1", "d2", "d3", "d4", "d5"], c4_1="4")
    assert "page 3: 4 of its questions without marks, where the form's marks vanish elsewhere" in _no_marks(vanished)
    chosen = {f: ("", []) for f in ["d1", "d2", "d3", "d4", "d5"]} | {"a3": ("", ["faint-page"])}
    barely = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), chosen))
    assert "page 3: 3 of its questions without marks, where the form's marks vanish elsewhere" in _no_marks(barely), barely.flags
    # Questions that do not apply neither break a run nor count in it.
    across_c5 = form_with(["c4_4", "e1", "d1", *(f"c5_{n}" for n in range(1, 5))], a5="2")
    assert _no_marks(across_c5) == ["page 3: 3 questions in a row without marks"], across_c5.flags
    # A blank question a person looks at for ink round a box stays in the
    # run: with the two undoubted blanks beside it, a run of three holds
    # the page (hard seed 81: the run split in two, three answers lost
    # unseen). (A doubt that marks vanish holds every blank question's
    # page: below.)
    chosen = {f: ("", []) for f in ["e1", "d2"]} | {"d1": ("", ["outside-box"])}
    split = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), chosen))
    assert _no_marks(split) == ["page 3: 3 questions in a row without marks"], split.flags
    # Every question of the run doubted already: its page is still looked
    # at as a whole, its answers with it.
    chosen = {f: ("", ["outside-box"]) for f in ["e1", "d1", "d2"]}
    all_doubted = _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), chosen))
    assert _no_marks(all_doubted) == ["page 3: 3 questions in a row without marks"], all_doubted.flags
    # A run across two pages holds both.
    across_pages = form_with(["c3_6", "c4_1", "c4_2"])
    assert _no_marks(across_pages) == [
        "page 2: 1 of 3 questions in a row without marks",
        "page 3: 2 of 3 questions in a row without marks",
    ]


def test_a_form_identified_by_print_whose_serial_was_never_issued_cannot_be_kept():
    # A forgery whose codes were made unreadable, a serial the ledger never
    # issued: keeping it by hand does not make it data; rejecting it settles it.
    surveys, counts, _ = _surveys()
    pages = _pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY], verified=False)
    never_issued = IssuedForms(default=None)
    kept = {(SURVEY, "0000018", keys.FORM): keys.KEPT}
    (form,) = assemble(pages, surveys, counts, never_issued, kept)
    assert {"unverified-code", "not-issued"} <= set(_reasons(form)) and form.status == "needs_review"
    (rejected,) = assemble(pages, surveys, counts, never_issued, {(SURVEY, "0000018", keys.FORM): keys.REJECTED})
    assert rejected.status == "rejected"
    # Either doubt alone is a person's to settle.
    (verified,) = assemble(_pages(counts[SURVEY], ["a.pdf p. 1"] * counts[SURVEY]), surveys, counts, never_issued, kept)
    (unverified,) = assemble(pages, surveys, counts, IssuedForms(), kept)
    assert verified.status == unverified.status == "resolved"
    review_item = ReviewItem(SURVEY, "0000018", keys.FORM, "form", ("unverified-code", "not-issued"), ("", ""), 0.0, ())
    assert allowed_values(review_item) == {keys.REJECTED}
    assert allowed_values(replace(review_item, reasons=("unverified-code",))) == {keys.KEPT, keys.REJECTED}


@pytest.mark.parametrize("doubt", ["faint", "faint-page", "faded"])
def test_one_blank_question_on_a_form_whose_marks_vanish_elsewhere_is_looked_at(doubt):
    # Office seed 111, form 0002014: a light pen on a black-and-white scan,
    # page 2 without marks, three questions of page 1 barely visible; D5,
    # the last question, read blank where the scan kept two specks of a
    # tick. One blank question alone is a respondent's choice; on a form
    # whose marks vanish elsewhere it may be one more mark lost.
    _, counts, _ = _surveys()

    def form_with(chosen: dict[str, tuple[str, list[str]]]):
        return _form(_with_answers(_pages(counts[SURVEY], ["a.pdf"] * counts[SURVEY]), chosen))

    alone = form_with({"d5": ("", [])})
    assert _no_marks(alone) == [] and alone.status == "accepted", alone.flags
    page_lost = form_with({"d5": ("", [])} | {f"c3_{n}": ("", []) for n in range(1, 7)} | {f"c2_{n}": ("", []) for n in range(1, 6)})
    assert "page 4: 1 of its questions without marks, where the form's marks vanish elsewhere" in _no_marks(page_lost)
    # A question doubted for a barely visible mark: each page of the form
    # is looked at as a whole, answered ones too (a multiple-choice answer
    # may be short of a mark).
    traced = form_with({"d5": ("", []), "a2": ("", [doubt])})
    assert _no_marks(traced) == [
        "page 1: 1 of its questions without marks, where the form's marks vanish elsewhere",  # A2's page
        "page 2: its answers to check against the paper, where the form's marks vanish elsewhere",
        "page 3: its answers to check against the paper, where the form's marks vanish elsewhere",
        "page 4: 1 of its questions without marks, where the form's marks vanish elsewhere",
    ], traced.flags
    # A doubt on a question the skip rules leave blank (C5 when A5 says no
    # feedback was given) says nothing of the scan, and holds nothing.
    not_applying = form_with({"d5": ("", []), "a5": ("2", [])} | {f"c5_{n}": ("", [doubt] if n == 1 else []) for n in range(1, 5)})
    assert _no_marks(not_applying) == [] and not_applying.status == "accepted", not_applying.flags
