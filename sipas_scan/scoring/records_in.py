"""Read and validate a records CSV (docs/formats.md) against its survey.

Everything wrong with the file is reported as one line naming the row and the
column, because the person fixing it opens the CSV in a spreadsheet. Row
numbers are spreadsheet rows: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.errors import InputFileError
from sipas_scan.records import FORM_FLAGS, PREFIX, STATUSES, FormStatus
from sipas_scan.survey import Question, Survey

# Only these records are scored; the others are reported as excluded.
COUNTED_STATUSES = (FormStatus.ACCEPTED, FormStatus.RESOLVED)

# A sniff of the first bytes: a PDF, an image or a zip (xlsx) is not a CSV,
# and saying so beats a confusing "missing column" message.
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF",
    b"PK\x03\x04": "a zip/xlsx file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"SQLite format": "an SQLite database",
}


CSV_DELIMITERS = (",", ";", "\t")


class CsvInputError(InputFileError):
    """An input CSV (records, previous indices) is malformed; ``row`` and ``column`` say where (0 / '' if unknown)."""

    def __init__(self, path: Path, message: str, *, row: int = 0, column: str = ""):
        self.row = row
        self.column = column
        where = ", ".join(part for part in (f"row {row}" if row else "", f"column {column}" if column else "") if part)
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


@dataclass(frozen=True)
class Record:
    """One form as read from the CSV. ``answers`` maps every survey field to
    its raw value ('' when blank); ``row`` is the spreadsheet row."""

    row: int
    form_id: str
    household_code: str
    status: str
    columns: dict[str, str]
    answers: dict[str, str]

    def value(self, column: str) -> str:
        """The value of any column: a unit column or a question."""
        return self.columns.get(column, self.answers.get(column, ""))


@dataclass(frozen=True)
class RecordSet:
    survey: Survey
    path: Path
    counted: list[Record]
    excluded: Counter[str] = field(default_factory=Counter)
    # Answers that break their question's rule (two codes on a single-choice
    # question, more than the maximum on a multiple-choice one), per field.
    spoiled: Counter[str] = field(default_factory=Counter)
    total: int = 0
    header: tuple[str, ...] = ()
    # Records per place and status, counted or not: the returns per village.
    returns: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    # Every household code and form id in the file, counted or not, so a
    # report can make sure none of them leaks through a comment.
    identifiers: frozenset[str] = frozenset()
    # Form-level notes of the export (e.g. identified-by-hand): (note, status) -> forms.
    form_flags: Counter[tuple[str, str]] = field(default_factory=Counter)


def spoiled_answer(question: Question, codes: list[str]) -> bool:
    """Two answers to a single-choice question, or more than allowed on a
    multiple-choice one: the respondent's intent is unknown, so it counts as blank."""
    if question.kind == "single":
        return len(codes) > 1
    if question.kind == "multi":
        return question.max_choices is not None and len(codes) > question.max_choices
    return False


def decode_csv(path: Path, data: bytes) -> str:
    """The text of a CSV file, or a CsvInputError saying what it is instead."""
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise CsvInputError(path, f"this is {what}, not a CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        row = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        prefix = before[line_start:].decode("utf-8", errors="replace")
        header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(",")
        position = len(next(csv.reader([prefix]), [""])) - 1 if prefix else 0
        column = header[position] if 0 <= position < len(header) else ""
        raise CsvInputError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8", row=row, column=column
        ) from None


def header_delimiter(text: str) -> str:
    """The delimiter the header row uses. Excel saves "CSV" with the
    locale's list separator, which is ';' in a Vietnamese (and most European)
    locale; column names hold neither separator, so the header tells."""
    first = text.split("\n", 1)[0]
    return max(CSV_DELIMITERS, key=first.count) if any(d in first for d in CSV_DELIMITERS) else ","


def _check_header(path: Path, header: list[str], survey: Survey) -> None:
    if not header or not any(name.strip() for name in header):
        raise CsvInputError(path, "empty file: no header row; give the records CSV that 'sipas-scan export' wrote", row=1)
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        raise CsvInputError(path, "duplicate column(s) in the header", row=1, column=", ".join(duplicates))
    missing = [name for name in (*PREFIX, *survey.field_ids()) if name not in header]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        hint = "" if len(missing) < len(survey.field_ids()) else f" (is this a records CSV of survey '{survey.id}'? see --survey)"
        raise CsvInputError(path, f"missing column(s) {shown}{hint}", row=1, column=missing[0])


def _check_value(path: Path, row: int, question: Question, value: str) -> None:
    if question.kind == "text" or not value:
        return
    codes = value.split(";")
    known = question.codes
    for code in codes:
        if code.strip() not in known:
            raise CsvInputError(
                path, f"unknown code '{code}' in '{value}' (expected one of {', '.join(known)})", row=row, column=question.id
            )


def read_records(path: Path, survey: Survey) -> RecordSet:
    """The records of ``path``; raises CsvInputError on the first problem."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvInputError(path, "no such records file") from None
    except IsADirectoryError:
        raise CsvInputError(path, "is a folder, not a records CSV") from None
    text = decode_csv(path, data)
    if "\x00" in text:
        raise CsvInputError(path, "contains NUL bytes: not a text CSV", row=text[: text.index("\x00")].count("\n") + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header_delimiter(text), strict=True)
    try:
        header = next(reader, [])
        _check_header(path, header, survey)
        positions = {name: i for i, name in enumerate(header)}
        questions = survey.fields()
        question_ids = set(survey.field_ids())
        counted: list[Record] = []
        excluded: Counter[str] = Counter()
        spoiled: Counter[str] = Counter()
        total = 0
        returns: Counter[tuple[str, str, str, str]] = Counter()
        identifiers: set[str] = set()
        form_flags: Counter[tuple[str, str]] = Counter()
        for cells in reader:
            row = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a trailing empty line is not a record
            if len(cells) != len(header):
                raise CsvInputError(path, f"{len(cells)} values but the header has {len(header)} columns", row=row)
            status = cells[positions["status"]].strip()
            if status not in STATUSES:
                raise CsvInputError(
                    path, f"unknown status '{status}' (expected one of {', '.join(STATUSES)})", row=row, column="status"
                )
            answers = {}
            for question in questions:
                value = cells[positions[question.id]].strip() if question.kind != "text" else cells[positions[question.id]]
                _check_value(path, row, question, value)
                answers[question.id] = value
            total += 1
            district, commune, village = (cells[positions[name]].strip() for name in ("district", "commune", "village"))
            returns[(district, commune, village, status)] += 1
            identifiers.update(cells[positions[name]].strip() for name in ("form_id", "household_code"))
            if FORM_FLAGS in positions:
                form_flags.update((note, status) for note in cells[positions[FORM_FLAGS]].split(";") if note.strip())
            if status not in COUNTED_STATUSES:
                excluded[status] += 1
                continue
            for question in questions:
                if question.kind != "text" and answers[question.id] and spoiled_answer(question, answers[question.id].split(";")):
                    spoiled[question.id] += 1
            counted.append(
                Record(
                    row=row,
                    form_id=cells[positions["form_id"]],
                    household_code=cells[positions["household_code"]],
                    status=status,
                    columns={name: cells[i].strip() for name, i in positions.items() if name not in question_ids},
                    answers=answers,
                )
            )
    except csv.Error as exc:
        raise CsvInputError(path, f"not a valid CSV ({exc})", row=reader.line_num) from None
    return RecordSet(
        survey=survey,
        path=path,
        counted=counted,
        excluded=excluded,
        spoiled=spoiled,
        total=total,
        header=tuple(header),
        returns=returns,
        identifiers=frozenset(identifiers - {""}),
        form_flags=form_flags,
    )
