"""The issuing body's header on page 1 of the form, printed only when the
survey definition gives it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sipas_scan.layout import layout_survey
from sipas_scan.printing.render import render_blank_pages
from sipas_scan.survey import load_survey

HOUSEHOLD_YAML = Path(__file__).resolve().parents[1] / "sipas_scan" / "forms" / "sipas-household.yaml"


def _page_one_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "blank.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_issuer_heads_page_one_only_when_given(tmp_path):
    source = HOUSEHOLD_YAML
    text = source.read_text(encoding="utf-8")
    with_issuer = tmp_path / "with-issuer.yaml"
    with_issuer.write_text(text.replace("\ntitle:", '\nissuer: ["UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ"]\ntitle:', 1), encoding="utf-8")
    plain, headed = load_survey(source), load_survey(with_issuer)
    assert headed.issuer == ("UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ") and plain.issuer == ()
    page_one = _page_one_text(render_blank_pages(layout_survey(headed)), tmp_path)
    assert page_one.index("UBND TỈNH LẠNG SƠN") < page_one.index("SỞ NỘI VỤ") < page_one.index("PHIẾU KHẢO SÁT")
    assert "SỞ NỘI VỤ" not in _page_one_text(render_blank_pages(layout_survey(plain)), tmp_path)
    # The header pushes page 1 down; every box is still where layout.json says, since both come from the layout.
    first = {f.id: f for f in layout_survey(plain).pages[0].fields}
    moved = {f.id: f for f in layout_survey(headed).pages[0].fields}
    common = sorted(set(first) & set(moved))
    assert common and all(moved[i].options[0].box[1] > first[i].options[0].box[1] for i in common if first[i].options)
