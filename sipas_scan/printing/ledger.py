"""The ledger of issued serials: one SQLite file shared by every print run.

Every serial ever printed for a survey is recorded here with the household it
went to, so serials never repeat (a reprint gets new ones) and reading can
tell an issued form from one that never was.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.errors import LedgerError
from sipas_scan.printing.codes import make_serial
from sipas_scan.printing.households import Household

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS print_runs (
    id INTEGER PRIMARY KEY,
    survey_id TEXT NOT NULL,
    survey_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    forms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS issued (
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


@dataclass(frozen=True)
class IssuedForm:
    serial: str
    household: Household


@dataclass(frozen=True)
class PrintRun:
    id: int
    forms: list[IssuedForm]


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: ledger written by a newer sipas-scan (schema {version})")
            self.db.executescript(_SCHEMA)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a usable ledger ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def issuing(self, survey_id: str, survey_version: str, households: list[Household],
                out_dir: Path) -> Iterator[PrintRun]:
        """Allocate the next serials for ``households``, in order.

        The allocation commits only if the body (rendering the forms) finishes;
        a failed run issues nothing. The write lock is held meanwhile, so two
        print runs cannot hand out the same serial.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            last = self.db.execute("SELECT COALESCE(MAX(number), 0) FROM issued WHERE survey_id = ?",
                                   (survey_id,)).fetchone()[0]
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            run_id = self.db.execute(
                "INSERT INTO print_runs (survey_id, survey_version, created_at, out_dir, forms) VALUES (?, ?, ?, ?, ?)",
                (survey_id, survey_version, now, str(out_dir), len(households)),
            ).lastrowid
            forms = [IssuedForm(make_serial(last + i), h) for i, h in enumerate(households, start=1)]
            self.db.executemany(
                "INSERT INTO issued (survey_id, serial, number, run_id, province, district, commune, village,"
                " household_code, head_name, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(survey_id, f.serial, last + i, run_id, *f.household.village_key, f.household.household_code,
                  f.household.head_name, f.household.address) for i, f in enumerate(forms, start=1)],
            )
            yield PrintRun(run_id, forms)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def issued(self, survey_id: str) -> dict[str, IssuedForm]:
        rows = self.db.execute(
            "SELECT serial, province, district, commune, village, household_code, head_name, address"
            " FROM issued WHERE survey_id = ? ORDER BY number", (survey_id,))
        return {r[0]: IssuedForm(r[0], Household(*r[1:])) for r in rows}

    def is_issued(self, survey_id: str, serial: str) -> bool:
        return self.db.execute("SELECT 1 FROM issued WHERE survey_id = ? AND serial = ?",
                               (survey_id, serial)).fetchone() is not None
