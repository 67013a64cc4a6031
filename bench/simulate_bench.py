"""How fast `simulate` makes scanned stacks, per profile.

.venv/bin/python bench/simulate_bench.py [--forms N]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from print_bench import write_households  # noqa: E402

from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=54)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_households(root / "h.csv", args.forms)
        print_batch(None, root / "h.csv", root / "print", Secret(secrets.token_bytes(32)), root / "l.sqlite")
        print(f"{args.forms} forms, {os.cpu_count()} cores")
        for profile in ("clean", "office", "hard"):
            started = time.perf_counter()
            summary = simulate_returns(root / "print", root / profile, seed=1, profile=profile)
            seconds = time.perf_counter() - started
            size = sum(p.stat().st_size for p in summary.stacks)
            print(
                f"{profile:7s}: {summary.pages} pages in {seconds:.1f} s = {summary.pages / seconds:.1f} pages/s; "
                f"{summary.anomalies} anomalies; {size / summary.pages / 1e3:.0f} kB/page"
            )


if __name__ == "__main__":
    main()
