"""Pages -> forms: group by serial, find missing and doubled pages, apply
the skip rules, settle each form's status.

Pure: page records in, FormRecords out. Nothing is dropped: a page scanned
twice is kept once and recorded; two different scans of a page, a serial in
two stacks, a missing page, a serial never issued are flags.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sipas_scan.printing.households import Household
from sipas_scan.store import decisions as keys
from sipas_scan.survey import Survey

Decisions = dict[tuple[str, str, str], str]
UNKNOWN = object()  # whether a serial was issued is not known (read before any ledger was given)


@dataclass(frozen=True)
class IssuedForms:
    """Who each serial was issued to; ``default`` for a serial not listed:
    None (not issued: flagged) with a ledger, UNKNOWN without one."""

    households: dict[tuple[str, str], Household | object] = field(default_factory=dict)
    default: object = UNKNOWN

    def of(self, survey: str, serial: str) -> Household | object | None:
        return self.households.get((survey, serial), self.default)


MIN_GRID_ROWS = 3  # a blank grid of this many rows or more is looked at


@dataclass(frozen=True)
class Flag:
    field_id: str            # '' for the whole form
    reason: str
    confidence: float = 0.0
    detail: str = ""
    page_id: int | None = None
    blocking: bool = True
    page_no: int = 0
    item: str = ""           # the review decision key that settles it; default: field_id

    @property
    def key(self) -> str:
        return self.item or self.field_id


@dataclass
class FormRecord:
    survey: str
    serial: str
    status: str = "accepted"
    issued: Household | None = None  # household and place from the ledger
    answers: dict[str, tuple[str, float, int | None]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True)
class PageRecord:
    """What forms need of a stored page."""

    id: int
    stack: str               # the scanned file, or the folder of single-page images
    survey: str
    serial: str
    page_no: int
    fields: list[dict]
    comments: list[dict]


def _values(page: PageRecord) -> dict[str, str]:
    """What two scans of a page must agree on: the answers, and whether each
    comment box holds writing (OCR of two scans of one hand rarely matches
    letter for letter, and the text goes to review anyway)."""
    values = {f["field_id"]: f["value"] for f in page.fields}
    values.update({c["field_id"]: "writing" if c["has_writing"] else "" for c in page.comments})
    return values


def assemble(pages: list[PageRecord], surveys: dict[str, Survey], page_counts: dict[str, int],
             issued: IssuedForms, decisions: Decisions) -> list[FormRecord]:
    groups: dict[tuple[str, str], list[PageRecord]] = defaultdict(list)
    for page in pages:
        groups[(page.survey, page.serial)].append(page)
    forms = []
    for (survey_id, serial), members in sorted(groups.items()):
        survey = surveys[survey_id]
        form = FormRecord(survey_id, serial)
        by_number: dict[int, list[PageRecord]] = defaultdict(list)
        page_numbers: dict[int, int] = {}
        for page in members:
            by_number[page.page_no].append(page)
        if len({p.stack for p in members}) > 1:
            # One form's pages in two scanned files: a page scanned again later,
            # or a photocopy filled in by someone else. Whichever pages differ get
            # their own conflict; a person confirms the form as a whole, because
            # a photocopied page whose original was lost would otherwise pass.
            form.flags.append(Flag("", "two-stacks", detail="pages of this serial came in more than one scanned file",
                                   item=keys.FORM))
        for number in range(1, page_counts[survey_id] + 1):
            copies = by_number.get(number, [])
            page_item = keys.page_key(number)
            if not copies:
                form.flags.append(Flag("", "missing-page", detail=f"page {number} was not scanned", page_no=number,
                                       item=keys.missing_key(number)))
                continue
            chosen = decisions.get((survey_id, serial, page_item), "")
            if chosen.startswith(keys.USE):
                # A reviewer chose which scan of this page counts.
                copies.sort(key=lambda p: p.id != int(chosen.removeprefix(keys.USE)))
            first = copies[0]
            page_numbers[first.id] = number
            first_values = _values(first)
            for other in copies[1:]:
                other_values = _values(other)
                differing = sorted(k for k in first_values if other_values.get(k) != first_values[k])
                if not differing:
                    form.flags.append(Flag("", "duplicate-page", 1.0, f"page {number} scanned twice, same marks",
                                           other.id, blocking=False, page_no=number, item=page_item))
                for field_id in differing:
                    # Settled by choosing the scan that counts, for the whole page.
                    form.flags.append(Flag(field_id, "duplicate-conflict", 0.0,
                                           f"page {number} scanned twice: '{first_values[field_id]}' and "
                                           f"'{other_values.get(field_id, '')}'", other.id, page_no=number,
                                           item=page_item))
            if first.fields and not any(r["value"] or r["flags"] for r in first.fields):
                # Nobody skips a whole page; marks too light for the scanner (pencil
                # scanned in black-and-white) look exactly like this.
                _flag_no_marks(form, f"page {number} has no marks at all", [r["field_id"] for r in first.fields],
                               first.id, number, decisions)
            for reading in first.fields:
                form.answers[reading["field_id"]] = (reading["value"], reading["confidence"], first.id)
                for reason in reading["flags"]:
                    form.flags.append(Flag(reading["field_id"], reason, reading["confidence"], page_id=first.id,
                                           page_no=number))
            for comment in first.comments:
                text = comment["text"] if comment["has_writing"] else ""
                confidence = comment["mean_confidence"] / 100
                form.answers[comment["field_id"]] = (text, confidence, first.id)
                for reason in comment["flags"]:
                    # A comment to transcribe is review work, but it does not hold
                    # the form's answers back from scoring.
                    form.flags.append(Flag(comment["field_id"], reason, confidence, page_id=first.id,
                                           blocking=reason != "ocr-review", page_no=number))
        _flag_blank_grids(form, survey, page_numbers, decisions)
        for question in survey.fields():
            condition = question.applies_if
            value = form.answers.get(question.id, ("", 1.0, None))[0]
            if condition and value and not condition.holds(form.answers.get(condition.question, ("",))[0]):
                form.flags.append(Flag(question.id, "skip-rule", 0.0,
                                       f"answered although {condition.question} says it does not apply",
                                       form.answers[question.id][2]))
        entry = issued.of(survey_id, serial)
        if entry is not UNKNOWN:
            form.issued = entry
            if form.issued is None:
                form.flags.append(Flag("", "not-issued", detail="a valid code, but the serial is not in the ledger",
                                       item=keys.FORM))
        form.status = settle(form, decisions)
        forms.append(form)
    return forms


def _flag_blank_grids(form: FormRecord, survey: Survey, page_numbers: dict[int, int], decisions: Decisions) -> None:
    """A whole grid left blank where it applies. Respondents skip a row, rarely
    a whole grid; light pencil scanned in black and white looks just like it."""
    for grid in survey.grids():
        read = [form.answers.get(q.id) for q in grid.rows]
        if len(grid.rows) < MIN_GRID_ROWS or any(r is None or r[0] for r in read):
            continue
        condition = grid.applies_if
        if condition and not condition.holds(form.answers.get(condition.question, ("",))[0]):
            continue
        page_id = read[0][2]
        page_no = page_numbers.get(page_id, 0)
        _flag_no_marks(form, f"page {page_no}: grid {grid.id} has no marks at all", [q.id for q in grid.rows],
                       page_id, page_no, decisions)


def _flag_no_marks(form: FormRecord, detail: str, field_ids: list[str], page_id: int | None, page_no: int,
                   decisions: Decisions) -> None:
    """Marks the scan may have lost; when a reviewer saw marks on the paper
    (``answer-each``), each question becomes an item to answer."""
    key = keys.marks_key(page_no)
    form.flags.append(Flag("", "no-marks", 0.0, detail, page_id, page_no=page_no, item=key))
    if decisions.get((form.survey, form.serial, key)) == keys.ANSWER_EACH:
        form.flags.extend(Flag(field_id, "no-marks", 0.0, f"page {page_no}: answer from the paper", page_id,
                               page_no=page_no) for field_id in field_ids)


def settle(form: FormRecord, decisions: Decisions) -> str:
    """accepted / needs_review / resolved / rejected from the flags and the review decisions."""
    if decisions.get((form.survey, form.serial, keys.FORM)) == keys.REJECTED:
        return "rejected"
    blocking = [f for f in form.flags if f.blocking]
    if not blocking:
        return "accepted"
    settled = all((form.survey, form.serial, f.key) in decisions for f in blocking)
    return "resolved" if settled else "needs_review"
