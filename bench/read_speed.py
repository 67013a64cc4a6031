"""Scan speed (pages/s on all cores) at 200 and 300 dpi, with and without
comment OCR, and peak memory reading a small and a 2,000-page PDF.

    .venv/bin/python bench/read_speed.py [--forms 50] [--big-pages 2000] [--baseline DIR] [--profile clean]

``--baseline DIR``: a checkout of another revision (``git worktree add DIR
REV``). The same scans are then read by that revision's ``scan`` and this
one's in turn, twice each, and the ratio printed: on a shared machine a
ratio measured in one run means more than two runs' pages per second.
``--profile``: the returns simulated (clean by default; office or hard
bring stray sheets and damaged pages, which cost the reader more).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pypdfium2 as pdfium  # noqa: E402
from print_bench import write_households  # noqa: E402

from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.reading.page import ReadOptions  # noqa: E402
from sipas_scan.scan import scan_inputs  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402


def one_pdf(stacks: list[Path], target: Path, pages: int) -> None:
    """Join stacks (repeating them) into one PDF of ``pages`` pages; loose
    page images and the files office and hard returns spoil on purpose are
    left out."""
    out = pdfium.PdfDocument.new()
    stacks = [stack for stack in stacks if _opens(stack)]
    while len(out) < pages:
        for stack in stacks:
            source = pdfium.PdfDocument(stack)
            take = min(len(source), pages - len(out))
            out.import_pages(source, list(range(take)))
            source.close()
            if len(out) >= pages:
                break
    out.save(target)


def _opens(path: Path) -> bool:
    try:
        pdfium.PdfDocument(path).close()
    except pdfium.PdfiumError:
        return False
    return True


def peak_rss_mb(command: list[str]) -> tuple[float, str]:
    """Run a scan in a fresh process; peak resident memory of it and its workers."""
    script = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(p.stdout.splitlines()[0])"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    return int(lines[0]) / 1024, lines[1]


def timed_scan(code: Path, scans: Path, db: Path, key: str) -> float:
    """Seconds for ``code``'s scan command (no OCR) to read ``scans`` into a new ``db``."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sipas_scan", "scan", str(scans), "--db", str(db), "--secret", key, "--no-ocr"],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def compare(root: Path, key: str, baseline: Path) -> None:
    """This revision's scan speed against ``baseline``'s on the same scans, alternating."""
    here = Path(__file__).resolve().parent.parent
    for dpi in (200, 300):
        scans = root / f"sim{dpi}" / "scans"
        pages = sum(len(pdfium.PdfDocument(p)) for p in scans.glob("*.pdf"))
        seconds: dict[str, list[float]] = {"baseline": [], "this": []}
        for round_ in range(2):
            for name, code in (("baseline", baseline), ("this", here)):
                seconds[name].append(timed_scan(code, scans, root / f"cmp{dpi}-{name}-{round_}.db", key))
        rate = {name: pages / min(times) for name, times in seconds.items()}
        print(
            f"{dpi} dpi, no OCR, {pages} pages, best of 2: baseline {rate['baseline']:.1f} pages/s, this"
            f" {rate['this']:.1f} pages/s, ratio {rate['this'] / rate['baseline']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--big-pages", type=int, default=2000)
    parser.add_argument("--baseline", type=Path, help="a checkout of another revision to compare with")
    parser.add_argument("--profile", default="clean", help="the simulated returns' profile (clean, office, hard)")
    args = parser.parse_args()
    key = secrets.token_urlsafe(24)
    secret = Secret(key.encode())
    print(f"{os.cpu_count()} cores; {args.forms} forms ({args.profile} returns, scanned at 200 and 300 dpi)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_households(root / "h.csv", args.forms)
        print_batch(None, root / "h.csv", root / "print", secret, root / "ledger.sqlite")
        for dpi in (200, 300):
            sim = simulate_returns(root / "print", root / f"sim{dpi}", seed=1, profile=args.profile, dpi=dpi)
            for ocr in (False, True):
                started = time.perf_counter()
                summary = scan_inputs(
                    [root / f"sim{dpi}" / "scans"],
                    root / f"r{dpi}{ocr}.db",
                    ReadOptions(secret, run_ocr=ocr),
                    ledger_path=root / "ledger.sqlite",
                )
                seconds = time.perf_counter() - started
                print(
                    f"{dpi} dpi, comment OCR {'on ' if ocr else 'off'}: {summary.pages_read} pages in {seconds:.1f} s"
                    f" = {summary.pages_read / seconds:.1f} pages/s"
                )
        if args.baseline:
            compare(root, key, args.baseline.resolve())
        one_pdf(sim.stacks, root / "small.pdf", 200)
        one_pdf(sim.stacks, root / "big.pdf", args.big_pages)
        env_command = [sys.executable, "-m", "sipas_scan", "scan", "--secret", key, "--no-ocr"]
        for name in ("small", "big"):
            peak, line = peak_rss_mb([*env_command, str(root / f"{name}.pdf"), "--db", str(root / f"{name}.db")])
            size = (root / f"{name}.pdf").stat().st_size / 1e6
            print(f"{name} PDF ({size:.0f} MB): peak memory of any one process {peak:.0f} MB; {line}")


if __name__ == "__main__":
    main()
