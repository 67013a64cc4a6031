"""Simulated returns: printed batch in, scanned stacks + truth out.

The story: read the printed batch (forms.pdf, layout.json, manifest.csv);
decide which households return their form and what each answered; plan one
stack per village as a clerk would scan it, with the deliberate stack faults
(upside-down pages, swaps, a page twice, blank backs, a missing page, stray
pages, a photocopied form, a forged one); split the stacks into the files a
clerk's scanning leaves (a jammed page rescanned alone into a loose image,
a stack scanned in two jobs); then render every planned sheet, degrade it as
the stack's scanner would, and write the files, truth.csv and anomalies.csv.
Files are rendered in parallel, each from its own seeds, so the same seed
gives the same bytes.

Files in scans/: ``stack-NNN-<village>.pdf`` (one per village), or
``stack-NNN-<village>-job1.pdf`` and ``-job2.pdf`` when the village was
scanned in two jobs (a form may straddle them), and ``rescan-NNNN.jpg`` /
``.png``, one jammed page each. Neither a split nor a rescan is an anomaly.
In anomalies.csv ``stack`` is the file's stem and ``position`` the 1-based
page index within that file.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image

from sipas_scan.errors import BadArgsError, InputFileError
from sipas_scan.executor import Executor
from sipas_scan.layout import FormLayout, layout_survey
from sipas_scan.printing.codes import make_serial
from sipas_scan.printing.delivery import read_manifest, slug
from sipas_scan.printing.ledger import IssuedForm
from sipas_scan.progress import progress_bar
from sipas_scan.records import FormStatus, write_records
from sipas_scan.simulate.anomalies import Anomaly, AnomalyKind, positions_text, write_anomalies
from sipas_scan.simulate.paper import Ink, blank_page, forge_code, ink_page, printed_page, stray_page
from sipas_scan.simulate.pen import BLACK_INK, BLUE_INK, PENCIL, Pen
from sipas_scan.simulate.profiles import PROFILES, Profile
from sipas_scan.simulate.respondents import FilledForm, circling_by_habit, fill_form
from sipas_scan.simulate.scanner import DrumLine, ScanSettings, draw_drum_lines, draw_settings, jpeg_round_trip, scan
from sipas_scan.survey import Survey, find_survey

FORMATS = ("pdf", "tiff", "png", "jpeg")
FORGED_SERIAL_BASE = 900000  # made-up serials far above any issued one

FELT_TIP_BLEED_MM = (0.04, 0.1)  # how far felt-tip ink soaks into the paper round a stroke
RESCAN_MODES = ("colour", "gray")  # a page rescanned alone goes on the flatbed with the photo preset
RESCAN_JPEG_SHARE = 0.7  # the rest are saved as PNG
PNG_COMPRESS_LEVEL = 3  # half the time of zlib's default 6 on a noisy scan, for 3 % more bytes

# Seed purposes, so every random choice has its own independent stream.
_RESPONDENT, _PEN, _INK, _SCAN, _STACK, _RUN, _EXTRA, _JOBS, _DIRT = range(9)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


@dataclass(frozen=True)
class Sheet:
    """One sheet through the scanner."""

    kind: str  # form | blank | stray
    form_index: int = -1  # index into the manifest (forms only)
    page: int = 0  # 1-based page of the form
    ink: Ink | None = None
    upside_down: bool = False
    forged_number: int = 0  # > 0: the page's code is altered to this serial number
    copy: int = 0  # > 0: the k-th photocopy of an issued form
    scan_seed: int = 0


@dataclass
class StackPlan:
    """One file of scans: a village's stack, one job of it, or a loose rescan."""

    name: str  # the file's stem
    dpi: int
    mode: str
    sheets: list[Sheet] = field(default_factory=list)
    drum_lines: tuple[DrumLine, ...] = ()  # the feeder's dirt, the same on every page
    loose_format: str = ""  # jpeg | png: a single page saved as an image file, whatever the run's format


@dataclass(frozen=True)
class SimulationSummary:
    stacks: list[Path]  # every file (or page folder) written: stacks, their jobs, loose rescans
    pages: int
    forms_returned: int
    forms_issued: int
    anomalies: int
    truth: Path
    anomalies_file: Path


@dataclass
class _Context:
    survey: Survey
    layout: FormLayout
    forms_pdf: Path
    issued: list[IssuedForm]
    profile: Profile
    seed: int


def read_printed_batch(print_dir: Path) -> tuple[Survey, FormLayout, list[IssuedForm]]:
    layout_path, manifest_path, pdf_path = (print_dir / n for n in ("layout.json", "manifest.csv", "forms.pdf"))
    for path in (layout_path, manifest_path, pdf_path):
        if not path.is_file():
            raise InputFileError(f"{path}: missing; give the folder written by 'sipas-scan print'")
    doc = json.loads(layout_path.read_text(encoding="utf-8"))
    survey = find_survey(doc["survey"])
    layout = layout_survey(survey)
    if layout.to_contract() != doc:
        raise InputFileError(f"{layout_path}: does not match forms/ survey '{survey.id}' version {survey.version}")
    return survey, layout, read_manifest(manifest_path)


def _pen_for(profile: Profile, rng: np.random.Generator) -> Pen:
    """The respondent's pen and hand: a ballpoint, a felt tip or a light
    pencil, and the one way this person marks an answer."""
    p = profile.pen
    bleed_mm = 0.0
    if rng.random() < p.pencil_rate:
        colour, opacity, stroke_mm = PENCIL, float(rng.uniform(0.35, 0.6)), float(rng.uniform(*p.stroke_mm))
    else:
        colour = BLACK_INK if rng.random() < p.black_ink_rate else BLUE_INK
        if rng.random() < p.felt_tip_rate:  # wide, fully dark, soaking a little into the paper
            opacity, stroke_mm = 1.0, float(rng.uniform(*p.felt_stroke_mm))
            bleed_mm = float(rng.uniform(*FELT_TIP_BLEED_MM))
        else:
            opacity, stroke_mm = float(rng.uniform(0.85, 1.0)), float(rng.uniform(*p.stroke_mm))
    hands = [hand for hand, _ in p.hands]
    weights = np.array([weight for _, weight in p.hands], dtype=float)
    return Pen(
        colour=colour,
        opacity=opacity,
        stroke_mm=stroke_mm,
        size=float(rng.uniform(*p.size_range)),
        hand=hands[int(rng.choice(len(hands), p=weights / weights.sum()))],
        offset_mm=p.offset_mm,
        overflow_rate=p.overflow_rate,
        bleed_mm=bleed_mm,
        other_mark_rate=p.other_mark_rate,
        reach_rate=p.reach_rate,
        wide_loops=bool(rng.random() < p.wide_loop_rate),
    )


def _respondent(ctx: _Context, key: int) -> tuple[FilledForm, Pen]:
    filled = fill_form(ctx.survey, ctx.profile.respondent, _rng(ctx.seed, _RESPONDENT, key))
    pen = _pen_for(ctx.profile, _rng(ctx.seed, _PEN, key))
    if pen.hand == "loop":
        filled = circling_by_habit(filled)
    return filled, pen


def _ink(ctx: _Context, filled: FilledForm, pen: Pen, seed_rng: np.random.Generator) -> Ink:
    return Ink(
        filled,
        pen,
        seed=int(seed_rng.integers(2**31)),
        stray_dot_rate=ctx.profile.pen.stray_dot_rate,
        show_through_rate=ctx.profile.pen.show_through_rate,
    )


def plan(ctx: _Context) -> tuple[list[StackPlan], dict[int, FilledForm], dict[int, set[int]], list[Anomaly]]:
    """Decide every sheet of every stack. Returns the stacks, the answers of
    each returned form (by manifest index), the pages missing per form, and
    the stack-level anomalies."""
    stack_profile, scanner = ctx.profile.stack, ctx.profile.scanner
    n_pages = ctx.layout.page_count
    run_rng = _rng(ctx.seed, _RUN)
    returned: dict[int, FilledForm] = {}
    missing: dict[int, set[int]] = {}
    anomalies: list[Anomaly] = []
    stacks: list[StackPlan] = []
    villages: dict[tuple[str, str, str], list[tuple[int, IssuedForm]]] = {}
    for item in enumerate(ctx.issued):
        villages.setdefault(item[1].household.village_key[1:], []).append(item)
    for stack_index, (village_key, members) in enumerate(villages.items()):
        rng = _rng(ctx.seed, _STACK, stack_index)
        stack = StackPlan(
            name=f"stack-{stack_index + 1:03d}-{slug(village_key[2])}",
            dpi=int(rng.choice(scanner.dpi_choices)),
            mode=str(rng.choice(scanner.mode_choices)),
        )
        for form_index, row in members:
            if rng.random() >= stack_profile.return_rate:
                anomalies.append(Anomaly(AnomalyKind.NOT_RETURNED, row.serial, detail="household did not return the form"))
                continue
            filled, pen = _respondent(ctx, form_index)
            returned[form_index] = filled
            pages = list(range(1, n_pages + 1))
            if n_pages > 1 and rng.random() < stack_profile.missing_page_rate:
                lost = int(rng.integers(1, n_pages + 1))
                pages.remove(lost)
                missing[form_index] = {lost}
                anomalies.append(
                    Anomaly(AnomalyKind.MISSING_PAGE, row.serial, page=lost, detail=f"page {lost} never reached the scanner")
                )
            for page in pages:
                ink = _ink(ctx, filled, pen, _rng(ctx.seed, _INK, form_index, page))
                stack.sheets.append(Sheet("form", form_index, page, ink))
                if rng.random() < stack_profile.blank_back_rate / n_pages:
                    stack.sheets.append(Sheet("blank"))
            if rng.random() < stack_profile.duplicate_page_rate:
                page = int(rng.choice(pages))
                original = next(s for s in stack.sheets if s.form_index == form_index and s.page == page)
                stack.sheets.append(replace(original))
                anomalies.append(Anomaly(AnomalyKind.DUPLICATE_PAGE, row.serial, page=page, detail="the same page scanned twice"))
        _swap_neighbours(stack, rng, stack_profile.swaps)
        stacks.append(stack)
    if not stacks:
        raise InputFileError("the printed batch has no forms")
    _add_run_extras(ctx, stacks, run_rng, returned, anomalies)
    for number, stack in enumerate(stacks):
        rng = _rng(ctx.seed, _STACK, 10_000 + number)
        stack.sheets = [
            replace(s, upside_down=bool(rng.random() < stack_profile.upside_down_rate), scan_seed=int(rng.integers(2**31)))
            for s in stack.sheets
        ]
        stack.drum_lines = draw_drum_lines(scanner, _rng(ctx.seed, _DIRT, number))
    return _scan_jobs(ctx, stacks), returned, missing, anomalies


def _genuine(sheet: Sheet) -> bool:
    """A page of an issued form in its own household's return (not a copy, not forged)."""
    return sheet.kind == "form" and not sheet.copy and not sheet.forged_number


def _scan_jobs(ctx: _Context, stacks: list[StackPlan]) -> list[StackPlan]:
    """The files the clerk's scanning turns the stacks into. A page that
    jams is taken out and later scanned alone into a loose image file; some
    stacks are scanned in two jobs, the break falling inside a form. Only
    genuine pages scanned once jam, and a break never separates a form's
    pages out of order or a page from its second scan, so that every
    anomaly's pages still sit in one file."""
    profile = ctx.profile.stack
    files: list[StackPlan] = []
    rescans: list[StackPlan] = []
    for number, stack in enumerate(stacks):
        rng = _rng(ctx.seed, _JOBS, number)
        scanned = Counter((s.form_index, s.page) for s in stack.sheets if _genuine(s))
        jams = [
            i
            for i, sheet in enumerate(stack.sheets)
            if _genuine(sheet) and scanned[sheet.form_index, sheet.page] == 1 and rng.random() < profile.rescan_rate
        ]
        jammed = set(jams[: max(0, len(stack.sheets) - 2)])  # the feeder is never left with an empty job
        for i in sorted(jammed):
            rescans.append(
                StackPlan(
                    f"rescan-{len(rescans) + 1:04d}",
                    stack.dpi,
                    str(rng.choice(RESCAN_MODES)),
                    [stack.sheets[i]],
                    loose_format="jpeg" if rng.random() < RESCAN_JPEG_SHARE else "png",
                )
            )
        kept = [sheet for i, sheet in enumerate(stack.sheets) if i not in jammed]
        stack = replace(stack, sheets=kept)
        split = _split_point(kept, rng) if rng.random() < profile.split_rate else None
        if split is None:
            files.append(stack)
        else:
            files += [
                replace(stack, name=f"{stack.name}-job1", sheets=kept[:split]),
                replace(stack, name=f"{stack.name}-job2", sheets=kept[split:]),
            ]
    return files + rescans


def _split_point(sheets: list[Sheet], rng: np.random.Generator) -> int | None:
    """Where a second scan job may start: between two pages of one form,
    its pages before the break all lower than those after."""
    candidates = []
    for i in range(1, len(sheets)):
        before, after = sheets[i - 1], sheets[i]
        if not (_genuine(before) and _genuine(after) and before.form_index == after.form_index):
            continue
        form = before.form_index
        first = [s.page for s in sheets[:i] if _genuine(s) and s.form_index == form]
        rest = [s.page for s in sheets[i:] if _genuine(s) and s.form_index == form]
        if max(first) < min(rest):
            candidates.append(i)
    return int(rng.choice(candidates)) if candidates else None


def _swap_neighbours(stack: StackPlan, rng: np.random.Generator, rate: float) -> None:
    i = 0
    while i < len(stack.sheets) - 1:
        if rng.random() < rate:
            stack.sheets[i], stack.sheets[i + 1] = stack.sheets[i + 1], stack.sheets[i]
            i += 2
        else:
            i += 1


def _add_run_extras(
    ctx: _Context, stacks: list[StackPlan], rng: np.random.Generator, returned: dict[int, FilledForm], anomalies: list[Anomaly]
) -> None:
    """Stray pages, photocopied forms and forged forms, spread over the stacks."""
    stack_profile = ctx.profile.stack
    n_pages = ctx.layout.page_count
    for _ in range(stack_profile.stray_pages):
        stack = stacks[int(rng.integers(len(stacks)))]
        stack.sheets.insert(int(rng.integers(len(stack.sheets) + 1)), Sheet("stray"))
    sources = sorted(returned)
    for k in range(min(stack_profile.photocopies, len(sources))):
        form_index = int(rng.choice(sources))
        filled, pen = _respondent(ctx, 1_000_000 + k)
        home = _stack_of(stacks, form_index)
        others = [s for s in stacks if s is not home]
        target = others[int(rng.integers(len(others)))] if others else home
        for page in range(1, n_pages + 1):
            ink = _ink(ctx, filled, pen, _rng(ctx.seed, _EXTRA, k, page))
            target.sheets.append(Sheet("form", form_index, page, ink, copy=k + 1))
        # Where it ends up (stack file and positions) is settled once the files are.
        anomalies.append(
            Anomaly(
                AnomalyKind.PHOTOCOPY,
                ctx.issued[form_index].serial,
                copy=k + 1,
                detail="a second, differently filled copy of an issued form",
            )
        )
    for k in range(stack_profile.forged_forms):
        form_index = int(rng.integers(len(ctx.issued)))
        filled, pen = _respondent(ctx, 2_000_000 + k)
        target = stacks[int(rng.integers(len(stacks)))]
        fake_number = FORGED_SERIAL_BASE + k + 1
        for page in range(1, n_pages + 1):
            ink = _ink(ctx, filled, pen, _rng(ctx.seed, _EXTRA, 100 + k, page))
            target.sheets.append(Sheet("form", form_index, page, ink, forged_number=fake_number))
        anomalies.append(
            Anomaly(
                AnomalyKind.FORGED,
                make_serial(fake_number),
                forged_number=fake_number,
                detail=f"copy of form {ctx.issued[form_index].serial} with its serial altered",
            )
        )


def _stack_of(stacks: list[StackPlan], form_index: int) -> StackPlan:
    return next(s for s in stacks if any(sh.form_index == form_index for sh in s.sheets))


# ---- rendering (in worker processes) ---------------------------------------


def render_sheet(ctx: _Context, stack: StackPlan, sheet: Sheet) -> np.ndarray:
    """The sheet as paper, before the scanner."""
    if sheet.kind == "blank":
        return blank_page(stack.dpi)
    if sheet.kind == "stray":
        return stray_page(stack.dpi, _rng(sheet.scan_seed, _EXTRA))
    page_index = sheet.form_index * ctx.layout.page_count + sheet.page - 1
    image = printed_page(ctx.forms_pdf, page_index, stack.dpi)
    if sheet.forged_number:
        image = forge_code(image, ctx.layout, stack.dpi, sheet.forged_number)
    assert sheet.ink is not None
    return ink_page(image, ctx.layout, sheet.page, sheet.ink, stack.dpi)


def _encode(image: np.ndarray, settings: ScanSettings, fmt: str) -> bytes:
    """One scanned page as a scanner stores it: JPEG for grey and colour,
    CCITT G4 (in TIFF) for black-and-white, PNG when asked for loose PNGs."""
    buffer = io.BytesIO()
    dpi = (settings.dpi, settings.dpi)
    if settings.mode == "bw":
        picture = Image.fromarray(image).convert("1")
        if fmt == "png":
            picture.save(buffer, "PNG", dpi=dpi)
        else:
            picture.save(buffer, "TIFF", compression="group4", dpi=dpi)
        return buffer.getvalue()
    picture = Image.fromarray(image)
    if fmt == "png":
        picture = Image.fromarray(jpeg_round_trip(image, settings.jpeg_quality))
        picture.save(buffer, "PNG", dpi=dpi, compress_level=PNG_COMPRESS_LEVEL)
    else:
        picture.save(buffer, "JPEG", quality=settings.jpeg_quality, dpi=dpi)
    return buffer.getvalue()


def _render_stack(ctx: _Context, stack: StackPlan, fmt: str, out_dir: Path) -> tuple[Path, int]:
    encoded: list[bytes] = []
    for sheet in stack.sheets:
        rng = _rng(sheet.scan_seed, _SCAN)
        settings = replace(
            draw_settings(ctx.profile.scanner, stack.dpi, stack.mode, rng), upside_down=sheet.upside_down, drum_lines=stack.drum_lines
        )
        paper = render_sheet(ctx, stack, sheet)
        encoded.append(_encode(scan(paper, settings, rng), settings, stack.loose_format or fmt))
    if stack.loose_format:
        path = out_dir / f"{stack.name}.{'png' if stack.loose_format == 'png' else 'jpg'}"
        path.write_bytes(encoded[0])
    elif fmt == "pdf":
        path = out_dir / f"{stack.name}.pdf"
        path.write_bytes(img2pdf.convert(encoded, nodate=True, engine=img2pdf.Engine.internal))
    elif fmt == "tiff":
        path = out_dir / f"{stack.name}.tif"
        frames = [Image.open(io.BytesIO(data)) for data in encoded]
        compression = "group4" if stack.mode == "bw" else "tiff_deflate"
        frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], compression=compression, dpi=(stack.dpi, stack.dpi))
    else:
        path = out_dir / stack.name
        path.mkdir(exist_ok=True)
        suffix = "png" if fmt == "png" else "jpg"
        for position, data in enumerate(encoded, start=1):
            target = path / f"page-{position:04d}.{suffix}"
            if fmt == "jpeg" and stack.mode == "bw":  # a bilevel page saved as JPEG, as some scanners do
                Image.open(io.BytesIO(data)).convert("L").save(target, "JPEG", quality=90, dpi=(stack.dpi,) * 2)
            else:
                target.write_bytes(data)
    return path, len(encoded)


def _truth_rows(
    ctx: _Context, returned: dict[int, FilledForm], missing: dict[int, set[int]], doubtful_serials: set[str]
) -> list[list[str]]:
    field_ids = ctx.survey.field_ids()
    rows = []
    for form_index in sorted(returned):
        filled = returned[form_index]
        row = ctx.issued[form_index]
        lost_pages = missing.get(form_index, set())
        values = ["" if ctx.layout.field(f).page in lost_pages else filled.truth.get(f, "") for f in field_ids]
        needs_review = bool(filled.anomalies) or bool(lost_pages) or row.serial in doubtful_serials
        rows.append(
            [
                row.serial,
                row.household.household_code,
                *row.household.village_key,
                (FormStatus.NEEDS_REVIEW if needs_review else FormStatus.ACCEPTED).value,
                *values,
            ]
        )
    return rows


def _locate(stacks: list[StackPlan], form_index: int, page: int | None = None) -> tuple[str, list[int]]:
    """The first file holding a form's genuine pages and the positions of
    ``page`` there (of any page, if None)."""
    for stack in stacks:
        positions = [
            position
            for position, sheet in enumerate(stack.sheets, start=1)
            if _genuine(sheet) and sheet.form_index == form_index and (page is None or sheet.page == page)
        ]
        if positions:
            return stack.name, positions
    return "", []


def _locate_extra(stacks: list[StackPlan], anomaly: Anomaly) -> tuple[str, str]:
    """The file and positions of a photocopy's or a forged form's pages
    (kept in one file: they neither jam nor straddle a job break)."""
    for stack in stacks:
        positions = [
            position
            for position, sheet in enumerate(stack.sheets, start=1)
            if (anomaly.kind == AnomalyKind.PHOTOCOPY and sheet.copy == anomaly.copy)
            or (anomaly.kind == AnomalyKind.FORGED and sheet.forged_number == anomaly.forged_number)
        ]
        if positions:
            return stack.name, positions_text(positions)
    return "", ""


def simulate_returns(
    print_dir: Path,
    out_dir: Path,
    *,
    seed: int = 1,
    profile: str = "office",
    fmt: str = "pdf",
    workers: int | None = None,
    dpi: int | None = None,
) -> SimulationSummary:
    """``dpi`` fixes every stack's resolution (default: drawn from the
    profile). ``workers``: processes rendering files (None: every core)."""
    ctx = _context(Path(print_dir), seed, profile, fmt, dpi)
    stacks, returned, missing, planned = plan(ctx)
    paths, pages = _render_files(ctx, stacks, fmt, Path(out_dir) / "scans", workers)
    anomalies = [
        *_placed(ctx, stacks, planned),
        *_respondents_mistakes(ctx, stacks, returned),
        *_sheet_faults(ctx, stacks),
    ]
    doubtful = {a.serial for a in anomalies if a.kind == AnomalyKind.PHOTOCOPY}
    truth = Path(out_dir) / "truth.csv"
    write_records(truth, ctx.survey.field_ids(), _truth_rows(ctx, returned, missing, doubtful))
    anomalies_file = write_anomalies(Path(out_dir) / "anomalies.csv", anomalies)
    return SimulationSummary(paths, pages, len(returned), len(ctx.issued), len(anomalies), truth, anomalies_file)


def _context(print_dir: Path, seed: int, profile: str, fmt: str, dpi: int | None) -> _Context:
    """The printed batch and the chosen profile; bad arguments refused first."""
    if profile not in PROFILES:
        raise BadArgsError(f"unknown profile '{profile}' (choose {', '.join(PROFILES)})")
    if fmt not in FORMATS:
        raise BadArgsError(f"unknown format '{fmt}' (choose {', '.join(FORMATS)})")
    survey, layout, issued = read_printed_batch(print_dir)
    chosen = PROFILES[profile]
    if dpi:
        chosen = replace(chosen, scanner=replace(chosen.scanner, dpi_choices=(dpi,)))
    return _Context(survey, layout, print_dir / "forms.pdf", issued, chosen, seed)


def _render_files(ctx: _Context, stacks: list[StackPlan], fmt: str, scans_dir: Path, workers: int | None) -> tuple[list[Path], int]:
    """Render, scan and write every file; (the files written, pages in them)."""
    scans_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    pages = 0
    with progress_bar("Simulating scans", sum(len(s.sheets) for s in stacks)) as advance:
        render = partial(_render_stack, ctx, fmt=fmt, out_dir=scans_dir)
        for path, n in Executor(workers).map(render, stacks, name=lambda stack: stack.name):
            paths.append(path)
            pages += n
            advance(n)
    return paths, pages


def _placed(ctx: _Context, stacks: list[StackPlan], planned: list[Anomaly]) -> list[Anomaly]:
    """The planned stack faults with the file (and pages) they ended up in,
    now that the scanning jobs are settled."""
    placed = []
    for anomaly in planned:
        if anomaly.kind in (AnomalyKind.PHOTOCOPY, AnomalyKind.FORGED):
            stack, position = _locate_extra(stacks, anomaly)
            anomaly = replace(anomaly, stack=stack, position=position)
        elif anomaly.kind == AnomalyKind.MISSING_PAGE:
            anomaly = replace(anomaly, stack=_locate(stacks, _form_index(ctx, anomaly.serial))[0])
        elif anomaly.kind == AnomalyKind.DUPLICATE_PAGE:
            stack, positions = _locate(stacks, _form_index(ctx, anomaly.serial), anomaly.page)
            anomaly = replace(anomaly, stack=stack, position=positions_text(positions))
        placed.append(anomaly)
    return placed


def _form_index(ctx: _Context, serial: str) -> int:
    return next(i for i, row in enumerate(ctx.issued) if row.serial == serial)


def _respondents_mistakes(ctx: _Context, stacks: list[StackPlan], returned: dict[int, FilledForm]) -> list[Anomaly]:
    """Each respondent's mistake, on the first page scanned that shows it."""
    mistakes = []
    for form_index, filled in returned.items():
        for mistake in filled.anomalies:
            page = ctx.layout.field(mistake.field_id).page
            stack, positions = _locate(stacks, form_index, page)
            mistakes.append(
                Anomaly(
                    AnomalyKind(mistake.kind),
                    ctx.issued[form_index].serial,
                    stack,
                    str(positions[0]) if positions else "",
                    page,
                    mistake.field_id,
                    mistake.detail,
                )
            )
    return mistakes


def _sheet_faults(ctx: _Context, stacks: list[StackPlan]) -> list[Anomaly]:
    """What each file shows sheet by sheet: pages upside down, blank and
    stray pages, and forms whose pages came out of order."""
    faults = []
    for stack in stacks:
        seen_pages: dict[tuple[int, int], list[int]] = {}
        for position, sheet in enumerate(stack.sheets, start=1):
            if sheet.upside_down and sheet.kind == "form":
                faults.append(
                    Anomaly(AnomalyKind.UPSIDE_DOWN, ctx.issued[sheet.form_index].serial, stack.name, str(position), sheet.page)
                )
            if sheet.kind in ("blank", "stray"):
                faults.append(Anomaly(AnomalyKind(f"{sheet.kind}-page"), stack=stack.name, position=str(position)))
            if sheet.kind == "form" and not sheet.forged_number:
                seen_pages.setdefault((sheet.form_index, sheet.copy), []).append(position)
        # A form whose pages do not come in ascending order (first copies only).
        for (form_index, _), positions in seen_pages.items():
            order: list[int] = []
            for position in positions:
                page = stack.sheets[position - 1].page
                if page not in order:
                    order.append(page)
            if order != sorted(order):
                faults.append(
                    Anomaly(
                        AnomalyKind.OUT_OF_ORDER,
                        ctx.issued[form_index].serial,
                        stack.name,
                        positions_text(positions),
                        detail="pages in the order " + " ".join(map(str, order)),
                    )
                )
    return faults
