"""Returns against the sample: which issued forms have come back.

Per village and commune: forms printed (the issued-serials ledger), received
(a verified page of the form is in the results database), accepted, to
review, rejected, missing, and the households to visit again. Forms that came
back with pages missing are listed for a second visit too. Counted per
household: a household given a new form for a lost one has returned when
either came back. Forms received
that the ledger never issued are listed apart.

This is an operational list: household codes, names and addresses as in the
ledger, never answers (nothing here reads the answers table).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.errors import InputFileError
from sipas_scan.printing.ledger import IssuedForm, Ledger, check_ledger
from sipas_scan.store.db import Store

FormKey = tuple[str, str]  # (survey, serial)
PlaceKey = tuple[str, str, str, str, str]  # (survey, province, district, commune, village)

RETURNS_COLUMNS = ("level", "survey", "province", "district", "commune", "village", "printed", "households", "received",
                   "accepted", "to_review", "rejected", "missing", "incomplete", "return_rate")
MISSING_COLUMNS = ("survey", "serial", "province", "district", "commune", "village", "household_code", "head_name",
                   "address", "missing", "pages")
NOT_ISSUED_COLUMNS = ("survey", "serial", "status", "pages_received")

# Statuses in the results database, and how returns counts them.
ACCEPTED = ("accepted", "resolved")   # in the results
TO_REVIEW = ("needs_review", "held")  # held: pages received but quarantined, so no form record yet
REJECTED = ("rejected",)


@dataclass(frozen=True)
class Received:
    """What the results database knows of one form."""

    status: str                       # accepted | needs_review | resolved | rejected | held
    pages: frozenset[int]             # page numbers received (readable or not)


@dataclass(frozen=True)
class MissingForm:
    survey: str
    form: IssuedForm
    pages: tuple[int, ...] = ()       # () = the whole form is missing; else the pages not received


@dataclass
class Tally:
    """Per household, except ``printed`` (forms). ``received``: households
    with a form back; ``missing``: households with none."""

    printed: int = 0
    households: int = 0
    received: int = 0
    accepted: int = 0
    to_review: int = 0
    rejected: int = 0
    missing: int = 0
    incomplete: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def return_rate(self) -> float:
        """Households that returned a form as a percentage of households sent one."""
        return round(100.0 * self.received / self.households, 1) if self.households else 0.0

    @property
    def reprinted(self) -> int:
        """Forms printed beyond one per household (reprints for lost forms)."""
        return self.printed - self.households


@dataclass
class VillageReturns:
    place: PlaceKey
    tally: Tally = field(default_factory=Tally)
    missing: list[MissingForm] = field(default_factory=list)

    @property
    def survey(self) -> str:
        return self.place[0]


@dataclass(frozen=True)
class NotIssued:
    survey: str
    serial: str
    status: str
    pages_received: int


@dataclass
class ReturnsReport:
    villages: list[VillageReturns]
    communes: list[tuple[tuple[str, str, str, str], Tally]]   # (survey, province, district, commune)
    total: Tally
    not_issued: list[NotIssued]


def _place(survey: str, form: IssuedForm) -> PlaceKey:
    return (survey, *form.household.village_key)


def _best(statuses: list[str]) -> str:
    """A household's status when several of its forms came back: the one
    furthest on (in the results, then to review, then rejected)."""
    for group in (ACCEPTED, TO_REVIEW, REJECTED):
        for status in statuses:
            if status in group:
                return status
    return statuses[0]


def tally_returns(issued: dict[FormKey, IssuedForm], received: dict[FormKey, Received],
                  page_counts: dict[str, int]) -> ReturnsReport:
    """Pure: issued forms and what came back -> the returns report.

    Counted per household: a household given a second form (a reprint for a
    lost one) has returned when any of its forms came back, and is listed as
    missing, under its latest serial, only when none did. ``printed`` counts
    forms, ``households`` the households they went to. ``page_counts`` gives
    each survey's pages per form; a survey missing from it is not checked for
    missing pages."""
    households: dict[tuple[str, ...], list[tuple[str, IssuedForm]]] = {}  # forms in issue order
    for (survey, serial), form in issued.items():
        key = (survey, *form.household.village_key, form.household.household_code)
        households.setdefault(key, []).append((serial, form))
    villages: dict[PlaceKey, VillageReturns] = {}
    for key, forms in households.items():
        survey, latest = key[0], forms[-1][1]
        village = villages.setdefault(_place(survey, latest), VillageReturns(_place(survey, latest)))
        t = village.tally
        t.printed += len(forms)
        t.households += 1
        got = [(form, received[(survey, serial)]) for serial, form in forms if (survey, serial) in received]
        if not got:
            t.missing += 1
            village.missing.append(MissingForm(survey, latest))
            continue
        t.received += 1
        status = _best([r.status for _, r in got])
        if status in ACCEPTED:
            t.accepted += 1
        elif status in REJECTED:
            t.rejected += 1
        else:
            t.to_review += 1
        count = page_counts.get(survey)
        lacking = [(tuple(p for p in range(1, count + 1) if p not in r.pages) if count else (), form) for form, r in got]
        fewest, form = min(lacking, key=lambda item: len(item[0]))
        if fewest:  # no form of the household came back whole
            t.incomplete += 1
            village.missing.append(MissingForm(survey, form, fewest))
    ordered = [villages[key] for key in sorted(villages)]
    for village in ordered:
        village.missing.sort(key=lambda m: m.form.serial)
    communes: dict[tuple[str, str, str, str], Tally] = defaultdict(Tally)
    total = Tally()
    for village in ordered:
        communes[village.place[:4]].add(village.tally)
        total.add(village.tally)
    not_issued = [NotIssued(survey, serial, got.status, len(got.pages))
                  for (survey, serial), got in sorted(received.items()) if (survey, serial) not in issued]
    return ReturnsReport(ordered, sorted(communes.items()), total, not_issued)


# ---- reading the ledger and the database ----------------------------------

def read_issued(ledger_path: Path, survey: str | None = None) -> dict[FormKey, IssuedForm]:
    check_ledger(ledger_path)
    with Ledger(ledger_path) as ledger:
        issued = ledger.all_issued()
    return {key: form for key, form in issued.items() if survey is None or key[0] == survey}


def read_received(db_path: Path, survey: str | None = None) -> dict[FormKey, Received]:
    """Every form the database has a verified page of. A page only carries a
    serial once its signed code verified, so forged pages never count."""
    if not Path(db_path).is_file():
        raise InputFileError(f"{db_path}: no such database")
    with Store(db_path) as store:
        statuses = {(s, n): status for s, n, status in store.db.execute("SELECT survey, serial, status FROM forms")}
        pages: dict[FormKey, set[int]] = defaultdict(set)
        for s, n, page_no in store.db.execute("SELECT survey, serial, page_no FROM pages WHERE serial != ''"):
            pages[(s, n)].add(page_no)
    keys = set(statuses) | set(pages)
    return {key: Received(statuses.get(key, "held"), frozenset(pages.get(key, ())))
            for key in keys if survey is None or key[0] == survey}


def page_counts_for(surveys: set[str]) -> dict[str, int]:
    """Pages per form of each survey whose definition is in forms/."""
    from sipas_scan.reading.page import survey_and_layout
    from sipas_scan.survey.loader import SurveyDefinitionError

    counts = {}
    for survey in surveys:
        try:
            counts[survey] = survey_and_layout(survey)[1].page_count
        except SurveyDefinitionError:
            continue  # an unknown survey: forms are counted, pages are not checked
    return counts


# ---- writing -------------------------------------------------------------

def _tally_cells(t: Tally) -> list:
    return [t.printed, t.households, t.received, t.accepted, t.to_review, t.rejected, t.missing, t.incomplete, f"{t.return_rate:.1f}"]


def write_returns_csv(path: Path, report: ReturnsReport) -> None:
    """One row per village, one per commune (village empty) after its
    villages, and the total (level ``all``)."""
    commune_tallies = dict(report.communes)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(RETURNS_COLUMNS)
        for i, village in enumerate(report.villages):
            writer.writerow(["village", *village.place, *_tally_cells(village.tally)])
            commune = village.place[:4]
            last = i + 1 == len(report.villages) or report.villages[i + 1].place[:4] != commune
            if last:
                writer.writerow(["commune", *commune, "", *_tally_cells(commune_tallies[commune])])
        writer.writerow(["all", "", "", "", "", "", *_tally_cells(report.total)])


def write_missing_csv(path: Path, report: ReturnsReport) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(MISSING_COLUMNS)
        for village in report.villages:
            for item in village.missing:
                h = item.form.household
                writer.writerow([item.survey, item.form.serial, *h.village_key, h.household_code, h.head_name,
                                 h.address, "pages" if item.pages else "form", ";".join(map(str, item.pages))])


def write_not_issued_csv(path: Path, report: ReturnsReport) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(NOT_ISSUED_COLUMNS)
        writer.writerows((n.survey, n.serial, n.status, n.pages_received) for n in report.not_issued)


@dataclass(frozen=True)
class ReturnsSummary:
    report: ReturnsReport
    returns_csv: Path
    missing_csv: Path
    not_issued_csv: Path
    village_pdfs: list[Path]


def write_returns(db_path: Path, ledger_path: Path, out_dir: Path, *, survey: str | None = None) -> ReturnsSummary:
    """The returns report: returns.csv, missing.csv, not_issued.csv and a
    collection list PDF for every village with forms still out."""
    from sipas_scan.returns_pdf import write_collection_lists

    issued = read_issued(ledger_path, survey)
    if not issued:
        raise InputFileError(f"{ledger_path}: no issued forms" + (f" for survey '{survey}'" if survey else ""))
    received = read_received(db_path, survey)
    report = tally_returns(issued, received, page_counts_for({key[0] for key in issued}))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = out_dir / "returns.csv", out_dir / "missing.csv", out_dir / "not_issued.csv"
    write_returns_csv(paths[0], report)
    write_missing_csv(paths[1], report)
    write_not_issued_csv(paths[2], report)
    pdfs = write_collection_lists(out_dir / "villages", [v for v in report.villages if v.missing])
    return ReturnsSummary(report, *paths, pdfs)
