"""Server time per review item: open the next item, load its crop, decide.

Scans a simulated office batch, then settles every item over HTTP (Flask's
test client, no network) and prints milliseconds per item: the app's share
of a reviewer's few seconds per item.

    .venv/bin/python bench/review_speed.py [--forms 54]
"""

from __future__ import annotations

import argparse
import html
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from print_bench import write_households  # noqa: E402

from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.reading.page import ReadOptions  # noqa: E402
from sipas_scan.reading.pipeline import scan_inputs  # noqa: E402
from sipas_scan.review import accounts  # noqa: E402
from sipas_scan.review.app import create_app  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402
from sipas_scan.store import decisions as keys  # noqa: E402
from sipas_scan.store.db import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=54)
    args = parser.parse_args()
    secret = Secret(secrets.token_bytes(32))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_households(root / "h.csv", args.forms)
        print_batch(None, root / "h.csv", root / "print", secret, root / "ledger.sqlite")
        simulate_returns(root / "print", root / "sim", seed=1, profile="office")
        db = root / "results.sqlite"
        scan_inputs([root / "sim" / "scans"], db, ReadOptions(secret, run_ocr=False), ledger_path=root / "ledger.sqlite")
        with Store(db) as store:
            accounts.add_user(store, "bench", "reviewer", "bench-password")
        client = create_app(db, root / "ledger.sqlite").test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": "bench", "password": "bench-password", "csrf_token": token})
        timings, seen = [], set()
        while True:
            started = time.perf_counter()
            response = client.get("/next")
            if response.status_code != 302:
                break
            page = client.get(response.headers["Location"]).text
            for image in re.findall(r'src="(/image/[^"]+)"', page):
                client.get(image.replace("&amp;", "&"))
            ident = html.unescape(re.search(r'data-ident="([^"]+)"', page).group(1))
            if ident in seen:
                raise SystemExit(f"item {ident} came back after a decision")
            seen.add(ident)
            kind = re.search(r'data-kind="([^"]+)"', page).group(1)
            value = {"answer": "", "comment": "", "quarantine": keys.REJECTED, "form": keys.KEPT}.get(kind)
            if value is None:
                value = re.search(r'class="option" data-key="1" data-value="([^"]*)"', page).group(1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # the session's, after login
            done = client.post("/decide", data={"id": ident, "value": html.unescape(value), "csrf_token": token})
            if done.status_code != 302 or "error=" in done.headers.get("Location", ""):
                raise SystemExit(f"{ident}: {value}: {done.status_code} {done.headers.get('Location')}")
            timings.append(time.perf_counter() - started)
        total = sum(timings)
        print(f"{len(timings)} items settled in {total:.1f} s: {1000 * total / max(1, len(timings)):.0f} ms per item"
              f" (next + item page + crops + decision + form rebuilt), slowest {1000 * max(timings, default=0):.0f} ms")


if __name__ == "__main__":
    main()
