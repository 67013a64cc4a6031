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
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.dbfile import is_url
from sipas_scan.errors import InputFileError
from sipas_scan.printing.ledger import IssuedForm, Ledger, LedgerLocation, check_ledger
from sipas_scan.returns_pdf import write_collection_lists
from sipas_scan.returns_tally import HELD, FormKey, Received, ReturnsReport, Tally, tally_returns
from sipas_scan.store import results
from sipas_scan.store.db import Store

RETURNS_COLUMNS = (
    "level",
    "survey",
    "province",
    "district",
    "commune",
    "village",
    "printed",
    "households",
    "received",
    "accepted",
    "to_review",
    "rejected",
    "missing",
    "incomplete",
    "return_rate",
)
MISSING_COLUMNS = (
    "survey",
    "serial",
    "province",
    "district",
    "commune",
    "village",
    "household_code",
    "head_name",
    "address",
    "missing",
    "pages",
)
NOT_ISSUED_COLUMNS = ("survey", "serial", "status", "pages_received")


# ---- reading the ledger and the database ----------------------------------


def read_issued(ledger_path: LedgerLocation, survey: str | None = None) -> dict[FormKey, IssuedForm]:
    check_ledger(ledger_path)
    with Ledger(ledger_path) as ledger:
        issued = ledger.all_issued()
    return {key: form for key, form in issued.items() if survey is None or key[0] == survey}


def read_received(db_path: Path | str, survey: str | None = None) -> dict[FormKey, Received]:
    """Every form the database has a verified page of. A page only carries a
    serial once its signed code verified, so forged pages never count."""
    if not is_url(db_path) and not Path(db_path).is_file():
        raise InputFileError(f"{db_path}: no such database")
    with Store(db_path) as store:
        statuses = results.form_statuses(store)
        pages: dict[FormKey, set[int]] = defaultdict(set)
        for s, n, page_no in results.identified_pages(store):
            pages[(s, n)].add(page_no)
    keys = set(statuses) | set(pages)
    return {
        key: Received(statuses.get(key, HELD), frozenset(pages.get(key, ()))) for key in keys if survey is None or key[0] == survey
    }


def page_counts_for(surveys: set[str]) -> dict[str, int]:
    """Pages per form of each survey whose definition is in forms/."""
    from sipas_scan.layout import survey_and_layout
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
                writer.writerow(
                    [
                        item.survey,
                        item.form.serial,
                        *h.village_key,
                        h.household_code,
                        h.head_name,
                        h.address,
                        "pages" if item.pages else "form",
                        ";".join(map(str, item.pages)),
                    ]
                )


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


def write_returns(db_path: Path | str, ledger_path: LedgerLocation, out_dir: Path, *, survey: str | None = None) -> ReturnsSummary:
    """The returns report: returns.csv, missing.csv, not_issued.csv and a
    collection list PDF for every village with forms still out."""
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
