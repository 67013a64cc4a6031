"""``export --format``: the records (and their codebook and flags) in the
formats analysts open.

The records CSV of docs/formats.md stays what ``export`` writes by default;
the other formats are built from the same rows (``export.record_rows``), so
they cannot say anything else:

- xlsx: sheets ``records`` (codes as numbers), ``codebook`` (every question's
  number, Vietnamese text and option labels) and ``flags`` (confidence to
  3 decimals);
- sav / dta: the records with variable labels ("C1. Theo Ông/Bà ...") and
  value labels from the survey definition; a multiple-choice question also
  gets one 0/1 variable per option (e1_1, e1_2, ...), as analysts tabulate it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sipas_scan.errors import BadArgsError
from sipas_scan.export import FLAG_COLUMNS, export_records, export_survey, flag_rows, record_rows
from sipas_scan.outputs.tables import Column, DataTable, check_format, write_csv, write_dta, write_sav, write_xlsx
from sipas_scan.records import FORM_FLAGS, REVIEWED, SUFFIX, record_header
from sipas_scan.store.db import Store
from sipas_scan.survey import Question, Survey

CONFIDENCE_DECIMALS = 3
PLACE_LABELS = {
    "form_id": "Số phiếu",
    "household_code": "Mã hộ gia đình",
    "province": "Tỉnh",
    "district": "Huyện",
    "commune": "Xã",
    "village": "Thôn",
    "status": "Tình trạng phiếu",
    REVIEWED: "Câu do người rà soát nhập hoặc xác nhận",
    FORM_FLAGS: "Ghi chú của phiếu",
}
KIND_LABELS = {"single": "một lựa chọn", "multi": "nhiều lựa chọn", "text": "văn bản"}
CHOSEN = {0: "Không chọn", 1: "Có chọn"}
FLAG_NUMBERS = {"confidence": CONFIDENCE_DECIMALS, "page": 0, "blocking": 0}


def _codes_are_numbers(question: Question) -> bool:
    return bool(question.options) and all(o.code.isdigit() for o in question.options)


def question_label(question: Question) -> str:
    return f"{question.label}. {question.text}"


def _dummy_name(question: Question, code: str, taken: set[str]) -> str:
    name = f"{question.id}_{code}"
    return name if name not in taken else f"{question.id}__{code}"


def _number(value: str) -> int | str | None:
    """A code as a number; '' is blank; anything else (two codes on a
    single-choice question) stays text for people to see."""
    if not value:
        return None
    return int(value) if value.isdigit() else value


Getter = Callable[[list[str]], object]


def _cell(i: int) -> Getter:
    return lambda row: row[i]


def _coded(i: int) -> Getter:
    return lambda row: _number(row[i])


def _chosen(i: int, code: str) -> Getter:
    """1 if the multi-choice answer in column ``i`` includes ``code``, 0 if not, None when unanswered."""
    return lambda row: None if not row[i] else int(code in row[i].split(";"))


def records_table(survey: Survey, header: list[str], rows: list[list[str]], *, dummies: bool) -> DataTable:
    positions = {name: i for i, name in enumerate(header)}
    taken = set(header)
    columns: list[Column] = []
    getters: list[Getter] = []
    for name in header:
        question = survey.field(name) if name in survey.field_ids() else None
        if question is None:
            columns.append(Column(name, PLACE_LABELS.get(name, name)))
            getters.append(_cell(positions[name]))
            continue
        if question.kind == "single" and _codes_are_numbers(question):
            columns.append(Column(name, question_label(question), "number", {int(o.code): o.label for o in question.options}))
            getters.append(_coded(positions[name]))
        else:
            columns.append(Column(name, question_label(question)))
            getters.append(_cell(positions[name]))
        if dummies and question.kind == "multi":
            for option in question.options:
                dummy = _dummy_name(question, option.code, taken)
                taken.add(dummy)
                columns.append(Column(dummy, f"{question.label}. {option.label}", "number", dict(CHOSEN)))
                getters.append(_chosen(positions[name], option.code))
    return DataTable("records", tuple(columns), [tuple(get(row) for get in getters) for row in rows], title=survey.short_title)


def codebook_table(survey: Survey) -> DataTable:
    columns = (
        Column("Biến"),
        Column("Câu"),
        Column("Nội dung câu hỏi", width=70),
        Column("Loại"),
        Column("Mã", kind="number"),
        Column("Nhãn phương án", width=50),
    )
    rows: list[tuple[object, ...]] = []
    for question in survey.fields():
        kind = KIND_LABELS.get(question.kind, question.kind)
        text = question.text + (f" (chọn tối đa {question.max_choices})" if question.max_choices else "")
        if not question.options:
            rows.append((question.id, question.label, text, kind, None, ""))
        for option in question.options:
            rows.append((question.id, question.label, text, kind, _number(option.code), option.label))
    return DataTable("codebook", columns, rows, title=survey.short_title)


def flags_table(header: list[str], rows: list[tuple]) -> DataTable:
    """The flags as ``export_flags`` writes them (blank for none), numbers as numbers."""
    columns = tuple(
        Column(name, kind="number" if name in FLAG_NUMBERS else "text", decimals=FLAG_NUMBERS.get(name)) for name in header
    )

    def value(name: str, cell: object) -> object:
        text = "" if cell is None else str(cell)
        if name not in FLAG_NUMBERS or text == "":
            return text
        try:
            number = float(text)
        except ValueError:
            return text
        return round(number, CONFIDENCE_DECIMALS) if name == "confidence" else int(number)

    return DataTable("flags", columns, [tuple(value(n, t) for n, t in zip(header, row, strict=False)) for row in rows])


def export_as(db: Path | str, out: Path, fmt: str, *, survey_id: str | None = None, excel: bool = False) -> int:
    """Write the records in ``fmt``; returns the number of forms written."""
    check_format(fmt)
    if fmt == "csv" and not excel:
        return export_records(db, out, survey_id)
    with Store(db) as store:
        survey = export_survey(store, survey_id)
        rows = list(record_rows(store, survey)) if survey else []
        flags = flag_rows(store) if fmt == "xlsx" and survey else []
    header = record_header(survey.field_ids(), SUFFIX) if survey else record_header(())
    if fmt == "csv":  # for Excel: a byte-order mark first, and no text Excel would run as a formula
        write_csv(DataTable("records", tuple(Column(name) for name in header), [tuple(row) for row in rows]), out, excel=True)
        return len(rows)
    if survey is None:
        raise BadArgsError(f"{db}: no forms to export as {fmt}")
    if fmt == "xlsx":
        flags = [r for r in flags if not r[0] or r[0] == survey.id]
        write_xlsx(
            [records_table(survey, header, rows, dummies=False), codebook_table(survey), flags_table(list(FLAG_COLUMNS), flags)], out
        )
    elif fmt == "sav":
        write_sav(records_table(survey, header, rows, dummies=True), out)
    else:
        write_dta(records_table(survey, header, rows, dummies=True), out)
    return len(rows)
