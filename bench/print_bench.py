"""Print Lạng Sơn's yearly volume (1,790 forms) and report pages per second
and the PDF's size, with one worker process and with all cores.

    .venv/bin/python bench/print_bench.py [--forms N]
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import tempfile
import time
from pathlib import Path

from sipas_scan.layout import layout_survey
from sipas_scan.printing.batch import print_batch
from sipas_scan.printing.codes import Secret
from sipas_scan.survey import load_survey


def write_households(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["province", "district", "commune", "village", "household_code"])
        for i in range(n):
            village = i // 27  # 27 households a village, 3 villages a commune, 5 communes a district
            commune, district = village // 3, village // 15
            writer.writerow(["Lạng Sơn", f"Huyện {district}", f"Xã Hợp Thành {commune}", f"Thôn Nà Làng {village}", f"HGD{i:06d}"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=1790)
    args = parser.parse_args()
    secret = Secret(secrets.token_bytes(32))
    pages_per_form = layout_survey(load_survey()).page_count
    print(f"survey sipas-household, {pages_per_form} pages per form, {args.forms} forms, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_households(root / "h.csv", args.forms)
        for workers in (1, os.cpu_count() or 1):
            started = time.perf_counter()
            summary = print_batch(None, root / "h.csv", root / f"out{workers}", secret, root / "ledger.sqlite", workers=workers)
            seconds = time.perf_counter() - started
            rate = summary.pages / seconds
            print(
                f"workers={workers}: {summary.pages} pages in {seconds:.1f} s = {rate:.0f} pages/s "
                f"(incl. delivery lists for {summary.villages} villages); forms.pdf {summary.pdf_bytes / 1e6:.1f} MB "
                f"= {summary.pdf_bytes / summary.pages / 1e3:.1f} kB/page"
            )


if __name__ == "__main__":
    main()
