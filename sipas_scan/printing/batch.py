"""A print run: survey + households -> forms.pdf, layout.json, delivery lists.

The story: lay the survey out once, allocate serials in the ledger, render
chunks of forms in parallel worker processes, join them into one PDF, write
the layout and the per-village lists, and only then commit the serials and
move the files into place. A failed run issues no serials and leaves no
half-written output.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pypdfium2 as pdfium

from sipas_scan.dbfile import is_url
from sipas_scan.errors import OutputFileError
from sipas_scan.executor import Executor
from sipas_scan.layout import FormLayout, layout_survey
from sipas_scan.printing.codes import Secret
from sipas_scan.printing.delivery import write_delivery_lists, write_manifest
from sipas_scan.printing.households import read_households
from sipas_scan.printing.ledger import IssuedForm, Ledger, LedgerLocation, check_ledger, ledger_exists
from sipas_scan.printing.render import FormRenderer
from sipas_scan.progress import progress_bar
from sipas_scan.survey import Survey, load_survey

log = logging.getLogger(__name__)

FORMS_PER_CHUNK = 50


@dataclass(frozen=True)
class PrintSummary:
    survey_id: str
    forms: int
    pages: int
    pages_per_form: int
    first_serial: str
    last_serial: str
    seconds: float
    pdf: Path
    pdf_bytes: int
    villages: int
    ledger: LedgerLocation  # an absolute path, or a URL
    ledger_was_new: bool = False  # this run created the ledger
    serials_before: int = 0  # serials the ledger held before this run
    reprinted: tuple[str, ...] = ()  # household codes that already held a serial of the survey


def _render_chunk(layout: FormLayout, secret: Secret, job: tuple[list[IssuedForm], Path]) -> int:
    forms, path = job
    return FormRenderer(layout, secret).render(path, forms)


def render_forms(layout: FormLayout, secret: Secret, forms: list[IssuedForm], pdf: Path, *, workers: int | None = None) -> int:
    """Render ``forms`` in order into ``pdf`` using ``workers`` processes."""
    workers = workers or os.cpu_count() or 1
    chunks = [forms[i : i + FORMS_PER_CHUNK] for i in range(0, len(forms), FORMS_PER_CHUNK)]
    if workers == 1 or len(chunks) == 1:
        with progress_bar("Printing forms", len(forms) * layout.page_count) as advance:
            return FormRenderer(layout, secret).render(pdf, forms, on_page=advance)
    parts = [pdf.with_name(f"{pdf.stem}.part{i:05d}.pdf") for i in range(len(chunks))]
    with progress_bar("Printing forms", len(forms) * layout.page_count) as advance:
        pages = sum(
            Executor(workers).map(
                partial(_render_chunk, layout, secret),
                zip(chunks, parts, strict=True),
                name=lambda job: job[1].name,
                on_result=advance,
            )
        )
    merged = pdfium.PdfDocument.new()
    for part in parts:
        source = pdfium.PdfDocument(part)
        merged.import_pages(source)
        source.close()
        part.unlink()
    merged.save(pdf)
    merged.close()
    return pages


def print_batch(
    survey_source: Survey | str | Path | None,
    households_csv: Path,
    out_dir: Path,
    secret: Secret,
    ledger_path: LedgerLocation,
    *,
    workers: int | None = None,
) -> PrintSummary:
    started = time.perf_counter()
    survey = survey_source if isinstance(survey_source, Survey) else load_survey(survey_source)
    households = read_households(households_csv)
    layout = layout_survey(survey)
    out_dir = Path(out_dir)
    pdf_path = out_dir / "forms.pdf"
    if pdf_path.exists():
        raise OutputFileError(f"{pdf_path} already exists: a new print run issues new serials; choose another --out")
    # An existing file must be a ledger (not a results database, not a
    # typo's neighbour); a new one is said so by the caller.
    ledger_was_new = not ledger_exists(ledger_path)
    serials_before = 0 if ledger_was_new else check_ledger(ledger_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".printing-", dir=out_dir))
    try:
        with Ledger(ledger_path) as ledger:
            reprinted = tuple(h.household_code for h in ledger.holding_serials(survey.id, households))
        with Ledger(ledger_path) as ledger, ledger.issuing(survey.id, survey.version, households, out_dir.resolve()) as run:
            pages = render_forms(layout, secret, run.forms, staging / "forms.pdf", workers=workers)
            layout.write_json(staging / "layout.json")
            write_manifest(staging / "manifest.csv", run.forms)
            villages = write_delivery_lists(staging / "delivery", survey.short_title, run.forms)
        # Serials are committed: from here on the files only move into place.
        for item in staging.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            item.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("printed %d forms (%s..%s) to %s", len(run.forms), run.forms[0].serial, run.forms[-1].serial, pdf_path)
    return PrintSummary(
        survey_id=survey.id,
        forms=len(run.forms),
        pages=pages,
        pages_per_form=layout.page_count,
        first_serial=run.forms[0].serial,
        last_serial=run.forms[-1].serial,
        seconds=time.perf_counter() - started,
        pdf=pdf_path,
        pdf_bytes=pdf_path.stat().st_size,
        villages=len(villages),
        ledger=ledger_path if is_url(ledger_path) else Path(ledger_path).absolute(),
        ledger_was_new=ledger_was_new,
        serials_before=serials_before,
        reprinted=reprinted,
    )
