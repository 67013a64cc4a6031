import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from conftest import write_households
from sipas_scan.errors import BadArgsError, InputFileError
from sipas_scan.printing.households import read_households
from sipas_scan.printing.sample import sample_register

REGISTER = Path(__file__).resolve().parents[1] / "sipas_scan" / "data" / "sample_register.csv"


def _codes(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [r["household_code"] for r in csv.DictReader(f)]


def test_the_bundled_register_gives_27_households_in_each_of_18_villages(tmp_path):
    summary = sample_register(REGISTER, 27, 7, tmp_path / "s.csv")
    assert (summary.villages, summary.drawn, summary.short_villages) == (18, 486, [])
    per_village = Counter(h.village_key for h in read_households(tmp_path / "s.csv"))
    assert set(per_village.values()) == {27}


def test_the_same_seed_gives_the_same_draw_and_another_seed_another(tmp_path):
    sample_register(REGISTER, 27, 7, tmp_path / "a.csv")
    sample_register(REGISTER, 27, 7, tmp_path / "b.csv")
    sample_register(REGISTER, 27, 8, tmp_path / "c.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert _codes(tmp_path / "a.csv") != _codes(tmp_path / "c.csv")


def test_the_draw_does_not_depend_on_the_order_of_the_register(tmp_path):
    with REGISTER.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    write_households(tmp_path / "shuffled.csv", shuffled)
    sample_register(REGISTER, 10, 5, tmp_path / "a.csv")
    sample_register(tmp_path / "shuffled.csv", 10, 5, tmp_path / "b.csv")
    assert sorted(_codes(tmp_path / "a.csv")) == sorted(_codes(tmp_path / "b.csv"))


def test_a_small_village_gives_all_its_households_and_is_reported(tmp_path):
    rows = [{"province": "P", "district": "D", "commune": "C", "village": "V", "household_code": f"H{i}"} for i in range(3)]
    summary = sample_register(write_households(tmp_path / "r.csv", rows), 5, 1, tmp_path / "s.csv")
    assert summary.drawn == 3 and summary.short_villages == [("P / D / C / V", 3)]


def test_bad_registers_and_arguments_are_clear_errors(tmp_path):
    with pytest.raises(BadArgsError):
        sample_register(REGISTER, 0, 1, tmp_path / "s.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("province,district,commune,village\nP,D,C,V\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad.csv:1: missing column\(s\) household_code"):
        sample_register(bad, 5, 1, tmp_path / "s.csv")
    bad.write_bytes("province,district,commune,village,household_code\nP,D,C,Th\xf4n,H1\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"bad.csv:2: not UTF-8"):
        sample_register(bad, 5, 1, tmp_path / "s.csv")
    bad.write_text("province,district,commune,village,household_code\nP,D,C,V,H1\nP,D,C,V,\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad.csv:3: column 'household_code' is empty"):
        sample_register(bad, 5, 1, tmp_path / "s.csv")
    bad.write_text("province,district,commune,village,household_code\nP,D,C,V,H1\nP,D,C,V,H1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad.csv:3: household H1 is listed twice \(first at line 2\)"):
        sample_register(bad, 5, 1, tmp_path / "s.csv")
