"""Pages -> forms: group by serial, find missing and doubled pages, apply
the skip rules, settle each form's status.

Pure: page records in, FormRecords out. Nothing is dropped: a page scanned
twice is kept once and recorded; two different scans of a page, a copy of a
page that could not be read beside one that was, a missing page, a serial
never issued are flags. A form's pages may come in several files (a page
rescanned alone, a stack scanned in two jobs): that alone is no doubt.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum
from itertools import groupby

from sipas_scan.assembly import decisions as keys
from sipas_scan.printing.households import Household
from sipas_scan.reading.marks import NOTE_FLAGS
from sipas_scan.records import FormStatus
from sipas_scan.survey import Survey
from sipas_scan.survey.model import Condition

Decisions = dict[tuple[str, str, str], str]


FormKey = tuple[str, str]  # (survey, serial)


class Unknown(Enum):
    """Whether a serial was issued is not known (read before any ledger was given)."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


@dataclass(frozen=True)
class IssuedForms:
    """Who each serial was issued to; ``default`` for a serial not listed:
    None (not issued: flagged) with a ledger, UNKNOWN without one."""

    households: dict[FormKey, Household | None] = field(default_factory=dict)
    default: Unknown | None = UNKNOWN

    def of(self, survey: str, serial: str) -> Household | Unknown | None:
        return self.households.get((survey, serial), self.default)


MIN_GRID_ROWS = 3  # a blank grid of this many rows or more is looked at
MIN_PAGE_QUESTIONS = 3  # a page with fewer questions that apply (the last page's two) may well be half blank
MOSTLY_BLANK_SHARE = 0.5  # a grid with more than this share of its rows blank has lost marks, or its respondent
# skipped most of it; exactly half blank happens (a respondent skipping 2 of 4 rows on office
# stacks), more than half was 0 of 994 answered grids on hard stacks, 76 read so
BLANK_RUN = 3  # this many questions in a row left blank, with answers after them, lost their marks or were skipped
# Doubts on a question that say the form's marks may be vanishing (barely
# visible, a trace left, the print faded round it).
VANISHING_MARKS = frozenset({"faint-page", "faint", "faded"})
# (a respondent who stops answering stops for good; one who skips, skips one or two: one
# in ~250 hard-profile forms has such a run by chance, while a streak of vanished marks on a
# black-and-white scan took C1 and D1-D3 from a form whose D4-D5 were read)
# A page whose code was damaged or lost that a reviewer assigned to the form
# (the serial printed on it matched, or a supervisor gave a reason): a note.
IDENTIFIED_BY_HAND = "identified-by-hand"
PLACED_BY_STACK = "placed-by-stack"
# Doubts the reader raises about the marks in one question: a mark that
# may have vanished (a page of very light marks, a streak the scanner
# faded), a trace too light to tell, ink part way round a box, a fill
# neither done nor undone, boxes found out of place. In a blank question
# that does not apply, none can change what is scored; two copies of a page
# that disagree are another matter (not listed).
MARK_DOUBTS = frozenset({"faint-page", "faded", "faint", "outside-box", "unclear-cancel", "unclear-fill", "misaligned"})


@dataclass(frozen=True)
class Flag:
    field_id: str  # '' for the whole form
    reason: str
    confidence: float = 0.0
    detail: str = ""
    page_id: int | None = None
    blocking: bool = True
    page_no: int = 0
    item: str = ""  # the review decision key that settles it; default: field_id

    @property
    def key(self) -> str:
        return self.item or self.field_id


@dataclass
class FormRecord:
    survey: str
    serial: str
    status: FormStatus = FormStatus.ACCEPTED
    issued: Household | None = None  # household and place from the ledger
    answers: dict[str, tuple[str, float, int | None]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True)
class PageRecord:
    """What forms need of a stored page."""

    id: int
    origin: str  # where it was scanned: file name and page in the file, for people
    survey: str
    serial: str
    page_no: int
    fields: list[dict]
    comments: list[dict]
    verified: bool = True  # identified by its signed code, not only by the serial printed on it
    quarantined: str = ""  # why the page could not be read (its identity was): '' for a page read
    assigned: str = ""  # how a reviewer gave a quarantined page its identity: '' when the machine did
    placed: str = ""  # where the form's pages beside it lie, when its place in the stack gave it its form (``placement``)
    # Where it lies among copies of the same page: (file name, file SHA-256,
    # page in the file). Not the order pages were stored in, which depends
    # on which station read which file first.
    position: tuple[str, str, int] = ("", "", 0)


def _copies(pages: list[PageRecord]) -> str:
    return ", ".join(p.origin for p in pages)


def _doubted_on(page: PageRecord) -> set[str]:
    """The questions whose reading on this scan is held for a person."""
    return {f["field_id"] for f in page.fields if any(reason not in NOTE_FLAGS for reason in f["flags"])}


def _faded_on(page: PageRecord) -> set[str]:
    """The questions whose print this scan all but lost (``faded``): a mark
    there may have gone with it."""
    return {f["field_id"] for f in page.fields if "faded" in f["flags"]}


def _only_under_a_fade(differing: list[str], clear: PageRecord, faded: PageRecord) -> bool:
    """Whether the questions two scans of a page read differently
    (``differing``) are all ones whose print ``faded`` all but lost (a fade
    streak, the marks gone with it) and ``clear`` read without doubt: a poor
    scan of the same sheet, no second filling (an office seed no one tuned
    on: page 3 fed twice, two answers under a fade on one scan, the form
    held as two copies). Light marks one scan lost are not enough: a form
    with two copies is looked at whole, and on a hard stack that caught two
    lost marks elsewhere on the form."""
    return bool(differing) and set(differing) <= _faded_on(faded) - _doubted_on(clear)


def _differing(values: dict[str, str], other: dict[str, str]) -> list[str]:
    """The questions two scans of a page read differently (``_values``)."""
    return sorted(k for k in values if other.get(k) != values[k])


def _values(page: PageRecord) -> dict[str, str]:
    """What two scans of a page must agree on: the answers, and whether each
    comment box holds writing (OCR of two scans of one hand rarely matches
    letter for letter, and the text goes to review anyway)."""
    values = {f["field_id"]: f["value"] for f in page.fields}
    values.update({c["field_id"]: "writing" if c["has_writing"] else "" for c in page.comments})
    return values


def assemble(
    pages: list[PageRecord], surveys: dict[str, Survey], page_counts: dict[str, int], issued: IssuedForms, decisions: Decisions
) -> list[FormRecord]:
    groups: dict[FormKey, list[PageRecord]] = defaultdict(list)
    for page in sorted(pages, key=lambda p: (p.survey, p.serial, p.page_no, p.position)):
        groups[(page.survey, page.serial)].append(page)
    return [
        _assemble_form(survey_id, serial, members, surveys[survey_id], page_counts[survey_id], issued, decisions)
        for (survey_id, serial), members in sorted(groups.items())
    ]


def _assemble_form(
    survey_id: str, serial: str, members: list[PageRecord], survey: Survey, page_count: int, issued: IssuedForms, decisions: Decisions
) -> FormRecord:
    """One form from its pages: who identified it, which copy of each page
    counts, its answers, then the doubts that need the whole form."""
    form = FormRecord(survey_id, serial)
    by_number: dict[int, list[PageRecord]] = defaultdict(list)
    quarantined: dict[int, list[PageRecord]] = defaultdict(list)
    for page in members:
        (quarantined if page.quarantined else by_number)[page.page_no].append(page)
    read = [p for p in members if not p.quarantined]
    _flag_identity(form, read)
    page_numbers: dict[int, int] = {}
    page_fields: dict[int, tuple[int, list[str]]] = {}
    for number in range(1, page_count + 1):
        first = _page_that_counts(form, number, by_number.get(number, []), quarantined.get(number, []), decisions)
        if first is None:
            continue
        page_numbers[first.id] = number
        if first.fields and not any(r["value"] for r in first.fields):
            # Nobody skips a whole page; marks too light for the scanner (pencil
            # scanned in black-and-white) look exactly like this, and a
            # doubt on one question says nothing of the others.
            _flag_no_marks(
                form, f"page {number} has no marks at all", [r["field_id"] for r in first.fields], first.id, number, decisions
            )
        page_fields[number] = (first.id, [r["field_id"] for r in first.fields])
        _take_answers(form, first, number)
    _flag_two_copies(form, read)
    _flag_blank_grids(form, survey, page_numbers, decisions)
    _flag_blank_pages(form, survey, page_fields, decisions)
    if not _flag_vanishing_marks(form, survey, page_numbers, decisions):
        _flag_blank_runs(form, survey, page_numbers, decisions)
    _flag_skip_rules(form, survey)
    _settle_blanks_that_do_not_apply(form, survey)
    _record_issue(form, issued, verified=any(p.verified for p in read))
    form.status = settle(form, decisions)
    return form


def _flag_identity(form: FormRecord, read: list[PageRecord]) -> None:
    """Pages a person identified, and a form no signed code proves issued."""
    for page in read:
        if page.assigned:
            # Never silently like the rest: the export's flags and the
            # counts say which forms a person identified.
            form.flags.append(
                Flag(
                    "",
                    IDENTIFIED_BY_HAND,
                    1.0,
                    f"page {page.page_no} ({page.origin}): {page.assigned}",
                    page.id,
                    blocking=False,
                    page_no=page.page_no,
                )
            )
        if page.placed:
            # Order in a stack is no proof: a person confirms the page is
            # this form's, or takes it back out.
            form.flags.append(
                Flag(
                    "",
                    PLACED_BY_STACK,
                    detail=f"page {page.page_no} ({page.origin}) placed by its neighbours: {page.placed}",
                    page_id=page.id,
                    page_no=page.page_no,
                    item=keys.placed_key(page.id),
                )
            )
    if read and not any(p.verified for p in read):
        # Every page read was identified only by the serial printed on it:
        # nothing on this form proves it was issued. A person confirms.
        form.flags.append(
            Flag(
                "",
                "unverified-code",
                detail=f"no page of this form has a readable signed code; identified from the printed serial ({_copies(read)})",
                item=keys.FORM,
            )
        )


def _page_that_counts(
    form: FormRecord, number: int, copies: list[PageRecord], unread: list[PageRecord], decisions: Decisions
) -> PageRecord | None:
    """The copy of page ``number`` whose answers count (None: the page is
    missing); flags the other copies, alike or not, and those not read."""
    page_item = keys.page_key(number)
    if not copies:
        detail = f"page {number} was not scanned"
        if unread:
            detail = f"page {number} could not be read ({_copies(unread)}: {unread[0].quarantined})"
        form.flags.append(
            Flag(
                "",
                "missing-page",
                detail=detail,
                page_id=unread[0].id if unread else None,
                page_no=number,
                item=keys.missing_key(number),
            )
        )
        return None
    # The signed copy first; then a reviewer's choice of the scan that counts.
    copies.sort(key=lambda p: not p.verified)
    chosen = decisions.get((form.survey, form.serial, page_item), "")
    if chosen.startswith(keys.USE):
        copies.sort(key=lambda p: p.id != int(chosen.removeprefix(keys.USE)))
    elif len(copies) > 1 and copies[1].verified == copies[0].verified:
        counting, next_scan = copies[:2]
        if _only_under_a_fade(_differing(_values(next_scan), _values(counting)), next_scan, counting):
            copies[:2] = [next_scan, counting]  # the scan that read the page clearly counts
    first = copies[0]
    first_values = _values(first)
    for other in copies[1:]:
        other_values = _values(other)
        differing = _differing(first_values, other_values)
        if _only_under_a_fade(differing, first, other):
            differing = []
        if not differing:
            alike = "same marks where both scans read clearly" if first_values != other_values else "same marks"
            form.flags.append(
                Flag(
                    "",
                    "duplicate-page",
                    1.0,
                    f"page {number} scanned twice, {alike} ({first.origin}; {other.origin})",
                    other.id,
                    blocking=False,
                    page_no=number,
                    item=page_item,
                )
            )
        for field_id in differing:
            # Settled by choosing the scan that counts, for the whole page.
            form.flags.append(
                Flag(
                    field_id,
                    "duplicate-conflict",
                    0.0,
                    f"page {number} scanned twice: '{first_values[field_id]}' ({first.origin})"
                    f" and '{other_values.get(field_id, '')}' ({other.origin})",
                    other.id,
                    page_no=number,
                    item=page_item,
                )
            )
    for copy in unread:
        # Another copy of a page that was read: a rescan that went
        # wrong, or a photocopy whose original could not be checked.
        form.flags.append(
            Flag(
                "",
                "unread-copy",
                0.0,
                f"page {number} read from {first.origin}; another copy ({copy.origin}) could not be read: {copy.quarantined}",
                copy.id,
                page_no=number,
                item=page_item,
            )
        )
    return first


def _take_answers(form: FormRecord, page: PageRecord, number: int) -> None:
    """The page's answers and comments, with the doubts read on them."""
    for reading in page.fields:
        form.answers[reading["field_id"]] = (reading["value"], reading["confidence"], page.id)
        for reason in reading["flags"]:
            # A cancellation done as the form says, or a circled box,
            # is recorded with the answer but holds nothing back.
            form.flags.append(
                Flag(
                    reading["field_id"],
                    reason,
                    reading["confidence"],
                    page_id=page.id,
                    blocking=reason not in NOTE_FLAGS,
                    page_no=number,
                )
            )
    for comment in page.comments:
        text = comment["text"] if comment["has_writing"] else ""
        confidence = comment["mean_confidence"] / 100
        form.answers[comment["field_id"]] = (text, confidence, page.id)
        for reason in comment["flags"]:
            # A comment to transcribe is review work, but it does not hold
            # the form's answers back from scoring.
            form.flags.append(
                Flag(comment["field_id"], reason, confidence, page_id=page.id, blocking=reason != "ocr-review", page_no=number)
            )


def _flag_two_copies(form: FormRecord, read: list[PageRecord]) -> None:
    conflicting = sorted({f.page_no for f in form.flags if f.reason == "duplicate-conflict"})
    if conflicting:
        # Two differently filled copies of one form (a photocopy filled in
        # by someone else): a page that came in only once may be the
        # copy's, so the whole form is looked at, not just the conflicts.
        form.flags.append(
            Flag(
                "",
                "two-copies",
                detail=f"page {', '.join(map(str, conflicting))} scanned twice with different marks; pages read: {_copies(read)}",
                item=keys.FORM,
            )
        )


def _flag_skip_rules(form: FormRecord, survey: Survey) -> None:
    for question in survey.fields():
        condition = question.applies_if
        value = form.answers.get(question.id, ("", 1.0, None))[0]
        if condition and value and not condition.holds(form.answers.get(condition.question, ("",))[0]):
            # One item for a person, settled by the filter answer
            # itself: read again, it either lets these answers count or
            # confirms they do not apply (scoring leaves them out).
            form.flags.append(
                Flag(
                    question.id,
                    "skip-rule",
                    0.0,
                    f"answered although {condition.question} says it does not apply",
                    form.answers[question.id][2],
                    item=condition.question,
                )
            )


def _record_issue(form: FormRecord, issued: IssuedForms, verified: bool) -> None:
    """The household the form was issued to; a serial the ledger never issued is flagged."""
    entry = issued.of(form.survey, form.serial)
    if entry is not UNKNOWN:
        form.issued = entry
        if form.issued is None:
            detail = (
                "a valid code, but the serial is not in the ledger"
                if verified
                else "the serial printed on it is not in the ledger, and no page has a readable code"
            )
            form.flags.append(Flag("", "not-issued", detail=detail, item=keys.FORM))


def _settle_blanks_that_do_not_apply(form: FormRecord, survey: Survey) -> None:
    """A question left blank because a clear answer elsewhere says it does
    not apply holds no form back, whatever the reader doubted about its
    marks (a page of faint marks, a streak the scanner faded, a trace or a
    loop too light to tell): a mark there would be one the respondent
    should not have made, and scoring leaves it out. A form a person looks
    at anyway shows it too: the marks lost may be a respondent's who
    answered where they should not have."""
    doubted = _doubted(form)
    expected_blank = set()
    for question in survey.fields():
        condition = question.applies_if
        if condition is None or form.answers.get(question.id, ("",))[0] or condition.question in doubted:
            continue
        answer = form.answers.get(condition.question, ("",))[0]
        if answer and not condition.holds(answer):
            expected_blank.add(question.id)
    settled = [f for f in form.flags if f.reason in MARK_DOUBTS and f.field_id in expected_blank]
    if not any(f.blocking for f in form.flags if f not in settled):
        form.flags = [f for f in form.flags if f not in settled]


def _doubted(form: FormRecord) -> set[str]:
    """The fields a person already looks at."""
    return {f.field_id for f in form.flags if f.blocking and f.field_id}


def _applies(condition: Condition | None, form: FormRecord) -> bool:
    return condition is None or condition.holds(form.answers.get(condition.question, ("",))[0])


def _mostly_blank(form: FormRecord, field_ids: list[str]) -> list[str]:
    """The blank fields among ``field_ids`` when they are more than
    MOSTLY_BLANK_SHARE of them; else none. A blank question a person already
    looks at counts as blank: a faint trace in it says nothing of the others
    (hard seed 71: two forms' page 1 not held once a trace in one question
    was doubted, four answers lost there unseen). Even with every blank
    question doubted the page is held as a whole: its answers may be what
    is left of marks the scan moved or lost (39 stored stacks decided again:
    10 wrong answers no longer unseen, no form held more, as a form with a
    doubted question is with a person already)."""
    blank = [i for i in field_ids if not form.answers.get(i, ("",))[0]]
    return blank if len(blank) > MOSTLY_BLANK_SHARE * len(field_ids) else []


def _flag_blank_grids(form: FormRecord, survey: Survey, page_numbers: dict[int, int], decisions: Decisions) -> None:
    """A grid left blank, wholly or mostly, where it applies. Respondents skip
    a row, even half a grid, rarely more; light pencil scanned in black and white looks
    just like it, and so does a page whose marks mostly vanished, where what
    is left may be a stray stroke."""
    for grid in survey.grids():
        rows = [q.id for q in grid.rows]
        if len(rows) < MIN_GRID_ROWS or any(r not in form.answers for r in rows) or not _applies(grid.applies_if, form):
            continue
        blank = _mostly_blank(form, rows)
        if not blank:
            continue
        page_id = form.answers[rows[0]][2]
        page_no = page_numbers.get(page_id, 0) if page_id is not None else 0
        what = "has no marks at all" if len(blank) == len(rows) else f"has {len(blank)} of {len(rows)} rows without marks"
        _flag_no_marks(form, f"page {page_no}: grid {grid.id} {what}", rows, page_id, page_no, decisions)


def _flag_blank_pages(form: FormRecord, survey: Survey, page_fields: dict[int, tuple[int, list[str]]], decisions: Decisions) -> None:
    """A page with more than half the questions that apply to this respondent blank:
    respondents skip a question, rarely most of a page, but a page whose marks
    mostly vanished in the scan looks like this, a stray stroke perhaps all
    that is left. Pages already held for lost marks are with a person."""
    held = _held_for_lost_marks(form)
    questions = {q.id: q for q in survey.fields()}
    for number, (page_id, field_ids) in sorted(page_fields.items()):
        applying = [i for i in field_ids if i in questions and _applies(questions[i].applies_if, form)]
        blank = _mostly_blank(form, applying)
        if number in held or len(applying) < MIN_PAGE_QUESTIONS or not blank:
            continue
        _flag_no_marks(
            form, f"page {number}: {len(blank)} of {len(applying)} questions without marks", field_ids, page_id, number, decisions
        )


def _choices_that_apply(form: FormRecord, survey: Survey) -> list[str]:
    """The form's choice questions that apply to this respondent, in the survey's order."""
    return [q.id for q in survey.fields() if q.kind != "text" and q.id in form.answers and _applies(q.applies_if, form)]


def _page_of(form: FormRecord, field_id: str, page_numbers: dict[int, int]) -> int:
    """The number of the page a question's answer was read from (0: not known)."""
    return page_numbers.get(form.answers[field_id][2] or 0, 0)


def _flag_vanishing_marks(form: FormRecord, survey: Survey, page_numbers: dict[int, int], decisions: Decisions) -> bool:
    """A form that shows its marks vanishing (a page before its last answer
    without any, or a question doubted for a mark barely visible or under
    a fade) has each of its pages looked at as a whole: any blank question
    may be one more mark lost, one alone or at the form's end too, and any
    answer what is left of marks the scan moved or lost (a multiple-choice
    answer short of a mark). Such a form is with a person already: this
    holds no form more, it puts the rest of the form in front of them (41
    stored stacks decided again: 69 -> 21 silent errors, no form held more).
    Whether it did."""
    held = _held_for_lost_marks(form)
    applying = _choices_that_apply(form, survey)
    answered = [field_id for field_id in applying if form.answers[field_id][0]]
    if not answered:
        return False  # a form with no answer at all is held page by page
    # Doubts count only on questions that apply: a question the skip rules
    # leave blank says nothing of the scan.
    vanishing_doubts = {f.field_id for f in form.flags if f.reason in VANISHING_MARKS}
    if not any(number < _page_of(form, answered[-1], page_numbers) for number in held) and not vanishing_doubts & set(applying):
        return False
    by_page: dict[int, list[str]] = defaultdict(list)
    for field_id in applying:
        by_page[_page_of(form, field_id, page_numbers)].append(field_id)
    for page_no, field_ids in sorted(by_page.items()):
        if page_no in held:
            continue
        blank = sum(not form.answers[field_id][0] for field_id in field_ids)
        what = f"{blank} of its questions without marks" if blank else "its answers to check against the paper"
        detail = f"page {page_no}: {what}, where the form's marks vanish elsewhere"
        _flag_no_marks(form, detail, field_ids, form.answers[field_ids[0]][2], page_no, decisions)
    return True


def _flag_blank_runs(form: FormRecord, survey: Survey, page_numbers: dict[int, int], decisions: Decisions) -> None:
    """Questions that apply left blank BLANK_RUN or more in a row, where the
    respondent answered a later question: marks lost in a streak of the
    scan look like this; a form left unfinished does not. Pages already
    held for lost marks are with a person."""
    held = _held_for_lost_marks(form)
    applying = _choices_that_apply(form, survey)
    answered = [i for i, field_id in enumerate(applying) if form.answers[field_id][0]]
    if not answered:
        return  # a form with no answer at all is held page by page

    def blank(field_id: str) -> bool:
        return not form.answers[field_id][0]

    # A blank question a person already looks at is still part of the run:
    # else a faint trace in one question split a run of lost marks in two,
    # each too short to be doubted (hard seed 81: three answers of one
    # form lost unseen). And the run's page is looked at as a whole even
    # when each question in the run is doubted already: its answers may be
    # what is left of marks the scan moved or lost (39 stored stacks decided
    # again: 3 wrong answers no longer unseen, no form held more).
    for run in (list(group) for is_blank, group in groupby(applying[: answered[-1]], key=blank) if is_blank):
        if len(run) < BLANK_RUN:
            continue
        by_page: dict[int, list[str]] = defaultdict(list)
        for field_id in run:
            by_page[_page_of(form, field_id, page_numbers)].append(field_id)
        for page_no, field_ids in sorted(by_page.items()):
            if page_no in held:
                continue
            count = f"{len(run)}" if len(field_ids) == len(run) else f"{len(field_ids)} of {len(run)}"
            detail = f"page {page_no}: {count} questions in a row without marks"
            _flag_no_marks(form, detail, field_ids, form.answers[field_ids[0]][2], page_no, decisions)
            held.add(page_no)


def _held_for_lost_marks(form: FormRecord) -> set[int]:
    """The pages already held for marks the scan may have lost."""
    return {f.page_no for f in form.flags if f.reason == "no-marks" and not f.field_id}


def _flag_no_marks(
    form: FormRecord, detail: str, field_ids: list[str], page_id: int | None, page_no: int, decisions: Decisions
) -> None:
    """Marks the scan may have lost; when a reviewer saw marks on the paper
    (``answer-each``), each question becomes an item to answer."""
    key = keys.marks_key(page_no)
    form.flags.append(Flag("", "no-marks", 0.0, detail, page_id, page_no=page_no, item=key))
    if decisions.get((form.survey, form.serial, key)) == keys.ANSWER_EACH:
        form.flags.extend(
            Flag(field_id, "no-marks", 0.0, f"page {page_no}: answer from the paper", page_id, page_no=page_no)
            for field_id in field_ids
        )


def unproven(reasons: set[str] | tuple[str, ...]) -> bool:
    """A form no signed code proves ours whose printed serial the ledger
    never issued (a forgery with its code made unreadable, most likely):
    nothing a reviewer sees can prove it was printed here, so no decision
    keeps it: it can only be rejected."""
    return {"unverified-code", "not-issued"} <= set(reasons)


def settle(form: FormRecord, decisions: Decisions) -> FormStatus:
    """accepted / needs_review / resolved / rejected from the flags and the review decisions."""
    if decisions.get((form.survey, form.serial, keys.FORM)) == keys.REJECTED:
        return FormStatus.REJECTED
    blocking = [f for f in form.flags if f.blocking]
    if not blocking:
        return FormStatus.ACCEPTED
    if unproven({f.reason for f in blocking}):
        return FormStatus.NEEDS_REVIEW
    settled = all((form.survey, form.serial, f.key) in decisions for f in blocking)
    return FormStatus.RESOLVED if settled else FormStatus.NEEDS_REVIEW
