"""What one scan batch of 100 forms costs with 1,000, 10,000 and 40,000 forms
already stored: storing its pages, then the derivation a scan does after
them (the forms whose pages it stored: incremental). Flat is the target.
``--full`` times the derivation of every stored form as well, which is what
each scan did before derivation was incremental.

A few forms are printed, simulated and scanned for real once; their stored
page readings are the templates for the synthetic forms, each given its own
serial issued by a real ledger (as ``scan --ledger`` uses). Pages are stored
through the store without images (deriving forms never opens one): the
filling 100 forms a transaction, the timed batch page by page as a scan stores
it, one file of 100 forms. Before each batch the stored forms are derived
once (untimed), so the derived tables hold what a real database would.

    .venv/bin/python bench/derive_cost.py [--sizes 1000,10000,40000] [--quick] [--full] [--db URL | --postgresql]

``--db``: a new SQLite file or an empty PostgreSQL database (it is left as
it is afterwards); default: a SQLite file in a temporary folder, deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pgcluster import Cluster  # noqa: E402
from print_bench import write_households  # noqa: E402

from sipas_scan.assembly.derive import derive_pending, rebuild  # noqa: E402
from sipas_scan.dbfile import is_url  # noqa: E402
from sipas_scan.errors import SipasError  # noqa: E402
from sipas_scan.layout import survey_and_layout  # noqa: E402
from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.printing.households import Household  # noqa: E402
from sipas_scan.printing.ledger import Ledger  # noqa: E402
from sipas_scan.reading.comments import CommentReading  # noqa: E402
from sipas_scan.reading.marks import BoxReading, FieldReading  # noqa: E402
from sipas_scan.reading.page import PageResult, ReadOptions  # noqa: E402
from sipas_scan.scan import scan_inputs  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402
from sipas_scan.store.db import Store, new_claim_owner  # noqa: E402
from sipas_scan.survey.loader import load_survey  # noqa: E402

BATCH = 100  # forms a timed batch stores
TEMPLATE_FORMS = 16  # forms printed and scanned for real: their pages are the templates


def template_forms(root: Path) -> list[list[PageResult]]:
    """The pages of a few real forms, read from a real scan (every field of
    the layout answered as the reader answers it): the forms with every page
    read. Some are accepted, some need review, as in a real stack."""
    # Fixed, so that every run derives the same mix of forms (not a real key).
    secret = Secret(b"derive-cost-bench-secret-not-for-production")
    write_households(root / "households.csv", TEMPLATE_FORMS)
    print_batch(None, root / "households.csv", root / "print", secret, root / "template-ledger.sqlite")
    simulate_returns(root / "print", root / "sim", seed=3, profile="office")
    scan_inputs([root / "sim" / "scans"], root / "template.sqlite", ReadOptions(secret, run_ocr=False), workers=2)
    with Store(root / "template.sqlite") as store:
        rows = store.db.rows(
            "SELECT survey, serial, page_no, status, orientation, residual_mm, dpi, readings FROM pages ORDER BY serial, page_no"
        )
    # One copy of each page (a stack holds rescans and pages whose code was
    # damaged): the first read and identified by its code.
    by_serial: dict[str, dict[int, PageResult]] = {}
    for row in rows:
        page = page_result(*row)
        if page.status == "ok" and page.identified_by == "code":
            by_serial.setdefault(page.serial, {}).setdefault(page.page_no, page)
    page_count = survey_and_layout(load_survey().id)[1].page_count
    forms = [[pages[n] for n in range(1, page_count + 1)] for pages in by_serial.values() if len(pages) == page_count]
    if not forms:
        raise SystemExit("derive_cost: no template form had every page read; try again")
    return forms


def page_result(
    survey: str, serial: str, page_no: int, status: str, orientation: int, residual_mm: float, dpi: float, stored: str
) -> PageResult:
    """A stored page back as the PageResult the reader made (without its image)."""
    readings = json.loads(stored)
    fields = [
        FieldReading(
            f["field_id"],
            f["value"],
            f["confidence"],
            tuple(f["flags"]),
            tuple(BoxReading(**{**b, "offset_mm": tuple(b["offset_mm"])}) for b in f["boxes"]),
        )
        for f in readings["fields"]
    ]
    comments = [
        CommentReading(**{**c, "word_confidences": tuple(c["word_confidences"]), "flags": tuple(c["flags"])})
        for c in readings["comments"]
    ]
    return PageResult(
        status,
        survey=survey,
        serial=serial,
        page_no=page_no,
        orientation=orientation,
        residual_mm=residual_mm,
        markers=tuple(readings["markers"]),
        dpi=dpi,
        fields=fields,
        comments=comments,
        identified_by=readings["identified_by"],
    )


def issue_serials(ledger_path: Path, count: int) -> list[str]:
    """``count`` serials issued by a real ledger, one household each."""
    survey = load_survey()
    households = [
        Household("Lạng Sơn", f"Huyện {i // 405}", f"Xã Hợp Thành {i // 81}", f"Thôn Nà Làng {i // 27}", f"HGD{i:06d}")
        for i in range(count)
    ]
    with Ledger(ledger_path) as ledger, ledger.issuing(survey.id, survey.version, households, ledger_path.parent) as run:
        return [form.serial for form in run.forms]


class Filler:
    """Stores forms' pages, at most BATCH forms to a synthetic file (source)."""

    def __init__(self, store: Store, templates: list[list[PageResult]], serials: list[str]):
        self.store, self.templates, self.serials = store, templates, serials
        self.pages_per_form = len(templates[0])
        self.stored = 0  # forms
        self.sources = 0

    def _source(self, forms: int, owner: str | None = None) -> int:
        """A new file: a made-up name and content hash (nothing is on disk), claimed as a scan claims it."""
        self.sources += 1
        fake_sha = f"{self.sources:064x}"
        if owner:
            self.store.claim_source(fake_sha, owner)
        return self.store.add_source(Path(f"stack-{self.sources:05d}.pdf"), fake_sha, 0, "pdf", forms * self.pages_per_form)

    def batch(self, forms: int) -> None:
        """``forms`` forms in one file, each page in its own transaction, as a scan stores them."""
        owner = new_claim_owner()
        source_id = self._source(forms, owner)
        self._pages(source_id, forms)
        self.store.finish_source(source_id)
        self.store.release_claims(owner)

    def fill(self, up_to: int) -> None:
        """Forms up to ``up_to`` stored, many per transaction (no scan's pace needed)."""
        while self.stored < up_to:
            forms = min(BATCH, up_to - self.stored)
            source_id = self._source(forms)
            with self.store.transaction():
                self._pages(source_id, forms)
            self.store.finish_source(source_id)

    def _pages(self, source_id: int, forms: int) -> None:
        index = 0
        for number in range(self.stored, self.stored + forms):
            for page in self.templates[number % len(self.templates)]:
                self.store.add_page(source_id, index, replace(page, serial=self.serials[number]))
                index += 1
        self.stored += forms


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def forms_sizes(text: str) -> list[int]:
    try:
        sizes = sorted(int(size.replace("_", "")) for size in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers of forms separated by commas, as 1000,10000") from None
    if sizes[0] < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of forms cannot be negative")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=forms_sizes, default="1000,10000,40000", help="forms already stored before each batch (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="sizes 200,1000, to try the bench")
    parser.add_argument("--full", action="store_true", help="also time deriving every stored form (what scan did before)")
    parser.add_argument("--postgresql", action="store_true", help="on a throw-away PostgreSQL server (Debian's)")
    parser.add_argument("--db", help="a new SQLite file or an empty PostgreSQL database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    sizes = [200, 1000] if args.quick else args.sizes
    if args.db and not is_url(args.db) and Path(args.db).exists():
        raise SystemExit(f"derive_cost: {args.db} exists: give a new file")
    with contextlib.ExitStack() as stack:
        if args.postgresql:
            args.db = stack.enter_context(Cluster.temporary()).create_database("derive")
        measure(args, sizes)


def measure(args: argparse.Namespace, sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="derive-cost-") as tmp, Store(args.db or Path(tmp) / "results.sqlite") as store:
        if store.pages_mark() != (0, 0):
            raise SystemExit(f"derive_cost: {store.where} already holds pages: give an empty database")
        root = Path(tmp)
        started = time.perf_counter()
        templates = template_forms(root)
        ledger_path = root / "ledger.sqlite"
        serials = issue_serials(ledger_path, sizes[-1] + BATCH * len(sizes))
        print(
            f"templates: {len(templates)} forms of {len(templates[0])} pages, from a real scan ({time.perf_counter() - started:.0f} s)"
        )
        print(f"database: {store.where}, batch of {BATCH} forms ({BATCH * len(templates[0])} pages)")
        # Per batch form: (store + derive) / 100, the cost a scan pays for each
        # new form. Derive ms per stored form: what grows today.
        full = f" {'full s':>7}" if args.full else ""
        print(f"{'forms stored':>12} {'store s':>8} {'derive s':>9} {'ms/batch form':>14}{full} {'peak MiB':>9}")
        filler = Filler(store, templates, serials)
        for size in sizes:
            before = time.perf_counter()
            filler.fill(size)
            already = filler.stored
            derive_pending(store, ledger_path)  # the derived tables as the last scan left them
            prepared = time.perf_counter() - before
            before = time.perf_counter()
            filler.batch(BATCH)
            stored = time.perf_counter() - before
            before = time.perf_counter()
            statuses = derive_pending(store, ledger_path)
            derived = time.perf_counter() - before
            assert sum(statuses.values()) == BATCH, statuses
            whole = ""
            if args.full:
                before = time.perf_counter()
                every = rebuild(store, ledger_path)
                whole = f" {time.perf_counter() - before:>7.2f}"
                assert sum(every.values()) == already + BATCH, every
            print(
                f"{already:>12,} {stored:>8.2f} {derived:>9.2f} {1000 * (stored + derived) / BATCH:>14.1f}{whole}"
                f" {peak_mib():>9.0f}   (filled and derived before: {prepared:.0f} s)",
                flush=True,
            )
        print(f"last derivation: {', '.join(f'{n:,} {status}' for status, n in sorted(statuses.items()))}")
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except SipasError as exc:  # a database that cannot be opened, a template scan that failed
        raise SystemExit(f"derive_cost: {exc}") from None
