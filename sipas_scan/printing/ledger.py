"""The ledger of issued serials: one SQLite file shared by every print run.

Every serial ever printed for a survey is recorded here with the household it
went to, so serials never repeat (a reprint gets new ones) and reading can
tell an issued form from one that never was.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.dbfile import SqliteFile
from sipas_scan.errors import LedgerError
from sipas_scan.printing.codes import make_serial
from sipas_scan.printing.households import Household

_SCHEMA = """
CREATE TABLE print_runs (
    id INTEGER PRIMARY KEY,
    survey_id TEXT NOT NULL,
    survey_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    forms INTEGER NOT NULL
);
CREATE TABLE issued (
    survey_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    number INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES print_runs(id),
    province TEXT NOT NULL,
    district TEXT NOT NULL,
    commune TEXT NOT NULL,
    village TEXT NOT NULL,
    household_code TEXT NOT NULL,
    head_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (survey_id, serial),
    UNIQUE (survey_id, number)
);
"""


SQLITE_HEADER = b"SQLite format 3\x00"
_TABLES = {"print_runs", "issued"}


def check_ledger(path: Path) -> int:
    """Make sure ``path`` is an existing issued-serials ledger, without
    creating or changing anything; returns how many serials it holds. Raises
    LedgerError with one line saying what the file is instead."""
    path = Path(path)
    hint = "give the ledger that 'sipas-scan print --ledger' wrote"
    if not path.exists():
        raise LedgerError(f"{path}: no such ledger: {hint}")
    if not path.is_file():
        raise LedgerError(f"{path}: not a file: {hint}")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger ({exc.strerror})") from None
    if head != SQLITE_HEADER:
        what = "an empty file" if not head else "not an SQLite file"
        raise LedgerError(f"{path}: not a sipas-scan ledger ({what}): {hint}")
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables >= _TABLES:
                what = "a results database" if "pages" in tables else "an SQLite file of something else"
                raise LedgerError(f"{path}: not a sipas-scan ledger ({what}): {hint}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(Ledger.MIGRATIONS):
                raise LedgerError(f"{path}: ledger written by a newer sipas-scan (schema {version})")
            return db.execute("SELECT count(*) FROM issued").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path}: not a usable sipas-scan ledger ({exc})") from None


@dataclass(frozen=True)
class IssuedForm:
    serial: str
    household: Household


@dataclass(frozen=True)
class PrintRun:
    id: int
    forms: list[IssuedForm]


class Ledger(SqliteFile):
    MIGRATIONS = [_SCHEMA]
    ERROR = LedgerError
    WHAT = "ledger"

    @contextmanager
    def issuing(self, survey_id: str, survey_version: str, households: list[Household], out_dir: Path) -> Iterator[PrintRun]:
        """Allocate the next serials for ``households``, in order.

        The allocation commits only if the body (rendering the forms) finishes;
        a failed run issues nothing. The write lock is held meanwhile, so two
        print runs cannot hand out the same serial.
        """
        with self.transaction() as db:
            last = db.execute("SELECT COALESCE(MAX(number), 0) FROM issued WHERE survey_id = ?", (survey_id,)).fetchone()[0]
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            run_id = db.execute(
                "INSERT INTO print_runs (survey_id, survey_version, created_at, out_dir, forms) VALUES (?, ?, ?, ?, ?)",
                (survey_id, survey_version, now, str(out_dir), len(households)),
            ).lastrowid
            assert run_id is not None  # set by every INSERT
            forms = [IssuedForm(make_serial(last + i), h) for i, h in enumerate(households, start=1)]
            db.executemany(
                "INSERT INTO issued (survey_id, serial, number, run_id, province, district, commune, village,"
                " household_code, head_name, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        survey_id,
                        f.serial,
                        last + i,
                        run_id,
                        *f.household.village_key,
                        f.household.household_code,
                        f.household.head_name,
                        f.household.address,
                    )
                    for i, f in enumerate(forms, start=1)
                ],
            )
            yield PrintRun(run_id, forms)

    def issued(self, survey_id: str) -> dict[str, IssuedForm]:
        """Every serial issued for one survey, in issue order."""
        return {serial: form for (survey, serial), form in self.all_issued().items() if survey == survey_id}

    def all_issued(self, only: tuple[str, str] | None = None) -> dict[tuple[str, str], IssuedForm]:
        """(survey id, serial) -> the issued form, for every survey (or only one serial)."""
        where, args = (" WHERE survey_id = ? AND serial = ?", only) if only else ("", ())
        rows = self.db.execute(
            "SELECT survey_id, serial, province, district, commune, village, household_code, head_name, address"
            f" FROM issued{where} ORDER BY survey_id, number",
            args,
        )
        return {(r[0], r[1]): IssuedForm(r[1], Household(*r[2:])) for r in rows}

    def issued_to(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], IssuedForm]:
        """(survey id, serial) -> the issued form, for those of ``keys`` issued."""
        found: dict[tuple[str, str], IssuedForm] = {}
        for survey_id, serial in sorted(set(keys)):
            row = self.db.execute(
                "SELECT province, district, commune, village, household_code, head_name, address"
                " FROM issued WHERE survey_id = ? AND serial = ?",
                (survey_id, serial),
            ).fetchone()
            if row is not None:
                found[(survey_id, serial)] = IssuedForm(serial, Household(*row))
        return found

    def is_issued(self, survey_id: str, serial: str) -> bool:
        return self.db.execute("SELECT 1 FROM issued WHERE survey_id = ? AND serial = ?", (survey_id, serial)).fetchone() is not None

    def serial_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM issued").fetchone()[0]

    def holding_serials(self, survey_id: str, households: Iterable[Household]) -> list[Household]:
        """Those of ``households`` already issued a serial of this survey (a
        reprint), in the order given."""
        held = {
            tuple(r)
            for r in self.db.execute(
                "SELECT province, district, commune, village, household_code FROM issued WHERE survey_id = ?", (survey_id,)
            )
        }
        return [h for h in households if (*h.village_key, h.household_code) in held]
