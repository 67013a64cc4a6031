"""A page nothing printed on it identifies, given its form by where it lies
in the stack.

On a coarse black-and-white scan, toner spread can leave a page's code
undecodable and its printed serial a row of blobs while its print still
says which page it is (its boxes and tables, or a legible "Trang k/N"). The
stack says the rest: clerks scan a form's pages together, so a page 3
between page 2 and page 4 of form 0000018 is page 3 of that form. That is a
guess from order, not a proof: a placed page joins its form held for a
person to confirm (``forms``: ``placed-by-stack``), who can also take it
back out.

Pure: the pages of one file in order in, placements out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sipas_scan.printing.codes import serial_is_valid

Neighbours = tuple[str, tuple[int, ...]]  # where a form's pages lie beside a page, and their page ids

BLANK_PAGE = "blank-page"  # a back side: no part of the stack's order
UNPLACED = "no-code"  # the only quarantine a page is placed out of
PLACEMENT_DECLINED = "placement-declined"  # a placed page a reviewer took back out: never placed again
SERIAL_DISPUTED = "serial-disputed"  # identified by its printed serial, which its place in the file contradicts
# A page the serial printed on it names is not disputed with a page of that
# form this close in the file (pages): two forms' pages came interleaved (hard
# seed 23: page 4 of a form one page after its page 3, inside the next form).
OWN_FORM_NEAR = 3
# A page whose answers agree this well with the page of its number of a form
# beside it is a second copy of that page (fed twice, or photocopied), whatever
# other form its place calls for: over this many answers given on either page.
# Fewer tell nothing: two respondents' page 1 (five questions, most answered
# alike) agreed on 4 of 5 on a hard stack; the copy there agreed on 8 of 8.
COPY_AGREEMENT = 0.8
COPY_MIN_ANSWERS = 6


@dataclass(frozen=True)
class StackPage:
    """One page of a scanned file, as stored."""

    page_id: int
    index: int  # 0-based place in the file
    status: str  # ok | quarantined
    reason: str
    survey: str
    serial: str  # '' for a page not identified
    page_no: int  # 0 when not known
    serial_digits: tuple[str, ...] = ()  # what its printed serial lines read, for a page not identified
    # For a page whose page is not known either: (survey, page) of the pages
    # its print looks like, likeliest first (none clearly).
    likely_pages: tuple[tuple[str, int], ...] = ()
    by_print: bool = False  # read, identified only by the serial printed on it (no code verified)


@dataclass(frozen=True)
class Placement:
    page_id: int
    survey: str
    serial: str
    page_no: int
    neighbours: str  # where the form's pages beside it lie: "after page 2 (stack.pdf p. 5)"
    beside: tuple[int, ...] = ()  # the page ids of those pages, to show a person beside it
    # The page was not read as any page (its page was not known): read it as
    # this one, and place it only if it aligns as that page.
    unread: bool = False


def _neighbour(stack: list[StackPage], at: int, step: int) -> StackPage | None:
    """The nearest page before (step -1) or after (+1) ``stack[at]`` that is
    not a blank back side."""
    at += step
    while 0 <= at < len(stack) and stack[at].reason == BLANK_PAGE:
        at += step
    return stack[at] if 0 <= at < len(stack) else None


def _differences(digits: str, serial: str) -> int | None:
    """In how many places seven digits read differ from ``serial`` (None:
    not seven digits)."""
    return sum(a != b for a, b in zip(digits, serial, strict=True)) if len(digits) == len(serial) else None


def _candidates(page: StackPage, before: StackPage | None, after: StackPage | None, file_name: str) -> dict[str, Neighbours]:
    """The serials the neighbours give ``page``, each with where they lie
    and their page ids:
    two pages of one form round it (in any order: stacks come out of
    order), a page next to it in its form's order just before or after it
    (the next one before it: two pages swapped), or a page of a form whose
    serial its own print read with at most one digit wrong."""

    def of_form(other: StackPage | None) -> StackPage | None:
        return other if other is not None and other.status == "ok" and other.serial and other.survey == page.survey else None

    def at(other: StackPage) -> str:
        return f"{file_name} p. {other.index + 1}"

    before, after = of_form(before), of_form(after)
    found: dict[str, Neighbours] = {}
    if before is not None and after is not None and before.serial == after.serial:
        where = f"between pages {before.page_no} and {after.page_no} ({at(before)}; {at(after)})"
        found[before.serial] = (where, (before.page_id, after.page_id))
    # A page next to it in its form's order, either way round (two pages
    # come swapped: 1 2 4 3).
    for side, other in (("after", before), ("before", after)):
        if other is not None and abs(other.page_no - page.page_no) == 1:
            found.setdefault(other.serial, (f"{side} page {other.page_no} ({at(other)})", (other.page_id,)))
    for other in (o for o in (before, after) if o is not None):
        near = [d for d in page.serial_digits if (_differences(d, other.serial) or 0) == 1]
        if near:
            where = f"beside page {other.page_no} ({at(other)}); its printed serial read {near[0]}"
            found.setdefault(other.serial, (where, (other.page_id,)))
    return found


def _as_pages(page: StackPage, before: StackPage | None, after: StackPage | None) -> list[StackPage]:
    """The page as the pages it may be: itself when its page is known; else,
    for each survey its neighbours' forms are of, the page of that survey
    its print looks most like."""
    if page.page_no >= 1:
        return [page]
    surveys = dict.fromkeys(o.survey for o in (before, after) if o is not None and o.serial)
    likeliest = {survey: next((n for s, n in page.likely_pages if s == survey), 0) for survey in surveys}
    return [replace(page, survey=survey, page_no=number) for survey, number in likeliest.items() if number]


def _contradicted(page: StackPage, serial: str) -> bool:
    """Whether the page's own printed serial lines name another form than
    ``serial``: one reads another valid serial and none reads ``serial``.
    A header and a footer that disagree, one of them the serial the
    neighbours give, are the neighbours' serial with the other line misread
    into a valid one (0009969 for 0003558 on a hard stack)."""
    return serial not in page.serial_digits and any(_names_another_serial(d, serial) for d in page.serial_digits)


def _names_another_serial(digits: str, serial: str) -> bool:
    """Whether digits a page's printed serial line read are another form's
    serial than ``serial``: a reading that passes its check digit. One that
    fails it is known to be misread, and on a coarse scan often in several
    places (0000999 read for 0000398, 9093906 for 0003095 on hard stacks):
    it names nothing."""
    return serial_is_valid(digits) and digits != serial


def _misread_note(page: StackPage, serial: str) -> str:
    """What the page's printed serial lines read, when it is not the form's
    serial, for the person who confirms the placement."""
    misread = [d for d in page.serial_digits if d and d != serial and (_differences(d, serial) or 0) != 1]
    if not misread:
        return ""
    if serial in page.serial_digits:
        return f"; its other printed serial line read {misread[0]}"
    return f"; its printed serial read {misread[0]} (fails its check digit)"


def _nearest_read(stack: list[StackPage], at: int, step: int) -> StackPage | None:
    """The nearest page before (step -1) or after (+1) ``stack[at]`` read as
    a page of a form."""
    at += step
    while 0 <= at < len(stack) and not (stack[at].status == "ok" and stack[at].serial):
        at += step
    return stack[at] if 0 <= at < len(stack) else None


def _lacking(
    page: StackPage, stack: list[StackPage], at: int, taken: set[tuple[str, str, int]], file_name: str
) -> dict[tuple[str, str, int], Neighbours]:
    """The last resort, when nothing else ties the page to a form: the forms
    of the nearest page read on either side, each with the page it does not
    have read that this page can be (its own page; for a page whose page is
    not known, the one page of its survey the form lacks). A stack keeps a
    form's pages together, in any order: page 1 of form B between page 4 of
    form A and page 3 of B, where A has its page 1 and B has not, is B's
    (measured on a hard stack). Pages not read between (back sides, stray
    sheets, other pages not identified) are passed over, not taken for a
    border between forms: a page 4 beside an unread page 1 of form B, then
    page 2 of A, may be A's as well as B's."""
    found: dict[tuple[str, str, int], Neighbours] = {}
    for step in (-1, +1):
        other = _nearest_read(stack, at, step)
        if other is None or (page.survey and other.survey != page.survey):
            continue
        numbers = [page.page_no] if page.page_no >= 1 else [n for s, n in page.likely_pages if s == other.survey]
        lacking = [n for n in numbers if (other.survey, other.serial, n) not in taken]
        if len(lacking) == 1:
            where = f"next to page {other.page_no} ({file_name} p. {other.index + 1}), the only form beside it without this page"
            found.setdefault((other.survey, other.serial, lacking[0]), (where, (other.page_id,)))
    return found


def _copy_beside(page: StackPage, at: int, serial: str, stack: list[StackPage], values: Mapping[int, Mapping[str, str]]) -> bool:
    """Whether the page's answers are those of the page of its number of
    another form than ``serial`` beside it (the nearest page read on either
    side), read in the file: ``COPY_AGREEMENT`` of the answers given on
    either. It is then a second copy of that page (measured on a hard stack:
    page 3 of one form fed twice, the copy, unread, taken for the page 3 of
    the next form, which never reached the scanner)."""
    own = values.get(page.page_id, {})
    beside = {other.serial for other in (_nearest_read(stack, at, -1), _nearest_read(stack, at, +1)) if other is not None}
    for other in stack:
        if other.status == "ok" and other.serial in beside - {serial} and (other.survey, other.page_no) == (page.survey, page.page_no):
            theirs = values.get(other.page_id, {})
            given = [f for f in own.keys() & theirs.keys() if own[f] or theirs[f]]
            if len(given) >= COPY_MIN_ANSWERS and sum(own[f] == theirs[f] for f in given) >= COPY_AGREEMENT * len(given):
                return True
    return False


def place(
    stack: list[StackPage], read: set[tuple[str, str, int]], file_name: str, values: Mapping[int, Mapping[str, str]] | None = None
) -> list[Placement]:
    """Placements for the pages of one file (``stack``, in file order) that
    nothing printed on them identified: its neighbours give a form (see
    ``_candidates``; a page whose page is not known is taken as the page its
    print looks most like), when exactly one form they give has no page of
    this number read (``read``: (survey, serial, page) of every page read),
    its own printed serial lines did not read another form's serial
    (``_contradicted``), and it is no second copy of the page of another
    form beside it (``_copy_beside``; ``values``: page id -> field id ->
    value read, of the file's pages whose page is known). Pages given no
    form that way are then given one by the last resort, ``_lacking``, once
    every other placement is made: a form lacking a page may lack it only
    because its page lies further on."""
    stack = sorted(stack, key=lambda p: p.index)
    taken = set(read)
    placements: list[Placement] = []
    unplaced = [at for at, page in enumerate(stack) if page.status == "quarantined" and page.reason == UNPLACED]
    for last_resort in (False, True):
        placed = {placement.page_id for placement in placements}
        for at in unplaced:
            page = stack[at]
            if page.page_id in placed:
                continue
            if last_resort:
                found = _lacking(page, stack, at, taken, file_name)
            else:
                before, after = _neighbour(stack, at, -1), _neighbour(stack, at, +1)
                # A form that has this page read already cannot be its form: a
                # page 3 between page 4 of one form and page 2 of the next is the
                # next's when the first has its page 3.
                found = {
                    (candidate.survey, serial, candidate.page_no): neighbours
                    for candidate in _as_pages(page, before, after)
                    for serial, neighbours in _candidates(candidate, before, after, file_name).items()
                    if (candidate.survey, serial, candidate.page_no) not in taken
                }
            if len(found) != 1:
                continue
            [((survey, serial, page_no), (where, beside))] = found.items()
            if _contradicted(page, serial) or _copy_beside(page, at, serial, stack, values or {}):
                continue
            taken.add((survey, serial, page_no))
            where += _misread_note(page, serial)
            placements.append(Placement(page.page_id, survey, serial, page_no, where, beside, unread=page.page_no < 1))
    return placements


def disputed(stack: list[StackPage], read: set[tuple[str, str, int]], file_name: str) -> list[tuple[int, str]]:
    """Pages of one file (``stack``, in file order) identified only by the
    serial printed on them whose place says otherwise: the pages either side
    of one (back sides passed over) are one other form's, which has no page
    of its number read (``read``: (survey, serial, page) of every page read).
    A serial misread into another that still passes its check digit names
    the wrong form (hard seed 71: page 2 of 0002808, between its pages 1 and
    3, read as 0002006's, whose own page 2 was unread: five answers wrong,
    unseen). Which is right, the print or the stack, a person decides. Not
    when a page of the form its print names lies close by (``OWN_FORM_NEAR``).
    (page id, why) for each."""
    stack = sorted(stack, key=lambda p: p.index)
    found = []
    for at, page in enumerate(stack):
        if not (page.status == "ok" and page.by_print and page.serial):
            continue
        before, after = _neighbour(stack, at, -1), _neighbour(stack, at, +1)
        if before is None or after is None or not all(o.status == "ok" and o.serial for o in (before, after)):
            continue
        other = before.serial
        if other == page.serial or after.serial != other or before.survey != page.survey or after.survey != page.survey:
            continue
        if (page.survey, other, page.page_no) in read:
            continue
        if any(o.serial == page.serial for o in stack[max(0, at - OWN_FORM_NEAR) : at + OWN_FORM_NEAR + 1] if o is not page):
            continue  # its own form's pages close by: two forms' pages interleaved, as its print says
        where = f"{file_name} p. {before.index + 1}; {file_name} p. {after.index + 1}"
        found.append(
            (
                page.page_id,
                f"its printed serial reads {page.serial}, but it lies between pages {before.page_no} and {after.page_no}"
                f" of form {other} ({where}), which has no page {page.page_no}",
            )
        )
    return found
