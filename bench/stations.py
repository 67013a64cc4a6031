"""Scanning stations on one PostgreSQL database: pages per second of one
station, of two stations at once on different stacks, and of two stations
given the same stacks; and the size of the database per 1,000 pages,
images included, on PostgreSQL and on SQLite.

Prints, simulates (office profile) and then scans the same stacks in each
set-up, each into a new database on a throw-away PostgreSQL server (Debian's,
started as tests/pgcluster.py does) or a new SQLite file. Every station is a
`sipas-scan scan` process with one reading worker, as if each ran on a
machine of its own with one core: two stations at once show what the shared
database costs them, not how two processes share this machine's cores (on
a 2-core machine, two one-worker stations fill it).

    .venv/bin/python bench/stations.py [--forms 60] [--no-ocr]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pgcluster import Cluster  # noqa: E402

from conftest import TEST_SECRET, make_households, write_households  # noqa: E402
from sipas_scan.export import export_records  # noqa: E402
from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402
from sipas_scan.store.db import Store  # noqa: E402
from sipas_scan.store.engine import dispose_engines  # noqa: E402


def station(files: list[Path], db: str, ledger: Path, ocr: bool, cwd: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "sipas_scan", "-q", "scan", *map(str, files), "--db", db, "--ledger", str(ledger)]
    command += ["--workers", "1"] + ([] if ocr else ["--no-ocr"])
    env = {**os.environ, "SIPAS_SECRET": TEST_SECRET}
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stations_at_once(inputs: list[list[Path]], db: str, ledger: Path, ocr: bool, cwd: Path) -> float:
    """Wall time for stations started together, each given its files."""
    started = time.perf_counter()
    running = [station(files, db, ledger, ocr, cwd) for files in inputs]
    for process in running:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"stations: a station failed: {err.strip()}")
    return time.perf_counter() - started


def pages_stored(db: str) -> int:
    with Store(db) as store:
        return store.db.query("SELECT count(*) FROM pages").scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", type=int, default=60)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args()
    ocr = not args.no_ocr
    with tempfile.TemporaryDirectory(prefix="stations-") as tmp:
        root = Path(tmp)
        households = write_households(root / "households.csv", make_households(args.forms))
        print_batch(None, households, root / "print", Secret(TEST_SECRET.encode()), root / "ledger.sqlite")
        simulate_returns(root / "print", root / "sim", seed=5, profile="office")
        stacks = sorted((root / "sim" / "scans").iterdir())
        if len(stacks) < 2:
            raise SystemExit("stations: the simulation gave one stack; give more --forms")
        halves = [stacks[0::2], stacks[1::2]]
        ledger = root / "ledger.sqlite"
        print(f"{args.forms} forms in {len(stacks)} files; OCR {'on' if ocr else 'off'}; one reading worker per station", flush=True)
        with Cluster.temporary() as cluster:
            runs = {
                "one station, every stack": [stacks],
                "two stations, different stacks": halves,
                "two stations, the same stacks": [stacks, stacks[::-1]],
            }
            records: dict[str, bytes] = {}
            # Once untimed first: the first run pays for cold file caches and imports.
            stations_at_once([stacks], cluster.create_database("warmup"), ledger, ocr, root)
            rate_one = 0.0
            for number, (name, inputs) in enumerate(runs.items()):
                url = cluster.create_database(f"run{number}")
                seconds = stations_at_once(inputs, url, ledger, ocr, root)
                pages = pages_stored(url)
                rate = pages / seconds
                rate_one = rate_one or rate
                print(f"  {name:<32} {pages:>5} pages in {seconds:6.1f} s = {rate:5.2f} pages/s ({rate / rate_one:.2f}x)", flush=True)
                export_records(url, root / f"run{number}.csv")
                records[name] = (root / f"run{number}.csv").read_bytes()
                if number == 0:
                    with Store(url) as store:
                        size = store.db.query("SELECT pg_database_size(current_database())").scalar_one()
                        images = store.db.query("SELECT pg_total_relation_size('page_images')").scalar_one()
                    pg_size = (pages, size, images)
                dispose_engines()
            same = len(set(records.values())) == 1
            print(f"  exports of the three set-ups identical: {'yes' if same else 'NO'}")
        lite = root / "results.sqlite"
        seconds = stations_at_once([stacks], str(lite), ledger, ocr, root)
        pages = pages_stored(str(lite))
        with Store(lite) as store:
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        lite_size = lite.stat().st_size
        print(f"  one station into SQLite            {pages:>5} pages in {seconds:6.1f} s = {pages / seconds:5.2f} pages/s")
        pages, size, images = pg_size
        print("database size per 1,000 pages, images included:")
        print(f"  PostgreSQL: {size / pages * 1000 / 2**20:7.1f} MiB (page images {images / pages * 1000 / 2**20:.1f} MiB of it)")
        print(f"  SQLite:     {lite_size / pages * 1000 / 2**20:7.1f} MiB")


if __name__ == "__main__":
    main()
