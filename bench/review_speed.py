"""The review app under 20 reviewers at once: requests per second, p50/p95
latency and errors.

Prints, simulates and scans an office stack (as the tests' office_scan
fixture does, with more forms), starts the real server (`sipas-scan review`,
waitress) on loopback, logs in 20 reviewers and lets each clear the queue as
fast as the app allows for 30 s: open the next item, load its images, decide,
next. Supervisors (one per five reviewers) reopen decided items so that the
queue never runs dry; their requests are counted apart. Any answer but the expected one is an error:
a 5xx, a 409 "someone else holds it", a decision refused, a refused connection.

    .venv/bin/python bench/review_speed.py [--forms 150] [--reviewers 20] [--seconds 30] [--db results.sqlite --ledger L]
        [--postgresql] [--servers N]

``--postgresql``: the database is copied into a throw-away PostgreSQL server
(Debian's, started as tests/pgcluster.py does) and the app runs on it.
``--servers N``: N app processes sharing one session key, behind one
address (a round-robin proxy, tests/roundrobin.py); each reviewer's
keep-alive connection stays with the process it reached first.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pgcluster import Cluster  # noqa: E402
from roundrobin import RoundRobin  # noqa: E402

from conftest import TEST_SECRET, make_households, write_households  # noqa: E402
from sipas_scan.assembly import decisions as keys  # noqa: E402
from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.reading.page import ReadOptions  # noqa: E402
from sipas_scan.review import accounts  # noqa: E402
from sipas_scan.scan import scan_inputs  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402
from sipas_scan.store.copy import copy_database  # noqa: E402
from sipas_scan.store.db import Store  # noqa: E402

PASSWORD = "bench-password-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_database(root: Path, forms: int) -> tuple[Path, Path]:
    """The office_scan fixture's recipe (tests/conftest.py) with ``forms`` households."""
    secret = Secret(TEST_SECRET.encode())
    households = write_households(root / "households.csv", make_households(forms))
    print_batch(None, households, root / "print", secret, root / "ledger.sqlite")
    simulate_returns(root / "print", root / "sim", seed=8, profile="office")
    scan_inputs(
        [root / "sim" / "scans"], root / "results.sqlite", ReadOptions(secret, run_ocr=False), ledger_path=root / "ledger.sqlite"
    )
    return root / "results.sqlite", root / "ledger.sqlite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One browser: a keep-alive connection, the session cookie, timings."""

    def __init__(self, port: int, record: Callable) -> None:
        self.port, self.record = port, record
        self.cookie = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, form: dict | None = None, route: str = "") -> tuple[int, dict, str]:
        body = urlencode(form).encode() if form is not None else None
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.record(route or path, time.perf_counter() - started, 0)
            return 0, {}, ""
        self.record(route or path, time.perf_counter() - started, response.status)
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        text = data.decode("utf-8", "replace") if response.getheader("Content-Type", "").startswith("text/") else ""
        return response.status, dict(response.getheaders()), text

    def login(self, name: str) -> str:
        _, _, page = self.request("GET", "/login", route="login")
        token = TOKEN.search(page).group(1)
        status, _, _ = self.request("POST", "/login", {"name": name, "password": PASSWORD, "csrf_token": token}, route="login")
        if status != 302:
            raise SystemExit(f"{name} could not log in ({status})")
        return TOKEN.search(self.request("GET", "/", route="login")[2]).group(1)


def choose(page: str, kind: str) -> str:
    """A decision that leaves the item's key decided (so it can be reopened)."""
    if kind == "comment":
        return "ý kiến chép lại"
    if kind == "quarantine":
        return keys.REJECTED
    if kind == "form":
        return keys.KEPT
    values = [html.unescape(v) for v in re.findall(r'class="option[^"]*"[^>]*data-value="([^"]*)"', page)]
    if kind == "answer":
        return next((v for v in values if v), "")
    return next(v for v in values if v and v != keys.REJECTED)


def reviewer(client: Client, token: str, stop: float, decided: deque, counts: Counter) -> None:
    location = "/next"
    while time.perf_counter() < stop:
        status, headers, page = client.request("GET", location, route="/next")
        if status == 200:  # nothing free just now: a reviewer would look again a little later
            counts["queue empty"] += 1
            time.sleep(0.2)
            location = "/next"
            continue
        if status != 302:
            counts[f"/next {status}"] += 1
            location = "/next"
            continue
        status, _, page = client.request("GET", headers["Location"], route="/item")
        if status != 200:
            counts[f"/item {status}"] += 1
            location = "/next"
            continue
        for image in re.findall(r'src="(/image/[^"]+)"', page):
            client.request("GET", html.unescape(image), route="/image/page" if "/page/" in image else "/image/field")
        ident = html.unescape(re.search(r'data-ident="([^"]+)"', page).group(1))
        kind = re.search(r'data-kind="([^"]+)"', page).group(1)
        status, headers, _ = client.request(
            "POST", "/decide", {"id": ident, "value": choose(page, kind), "csrf_token": token}, route="/decide"
        )
        if status != 302 or "error=" in headers.get("Location", ""):
            counts[f"/decide refused {status}"] += 1
            location = "/next"
            continue
        counts["decided"] += 1
        decided.append(ident)
        location = headers["Location"]


def supervisor(client: Client, token: str, stop: float, decided: deque, counts: Counter) -> None:
    """Reopen decisions as they are taken, so that the reviewers always have work."""
    while time.perf_counter() < stop:
        try:
            survey, serial, key = decided.popleft().split("|", 2)
        except IndexError:
            time.sleep(0.02)
            continue
        status, _, _ = client.request(
            "POST", "/reopen", {"survey": survey, "serial": serial, "key": key, "csrf_token": token}, route="/reopen"
        )
        counts["reopened" if status == 302 else f"/reopen {status}"] += 1


def supervisors(reviewers: int) -> int:
    return max(1, reviewers // 5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=150)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=8, help="the server's threads (sipas-scan review --threads)")
    parser.add_argument("--db", type=Path, help="an existing results database (copied, not changed)")
    parser.add_argument("--ledger", type=Path)
    parser.add_argument("--postgresql", action="store_true", help="run on a throw-away PostgreSQL server")
    parser.add_argument("--servers", type=int, default=1, help="app processes behind one address")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        if args.db:
            db = root / "results.sqlite"
            shutil.copy(args.db, db)
            if args.db.with_name(args.db.name + ".pages").is_dir():  # images beside it (an older version's)
                shutil.copytree(args.db.with_name(args.db.name + ".pages"), root / "results.sqlite.pages")
            ledger = args.ledger
        else:
            db, ledger = build_database(root, args.forms)
        with contextlib.ExitStack() as stack:
            if args.postgresql:
                cluster = stack.enter_context(Cluster.temporary())
                url = cluster.create_database("sipas")
                copy_database(db, url)
                db = url  # type: ignore[assignment]
            serve(root, db, ledger, args, stack, started)


def serve(
    root: Path, db: Path | str, ledger: Path | None, args: argparse.Namespace, stack: contextlib.ExitStack, started: float
) -> None:
    """Start the app process(es) on ``db`` and let the reviewers loose on them."""
    names = [f"r{n:02d}" for n in range(args.reviewers)]
    with Store(db) as store:
        for name in names:
            accounts.add_user(store, name, "reviewer", PASSWORD)
        for n in range(supervisors(args.reviewers)):
            accounts.add_user(store, f"s{n:02d}", "supervisor", PASSWORD)
        forms = store.db.execute("SELECT count(*) FROM forms").fetchone()[0]
        engine = store.db.dialect.name
    print(
        f"database: {forms} forms on {engine} ({time.perf_counter() - started:.0f} s to build); "
        f"{os.cpu_count()} cores; {args.reviewers} reviewers for {args.seconds:.0f} s; {args.servers} app process(es)",
        flush=True,
    )
    key = root / "session.key"
    key.write_bytes(secrets.token_bytes(32))
    ports = [free_port() for _ in range(args.servers)]
    servers = []
    for port in ports:
        command = [sys.executable, "-m", "sipas_scan", "review", "--db", str(db), "--port", str(port), "--threads", str(args.threads)]
        command += ["--session-key-file", str(key)]
        if ledger:
            command += ["--ledger", str(ledger)]
        # The server's log goes to a file: a pipe nobody reads fills up and
        # stops every thread that logs (waitress warns of queued requests).
        log = stack.enter_context((root / f"server-{port}.log").open("wb"))
        servers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, cwd=root))
    try:
        for port in ports:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.1)
        if len(ports) == 1:
            run(ports[0], names, args.seconds)
        else:
            with RoundRobin(ports) as proxy:
                run(proxy.port, names, args.seconds)
                print("connections per app process: " + ", ".join(str(n) for n in proxy.served.values()))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        errors = sum((root / f"server-{port}.log").read_text(errors="replace").count("Traceback") for port in ports)
        if errors:
            print(f"server: {errors} tracebacks in its log")


def run(port: int, names: list[str], seconds: float) -> None:
    lock = threading.Lock()
    timings: dict[str, list[float]] = defaultdict(list)
    statuses: Counter = Counter()
    measuring = threading.Event()

    def record(route: str, elapsed: float, status: int) -> None:
        if measuring.is_set():
            with lock:
                timings[route].append(elapsed)
                statuses[(route, status)] += 1

    reviewers = [Client(port, record) for _ in names]
    tokens = [c.login(n) for c, n in zip(reviewers, names, strict=True)]
    bosses = [Client(port, record) for _ in range(supervisors(len(names)))]
    boss_tokens = [c.login(f"s{n:02d}") for n, c in enumerate(bosses)]
    decided: deque = deque()
    counts: Counter = Counter()
    measuring.set()
    started = time.perf_counter()
    stop = started + seconds
    threads = [threading.Thread(target=reviewer, args=(c, t, stop, decided, counts)) for c, t in zip(reviewers, tokens, strict=True)]
    threads += [
        threading.Thread(target=supervisor, args=(c, t, stop, decided, counts)) for c, t in zip(bosses, boss_tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    measuring.clear()

    def line(label: str, values: list[float]) -> str:
        if not values:
            return f"{label:<14} none"
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        return (
            f"{label:<14} {len(values):6d} requests {len(values) / elapsed:6.1f}/s   p50 {1000 * q[49]:6.1f} ms"
            f"   p95 {1000 * q[94]:6.1f} ms   max {1000 * max(values):6.1f} ms"
        )

    reviewer_times = [t for route, values in timings.items() if route != "/reopen" for t in values]
    print(line("reviewers", reviewer_times))
    for route in sorted(timings):
        print(line(f"  {route}", timings[route]))
    print(line("all requests", [t for values in timings.values() for t in values]))
    bad = {
        f"{route} {status}": n
        for (route, status), n in statuses.items()
        if status == 0 or status >= 500 or status in (400, 403, 404, 409)
    }
    refused = {k: v for k, v in counts.items() if k not in ("decided", "reopened", "queue empty")}
    print(
        f"items decided {counts['decided']} ({counts['decided'] / elapsed:.1f}/s), reopened {counts['reopened']}, "
        f"queue found empty {counts['queue empty']} times"
    )
    print(f"errors: {sum(bad.values()) + sum(refused.values())} {dict(bad) | refused if bad or refused else ''}")


if __name__ == "__main__":
    main()
