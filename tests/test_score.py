"""Scoring: the SIPAS formulas on hand-computed data, their properties, the
units, the comparison with last year and the errors on malformed records."""

import csv
from pathlib import Path

import numpy as np
import pytest

from sipas_scan.errors import BadArgsError
from sipas_scan.records import PREFIX, SUFFIX, write_records
from sipas_scan.scoring.compare import compare, read_indices
from sipas_scan.scoring.compute import score
from sipas_scan.scoring.indices import applies, valid_codes
from sipas_scan.scoring.intervals import bootstrap_interval
from sipas_scan.scoring.records_in import CsvInputError, read_records
from sipas_scan.scoring.write import write_compare, write_indices
from sipas_scan.simulate.profiles import RespondentProfile
from sipas_scan.simulate.respondents import fill_form
from sipas_scan.survey import load_survey

HOUSEHOLD = load_survey("sipas-household")
NATIONAL = load_survey("sipas-national-2023")


def grid(prefix: str, *values: str) -> dict[str, str]:
    return {f"{prefix}_{i}": v for i, v in enumerate(values, start=1)}


def write_csv(path: Path, rows: list[dict], survey=HOUSEHOLD) -> Path:
    """A records CSV; each row gives only what differs from a blank form."""
    fields = survey.field_ids()
    defaults = {
        "province": "Lạng Sơn",
        "district": "Huyện Cao Lộc",
        "commune": "Xã Hợp Thành",
        "village": "Thôn Bản Vằn",
        "status": "accepted",
    }
    records = []
    for i, row in enumerate(rows):
        values = {**defaults, "form_id": f"{9000 + i:07d}", "household_code": f"HGD{7000 + i:05d}", **row}
        records.append([values.get(c, "") for c in (*PREFIX, *fields, *SUFFIX)])
    write_records(path, fields, records, SUFFIX)
    return path


# A: no feedback (a5 = 2), so c5_* do not count although answered.
RESPONDENT_A = {
    "a5": "2",
    "e1": "1;3",
    **grid("c1", "4", "5", "3"),
    **grid("c2", "4", "4", "4", "4", "4"),
    **grid("c3", "1", "2", "3", "4", "5", ""),
    **grid("c4", "5", "5", "5", "5"),
    **grid("c5", "5", "5", "5", "5"),
}
# B: gave feedback, so 22 criteria; all of F3 blank, one blank in F5.
RESPONDENT_B = {
    "a5": "1",
    "e1": "3",
    **grid("c1", "4", "4", "4"),
    **grid("c2", "1", "1", "1", "1", "1"),
    **grid("c4", "4", "4", "3", "3"),
    **grid("c5", "5", "2", "", "4"),
}
# C: answered no satisfaction question at all; e1 over the maximum of 3.
RESPONDENT_C = {"a1": "3", "e1": "1;2;3;4"}
# D: two marks on c1_1 (spoiled = blank), one satisfied answer.
RESPONDENT_D = {"a5": "2", "c1_1": "4;5", "c1_2": "4"}
EXCLUDED = [{"status": "needs_review", **grid("c1", "5", "5", "5")}, {"status": "rejected", **grid("c1", "5", "5", "5")}]


@pytest.fixture
def hand_records(tmp_path):
    path = write_csv(tmp_path / "records.csv", [RESPONDENT_A, RESPONDENT_B, RESPONDENT_C, RESPONDENT_D, *EXCLUDED])
    return read_records(path, HOUSEHOLD)


def values(unit) -> dict[str, tuple[float | None, int]]:
    return {k: (None if v.value is None else round(v.value, 2), v.n) for k, v in unit.indices.items()}


def test_hand_computed_sipas_factor_and_criterion_indices(hand_records):
    got = values(score(hand_records).all)
    # b_i/a_i: A 13/18, B 7/22, D 1/18 (C answered nothing and is not counted).
    assert got["SIPAS"] == (round((13 / 18 + 7 / 22 + 1 / 18) / 3 * 100, 2), 3) == (36.53, 3)
    assert got["F1"] == (round((2 / 3 + 1 + 1 / 3) / 3 * 100, 2), 3)
    assert got["F2"] == (50.0, 2)  # A 5/5, B 0/5; D left F2 blank
    assert got["F3"] == (33.33, 1)  # only A answered F3 (2 of 6, one blank)
    assert got["F4"] == (75.0, 2)
    assert got["F5"] == (50.0, 1)  # only B: 2 of 4, a blank counts in a_i; A's c5 answers do not apply
    assert got["c1_1"] == (100.0, 2)  # D's two marks are no answer
    assert got["c1_2"] == (100.0, 3)
    assert got["c1_3"] == (50.0, 2)
    assert got["c3_1"] == (0.0, 1)
    assert got["c3_6"] == (None, 0)
    assert got["c5_1"] == (100.0, 1)
    assert got["c5_3"] == (None, 0)


def test_other_indices_share_of_each_option_among_those_who_answered(hand_records):
    others = score(hand_records).all.others
    a5 = {s.code: (s.value, s.n) for s in others["a5"]}
    assert a5 == {"1": (pytest.approx(100 / 3), 3), "2": (pytest.approx(200 / 3), 3)}
    e1 = {s.code: s.value for s in others["e1"]}  # C chose 4 of at most 3: not counted
    assert others["e1"][0].n == 2 and e1["1"] == 50.0 and e1["3"] == 100.0 and e1["2"] == 0.0
    assert "t1" not in others and "c1_1" not in others


def test_excluded_statuses_are_counted_and_left_out(hand_records):
    assert hand_records.total == 6 and len(hand_records.counted) == 4
    assert dict(hand_records.excluded) == {"needs_review": 1, "rejected": 1}
    assert dict(hand_records.spoiled) == {"e1": 1, "c1_1": 1}


def test_indices_csv_is_exactly_the_contract_format(hand_records, tmp_path):
    path = write_indices(tmp_path / "indices.csv", score(hand_records))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "unit,index,value,n"
    assert lines[1:7] == [
        "ALL,SIPAS,36.53,3",
        "ALL,F1,66.67,3",
        "ALL,F2,50.00,2",
        "ALL,F3,33.33,1",
        "ALL,F4,75.00,2",
        "ALL,F5,50.00,1",
    ]
    assert "ALL,c3_6" not in path.read_text(encoding="utf-8")  # nobody answered: no row, not an empty value


def test_filters_follow_the_survey_definition_even_when_nested():
    # National form: s5_* hang on b17 = 1, which itself hangs on b12 = 1.
    assert applies(NATIONAL, "s5_1", {"b12": "1", "b17": "1"})
    assert not applies(NATIONAL, "s5_1", {"b12": "2", "b17": "1"})  # b17 should not have been answered
    assert not applies(NATIONAL, "s5_1", {"b12": "1", "b17": "1;2"})  # spoiled filter answer
    assert not applies(HOUSEHOLD, "c5_2", {"a5": ""})
    assert valid_codes(HOUSEHOLD.field("e1"), "1;2;3") == ("1", "2", "3")
    assert valid_codes(HOUSEHOLD.field("e1"), "1;2;3;4") == ()


def test_combine_mean_averages_units_pooled_averages_people(tmp_path):
    all_yes = grid("c1", "5", "5", "5") | grid("c2", *"55555") | grid("c3", *"555555") | grid("c4", *"5555") | {"a5": "2"}
    all_no = {k: ("1" if k != "a5" else "2") for k in all_yes}
    path = write_csv(tmp_path / "r.csv", [{"village": "V1", **all_yes}, {"village": "V1", **all_no}, {"village": "V2", **all_yes}])
    records = read_records(path, HOUSEHOLD)
    pooled = score(records, by="village")
    mean = score(records, by="village", combine="mean")
    assert round(pooled.all.indices["SIPAS"].value, 2) == 66.67
    assert mean.all.indices["SIPAS"].value == 75.0 and mean.all.indices["SIPAS"].n == 3
    assert [u.indices["SIPAS"].value for u in mean.groups] == [50.0, 100.0]
    # Without --by, "mean" averages villages.
    assert score(records, combine="mean").all.indices["SIPAS"].value == 75.0
    with pytest.raises(BadArgsError):
        score(records, combine="median")


def test_bootstrap_interval_is_reproducible_and_sensible():
    shares = [100.0] * 20 + [50.0] * 10 + [0.0] * 5
    first, again = bootstrap_interval([shares]), bootstrap_interval([shares])
    assert first == again
    assert first.low < np.mean(shares) < first.high and first.low >= 0 and first.high <= 100
    assert bootstrap_interval([[80.0] * 7]).low == 80.0
    assert bootstrap_interval([]).low is None


def simulated_rows(survey, n: int, seed: int = 7, statuses=("accepted",)) -> list[dict]:
    """Realistic records from the respondent simulator, over 2 districts and 4 villages."""
    rng = np.random.default_rng(seed)
    profile = RespondentProfile(blank_rate=0.05, over_max_rate=0.05, comment_rate=0.5)
    rows = []
    for i in range(n):
        truth = fill_form(survey, profile, rng).truth
        district = ("Huyện Cao Lộc", "Huyện Văn Quan")[i % 2]
        rows.append(
            {
                **truth,
                "district": district,
                "commune": f"Xã {i % 2}",
                "village": f"Thôn Nà {i % 4}",
                "status": statuses[i % len(statuses)],
            }
        )
    return rows


def test_property_every_index_is_a_percentage_and_order_and_duplication_do_not_matter(tmp_path):
    rows = simulated_rows(HOUSEHOLD, 60)
    base = score(read_records(write_csv(tmp_path / "a.csv", rows), HOUSEHOLD), by="village")
    shuffled_rows = [rows[i] for i in np.random.default_rng(1).permutation(len(rows))]
    shuffled = score(read_records(write_csv(tmp_path / "b.csv", shuffled_rows), HOUSEHOLD), by="village")
    doubled = score(read_records(write_csv(tmp_path / "c.csv", rows + rows), HOUSEHOLD), by="village")
    for unit, same, twice in zip(base.units, shuffled.units, doubled.units, strict=True):
        assert unit.key == same.key == twice.key
        for index, value in unit.indices.items():
            assert value.value is None or 0 <= value.value <= 100
            assert same.indices[index] == value
            assert twice.indices[index].n == 2 * value.n
            assert twice.indices[index].value == pytest.approx(value.value)
        for shares in unit.others.values():
            assert all(s.value is None or 0 <= s.value <= 100 for s in shares)


def test_national_survey_is_scored_from_its_own_index(tmp_path):
    path = write_csv(tmp_path / "national.csv", simulated_rows(NATIONAL, 40), survey=NATIONAL)
    scores = score(read_records(path, NATIONAL))
    ids = list(scores.all.indices)
    assert ids[:11] == ["SIPAS", "P", "P1", "P2", "P3", "P4", "S", "S1", "S2", "S3", "S4"]
    assert "s5_3" in ids and "b19" not in ids
    assert 0 < scores.all.indices["SIPAS"].value < 100
    # Services apply only to those who had a procedure (b12 = 1): fewer respondents than policies.
    assert scores.all.indices["S"].n < scores.all.indices["P"].n
    assert {s.question for shares in scores.all.others.values() for s in shares} >= {"b2", "g1", "a1"}


def test_by_gives_the_all_rows_and_one_per_group(tmp_path, hand_records):
    path = write_csv(tmp_path / "r.csv", simulated_rows(HOUSEHOLD, 30))
    records = read_records(path, HOUSEHOLD)
    by_district = score(records, by="district")
    assert [u.key for u in by_district.units] == ["ALL", "Huyện Cao Lộc", "Huyện Văn Quan"]
    assert sum(u.respondents for u in by_district.groups) == by_district.all.respondents == 30
    with write_indices(tmp_path / "i.csv", by_district).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["unit"] for r in rows if r["index"] == "SIPAS"] == ["ALL", "Huyện Cao Lộc", "Huyện Văn Quan"]
    by_a1 = score(hand_records, by="a1")
    assert [u.key for u in by_a1.units] == ["ALL", "3", "(trống)"]
    assert by_a1.groups[0].label.startswith("3 – Cấp xã")
    with pytest.raises(BadArgsError, match="no such column"):
        score(records, by="hamlet")
    with pytest.raises(BadArgsError, match="single-choice"):
        score(records, by="e1")


def test_compare_reports_the_change_per_index_and_unit(tmp_path, hand_records):
    previous = tmp_path / "last_year.csv"
    previous.write_text("unit,index,value,n\nALL,SIPAS,40.00,100\nALL,F1,70.50,100\nALL,F9,12.00,5\n", encoding="utf-8")
    changes = compare(score(hand_records), read_indices(previous))
    by_index = {c.index: c for c in changes if c.unit == "ALL"}
    assert by_index["SIPAS"].change == pytest.approx(36.53 - 40.00)
    assert by_index["F1"].change == pytest.approx(66.67 - 70.50)
    assert by_index["F2"].previous is None and by_index["F2"].change is None
    assert by_index["F9"].value is None and by_index["F9"].previous == 12.0
    lines = write_compare(tmp_path / "compare.csv", changes).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "unit,index,value,previous,change,n,previous_n"
    assert lines[1] == "ALL,SIPAS,36.53,40.00,-3.47,3,100"


def test_a_previous_file_that_is_not_an_indices_csv_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,index,value,n\nALL,SIPAS,eighty,3\n", encoding="utf-8")
    with pytest.raises(CsvInputError, match="row 2, column value"):
        read_indices(bad)


def _header(survey=HOUSEHOLD) -> str:
    return ",".join((*PREFIX, *survey.field_ids()))


def _row(**values: str) -> str:
    base = {"form_id": "0000001", "household_code": "HGD1", "status": "accepted"}
    return ",".join({**base, **values}.get(c, "") for c in (*PREFIX, *HOUSEHOLD.field_ids()))


@pytest.mark.parametrize(
    ("content", "row", "column", "says"),
    [
        (_header().replace(",c2_3", "") + "\n", 1, "c2_3", "missing column(s) c2_3"),
        (f"{_header()}\n{_row()}\n{_row(c3_2='7')}\n", 3, "c3_2", "unknown code '7'"),
        (f"{_header()}\n{_row(e1='1;12')}\n", 2, "e1", "unknown code '12'"),
        (f"{_header()}\n{_row(status='approved')}\n", 2, "status", "unknown status 'approved'"),
        (f"{_header()}\n{_row()}\n1,2,3\n", 3, "", "3 values but the header has"),
        ("name;age\nAn;3\n", 1, "form_id", "missing column(s) form_id"),
        ("", 1, "", "empty file"),
    ],
)
def test_malformed_records_name_the_row_and_column(tmp_path, content, row, column, says):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CsvInputError, match=says.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_records(path, HOUSEHOLD)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert "\n" not in str(caught.value)


def test_bad_encoding_and_binary_files_are_named(tmp_path):
    text = f"{_header()}\n{_row()}\n{_row(village='Thôn Bản Vằn')}\n"
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(text.encode("utf-8").replace("Thôn Bản Vằn".encode(), "Thôn".encode() + b"\xe9"))
    with pytest.raises(CsvInputError, match="not UTF-8") as caught:
        read_records(latin, HOUSEHOLD)
    assert (caught.value.row, caught.value.column) == (3, "village")
    pdf = tmp_path / "scan.csv"
    pdf.write_bytes(b"%PDF-1.4\n%binary\x00\x01")
    with pytest.raises(CsvInputError, match="this is a PDF, not a CSV"):
        read_records(pdf, HOUSEHOLD)
