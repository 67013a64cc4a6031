"""Data in the formats analysts open: the records as XLSX (records, codebook,
flags), SPSS .sav and Stata .dta with labels, CSV with a byte-order mark;
the score tables the same. Each file is read back by another program:
openpyxl and LibreOffice for XLSX, pyreadstat and PSPP for .sav, pandas for .dta."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from test_score import HOUSEHOLD, simulated_rows, write_csv

from conftest import copy_database
from sipas_scan.outputs.records import codebook_table, export_as, flags_table, records_table
from sipas_scan.outputs.tables import write_csv as write_table_csv
from sipas_scan.outputs.tables import write_dta, write_sav, write_xlsx
from sipas_scan.records import FORM_FLAGS, REVIEWED
from sipas_scan.scoring.compute import score
from sipas_scan.scoring.records_in import read_records
from sipas_scan.scoring.write import score_tables, write_tables
from sipas_scan.store.db import Store

FLAG_HEADER = ["survey", "form_id", "field", "reason", "confidence", "detail", "source", "page", "image", "blocking"]
FLAG_ROWS = [
    ["sipas-household", "0009001", "c1_1", "faint-mark", "0.7440000000000001", "ô mờ", "scan.pdf", "2", "", "1"],
    ["sipas-household", "0009002", "", "identified-by-hand", "1.0", "", "scan.pdf", "1", "", "0"],
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipas_scan", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """A records CSV as export writes it: a spoiled single choice, a multiple choice, a comment."""
    root = tmp_path_factory.mktemp("outputs")
    rows = simulated_rows(HOUSEHOLD, 12)
    rows[0].update(a1="1", e1="2;5", t1="Cán bộ nhiệt tình", reviewed="t1")
    rows[1].update(a1="1;2", e1="", form_flags="identified-by-hand")  # two marks on a single choice
    path = write_csv(root / "records.csv", rows)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        body = list(reader)
    return root, path, header, body


def test_xlsx_has_records_codebook_and_flags_and_opens_with_openpyxl(records):
    root, _, header, body = records
    path = write_xlsx(
        [records_table(HOUSEHOLD, header, body, dummies=False), codebook_table(HOUSEHOLD), flags_table(FLAG_HEADER, FLAG_ROWS)],
        root / "records.xlsx",
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["records", "codebook", "flags"]
    sheet = [list(row) for row in book["records"].iter_rows(values_only=True)]
    assert sheet[0] == header and len(sheet) == 13
    first, second = dict(zip(header, sheet[1], strict=True)), dict(zip(header, sheet[2], strict=True))
    assert first["a1"] == 1 and first["e1"] == "2;5" and first["t1"] == "Cán bộ nhiệt tình"  # codes are numbers
    assert first["form_id"] == "0009000"  # a serial keeps its leading zeros
    assert second["a1"] == "1;2" and second[FORM_FLAGS] == "identified-by-hand"  # shown as read, not lost
    codebook = [list(row) for row in book["codebook"].iter_rows(values_only=True)]
    assert codebook[0] == ["Biến", "Câu", "Nội dung câu hỏi", "Loại", "Mã", "Nhãn phương án"]
    c44 = [row for row in codebook if row[0] == "c4_4"]
    assert [row[4:] for row in c44] == [
        [1, "Rất không hài lòng"],
        [2, "Không hài lòng"],
        [3, "Bình thường"],
        [4, "Hài lòng"],
        [5, "Rất hài lòng"],
    ]
    assert c44[0][1] == "4.4" and c44[0][2] == HOUSEHOLD.field("c4_4").text
    assert [row[3] for row in codebook if row[0] == "e1"][0] == "nhiều lựa chọn"
    flags = [list(row) for row in book["flags"].iter_rows(values_only=True)]
    assert flags[1][4] == 0.744 and flags[1][7] == 2 and flags[2][3] == "identified-by-hand"


def test_sav_reads_back_with_its_labels_in_pyreadstat(records):
    root, _, header, body = records
    path = write_sav(records_table(HOUSEHOLD, header, body, dummies=True), root / "records.sav")
    frame, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names_to_labels["c4_4"] == f"4.4. {HOUSEHOLD.field('c4_4').text}"
    assert meta.variable_value_labels["c4_4"] == {
        1.0: "Rất không hài lòng",
        2.0: "Không hài lòng",
        3.0: "Bình thường",
        4.0: "Hài lòng",
        5.0: "Rất hài lòng",
    }
    assert meta.variable_value_labels["a1"][3.0] == "Cấp xã (Ủy ban nhân dân xã, phường, thị trấn)"
    assert frame["a1"][0] == 1 and pd.isna(frame["a1"][1])  # two marks: no answer in a numeric variable
    # A multiple choice: one 0/1 variable per option, blank when the question was left blank.
    assert meta.column_names_to_labels["e1_2"].startswith("C1. ")
    assert (frame["e1_2"][0], frame["e1_5"][0], frame["e1_1"][0]) == (1, 1, 0) and pd.isna(frame["e1_2"][1])
    assert frame["t1"][0] == "Cán bộ nhiệt tình" and frame[REVIEWED][0] == "t1"


def test_dta_reads_back_with_pandas(records):
    root, _, header, body = records
    path = write_dta(records_table(HOUSEHOLD, header, body, dummies=True), root / "records.dta")
    labelled = pd.read_stata(path)
    assert (
        labelled["c4_4"].dtype == "category"
        and labelled["a1"][0] == "Cấp tỉnh (sở, ban, ngành; Trung tâm Phục vụ hành chính công tỉnh)"
    )
    with pd.io.stata.StataReader(path) as reader:
        labels = reader.variable_labels()
    assert labels["a1"].startswith("A1. ") and len(labels["c1_2"]) <= 80  # Stata's limit
    raw = pd.read_stata(path, convert_categoricals=False)
    assert raw["d1"].dropna().isin([1, 2]).all() and raw["form_id"][0] == "0009000"


def test_csv_for_excel_starts_with_a_byte_order_mark(records, tmp_path):
    _, _, header, body = records
    plain = write_table_csv(records_table(HOUSEHOLD, header, body, dummies=False), tmp_path / "plain.csv")
    excel = write_table_csv(records_table(HOUSEHOLD, header, body, dummies=False), tmp_path / "excel.csv", excel=True)
    assert excel.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")


def test_score_tables_as_xlsx_sav_and_dta(records, tmp_path):
    _, path, _, _ = records
    scores = score(read_records(path, HOUSEHOLD), by="district")
    written = write_tables(tmp_path, scores, None, ("csv", "xlsx", "sav", "dta"))
    assert sorted(p.name for p in written) == sorted(
        ["indices.xlsx", *(f"{t}.{ext}" for t in ("indices", "intervals", "other_indices") for ext in ("sav", "dta"))]
    )
    sheet = list(openpyxl.load_workbook(tmp_path / "indices.xlsx")["indices"].iter_rows(values_only=True))
    expected = {(t.name, r[1]): r for t in score_tables(scores, None) for r in t.rows if r[0] == "ALL"}
    assert sheet[1][:2] == ("ALL", "SIPAS") and sheet[1][2] == expected[("indices", "SIPAS")][2]
    assert isinstance(sheet[1][2], float) and round(sheet[1][2], 2) == sheet[1][2]
    frame, meta = pyreadstat.read_sav(str(tmp_path / "intervals.sav"))
    assert meta.column_names_to_labels["low"] == "Cận dưới khoảng tin cậy 95% (%)"
    assert set(frame["publishable"]) <= {0.0, 1.0}
    assert pd.read_stata(tmp_path / "other_indices.dta")["question"].iloc[0] == "a1"


@pytest.mark.skipif(shutil.which("pspp") is None, reason="needs Debian's pspp (./run test installs it)")
def test_pspp_opens_the_sav_with_its_value_labels(records, tmp_path):
    root, _, header, body = records
    path = write_sav(records_table(HOUSEHOLD, header, body, dummies=True), tmp_path / "records.sav")
    syntax = tmp_path / "show.sps"
    syntax.write_text(f"GET FILE='{path}'.\nDISPLAY DICTIONARY /VARIABLES=a1 c4_4.\nFREQUENCIES /VARIABLES=d1.\n", encoding="utf-8")
    result = subprocess.run(
        ["pspp", "-O", "format=txt", "-O", "width=300", str(syntax)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for text in ("Rất không hài lòng", "Cấp xã (Ủy ban nhân dân xã, phường, thị trấn)", "Nam", "Nữ", "4.4. Kết quả giải quyết"):
        assert text in result.stdout, text


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice (./run test installs it)")
def test_libreoffice_opens_the_xlsx(records, tmp_path):
    root, _, header, body = records
    write_xlsx([records_table(HOUSEHOLD, header, body, dummies=False), codebook_table(HOUSEHOLD)], tmp_path / "records.xlsx")
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(tmp_path / "out"),
            str(tmp_path / "records.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    sheets = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.csv")}
    records_csv = next(text for name, text in sheets.items() if name.endswith("-records.csv"))
    codebook_csv = next(text for name, text in sheets.items() if name.endswith("-codebook.csv"))
    assert records_csv.startswith(",".join(header)) and "Cán bộ nhiệt tình" in records_csv
    assert "Rất hài lòng" in codebook_csv


def test_export_command_writes_each_format_with_the_reviewed_and_by_hand_columns(office_scan, tmp_path):
    db = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(db) as store:
        serial = store.db.execute("SELECT serial FROM forms WHERE status = 'accepted' ORDER BY serial").fetchone()[0]
        store.add_decision("sipas-household", serial, "t1", None, "Cán bộ nhiệt tình", "lan")
        # What the review app records when a reviewer identified a page by hand (issue of forms.py).
        with store.transaction() as sql:
            sql.execute(
                "INSERT INTO flags (survey, serial, field_id, reason, confidence, blocking) "
                "VALUES ('sipas-household', ?, '', 'identified-by-hand', 1.0, 0)",
                (serial,),
            )
    result = run("export", "--db", str(db), "--out", "records.csv", "--excel", "--flags", "flags.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "records.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = {r["form_id"]: r for r in csv.DictReader(data.decode("utf-8-sig").splitlines())}
    assert (rows[serial]["t1"], rows[serial][REVIEWED], rows[serial][FORM_FLAGS]) == ("Cán bộ nhiệt tình", "t1", "identified-by-hand")
    assert read_records(tmp_path / "records.csv", HOUSEHOLD).form_flags[("identified-by-hand", "accepted")] == 1
    result = run("export", "--db", str(db), "--out", "records.xlsx", "--format", "xlsx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for fmt in ("sav", "dta"):  # the same code as the command, without starting Python again
        assert export_as(db, tmp_path / f"records.{fmt}", fmt) == len(rows)
    assert openpyxl.load_workbook(tmp_path / "records.xlsx").sheetnames == ["records", "codebook", "flags"]
    frame, meta = pyreadstat.read_sav(str(tmp_path / "records.sav"))
    assert len(frame) == len(rows) and meta.variable_value_labels["a5"] == {1.0: "Có", 2.0: "Không"}
    assert len(pd.read_stata(tmp_path / "records.dta")) == len(rows)
    export_as(db, tmp_path / "plain.csv", "csv")
    assert (tmp_path / "plain.csv").read_bytes() == data[3:]  # the contract's CSV: the same bytes, no mark
    bad = run("export", "--db", str(db), "--out", "r.ods", "--format", "ods", cwd=tmp_path)
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "csv, xlsx, sav, dta" in bad.stderr


def test_csv_for_excel_keeps_formula_like_comments_as_text(records, tmp_path):
    _, _, header, body = records
    t1 = header.index("t1")
    rows = [list(body[0]), list(body[0])]
    rows[0][t1], rows[1][t1] = '=HYPERLINK("http://x")', "@SUM(A1)"
    excel = write_table_csv(records_table(HOUSEHOLD, header, rows, dummies=False), tmp_path / "excel.csv", excel=True)
    plain = write_table_csv(records_table(HOUSEHOLD, header, rows, dummies=False), tmp_path / "plain.csv")
    with excel.open(encoding="utf-8-sig", newline="") as f:
        read = list(csv.DictReader(f))
    assert [r["t1"] for r in read] == ['\'=HYPERLINK("http://x")', "'@SUM(A1)"]
    with plain.open(encoding="utf-8", newline="") as f:
        assert [r["t1"] for r in csv.DictReader(f)] == ['=HYPERLINK("http://x")', "@SUM(A1)"]  # the contract's CSV as read
