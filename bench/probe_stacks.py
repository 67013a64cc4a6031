"""An independent generator of filled-and-scanned stacks, to measure the reader
on marks and scans it was not tuned on.

    .venv/bin/python bench/probe_stacks.py --forms N --preset office|hard --seed S --out DIR [--workers K]

Prints N forms into DIR (reused when DIR/print/forms.pdf exists), fills and
"scans" them into DIR/probe-<preset>/ (scans/, truth.csv, anomalies.csv),
reads the scans into DIR/probe-<preset>.db without OCR, and prints the
figures of bench/read_accuracy.py's ``evaluate`` plus the blocking flag
reasons on held forms and every silent error.

This module was written without looking at the project's own simulator, reader
or assembly code: it only uses the printed PDF, the layout's box positions and
the survey's rules. Everything below is its own model.

Respondents (answers do not depend on the preset: both presets scan the same
filled forms)
    Every applicable question is answered; the filter (``applies_if``) is
    followed, so a question whose condition fails is left blank and one whose
    condition holds is answered. A respondent leaves an applicable question
    blank with probability 3 %, but never more than a third of a page's
    questions (skipped ones included) nor of a grid's rows. Single-choice questions follow a fixed
    per-question preference (Dirichlet draw, uniform for questions other
    questions depend on); grid rows follow a latent satisfaction (per form mean
    about 3.9 on 1..5, row noise, 15 % "straight-liners" who give a grid one
    answer); a multiple-choice question gets 1..max distinct codes. No double
    marks, no cancellations, no comments.

Pens (per form)
    62 % ballpoint 0.3-0.5 mm (black or blue, streaky, a blob where the pen
    lands, density following the pressure), 16 % gel and 14 % felt tip
    0.6-0.9 mm (dense; felt tip width follows pressure), 8 % light pencil
    0.4-0.6 mm (grey graphite, grainy texture, irregular pressure). A stroke is
    a Catmull-Rom path through a few control points, resampled every 0.04 mm,
    bent slightly, with hand tremor (two sinusoids across the path, wavelengths 1-5 mm,
    0.02-0.08 mm, 0.1-0.2 mm for one hand in ten), a pressure wave along it and tapered ends (a flick at the end of
    a tick's long arm). It is rasterised as anti-aliased discs of the local
    width and density onto the page rendered at 600 dpi and composited as
    transmittance (paper x T^density, per colour channel).

Marks (a habit per form; 6 % of marks in a second style, 2 % in any style)
    tick, cross, single slash (20 % of them backslash), dot/blob (a spiral
    scribble), loop round the box (radius 2.5 mm plus a clearance of 0.3-2 mm
    per hand, so tight loops cut the box corners; sweep 310-390 degrees: open
    or overlapping). Ticks, crosses and slashes are 60-140 % of the box (per
    hand, +/-10 % per mark), rotated by the hand's slant (+/-15 degrees) and a
    per-mark +/-6 degrees; a blob is only 30-65 % of the box, because the
    printed instructions make a filled box mean "cancelled". Centre jitter: a
    per-hand bias up to 0.5 mm plus a per-mark offset, together at most 1 mm.
    0.5 % of ticks that have a box up and to the right (5.5-14 mm away,
    25-95 degrees above the horizontal) turn as a whole and end their long arm
    inside that box.

Scanner (per stack of 8-12 forms, as an automatic feeder takes them)
    office: 150/200/240/300 dpi (mostly 200 and 300); colour 45 %, grey 40 %,
        black-and-white 15 % with a fixed threshold 120-160; skew up to 2
        degrees; 3 % of pages upside down; shift up to 1.5 mm; feed stretch
        up to 0.3 %; optical blur (Gaussian sigma) 0.04-0.08 mm; sensor noise 1.5-4 levels;
        JPEG quality 60-90; slight paper tint; uneven lighting 2-6 %.
    hard: mostly 150 and 200 dpi; colour 35 %, grey 35 %, black-and-white 30 %
        with a threshold 95-175; skew up to 5 degrees; 8 % upside down; shift
        up to 4 mm; stretch up to 1 %; blur 0.06-0.14 mm; noise 3-9 levels;
        JPEG 30-75; yellowed paper; lighting 5-15 %; a white, grey or black
        background where the page does not cover the frame; and per page:
        ink bleed 0.03-0.1 mm (50 %), a vertical low-toner band 5-25 mm wide
        that takes 25-50 % of the print's darkness (15 %), a fold (half or
        letter fold of the form, 50 % of forms) with a shadow of 4-15 % on one
        side, a lit ridge and a crease line of 3-10 %, dust specks and hairs
        on the paper (70 %), a curled edge that darkens (15-40 %), blurs and
        squeezes a 4-12 mm band (20 %); per stack a dirty-drum vertical line
        1-3 px wide, 25-70 % dark, at a fixed column (50 % of stacks).
    Colour and grey pages are embedded in the stack PDF as JPEG at their
    scanned dpi; black-and-white pages as CCITT G4 (as office scanners store
    them). About 2 % of pages are taken out of their stack and saved alone as
    loose-NNN.jpg (70 %) or .png, rescanned in colour or grey at 200 or 300 dpi.

Everything is deterministic from --seed: answers and hands from (seed, form),
scanners from (seed, preset, stack) and (seed, preset, form, page).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import math
import multiprocessing as mp
import os
import shutil
import sqlite3
import sys
import time
import zlib
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import img2pdf
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from sipas_scan.layout import FieldLayout, FormLayout, survey_and_layout
from sipas_scan.printing.delivery import read_manifest
from sipas_scan.printing.ledger import IssuedForm
from sipas_scan.reading.page import ReadOptions
from sipas_scan.scan import scan_inputs
from sipas_scan.survey.model import Question, Survey, join_codes

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

PAPER_DPI = 600
PX_PER_MM = PAPER_DPI / 25.4
PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
PRESET_IDS = {"office": 1, "hard": 2}
Rect = tuple[float, float, float, float]
Rng = np.random.Generator


def rng_for(*key: int) -> Rng:
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def pick(rng: Rng, weighted: tuple[tuple[Any, float], ...]) -> Any:
    values = [v for v, _ in weighted]
    weights = np.array([w for _, w in weighted], dtype=float)
    return values[int(rng.choice(len(values), p=weights / weights.sum()))]


# --------------------------------------------------------------------------
# Respondents


def _preference(seed: int, question: Question, gating: bool) -> np.ndarray:
    """A fixed preference over a question's options, the same for every form."""
    n = len(question.options)
    if gating:
        return np.full(n, 1.0 / n)
    return rng_for(seed, 7, zlib.crc32(question.id.encode())).dirichlet(np.full(n, 1.5))


def respond(survey: Survey, layout: FormLayout, seed: int, form: int) -> dict[str, tuple[str, ...]]:
    """One respondent's answers: field id -> codes ticked (empty = blank)."""
    rng = rng_for(seed, form, 0)
    gating = {q.applies_if.question for q in survey.fields() if q.applies_if}
    mood = float(np.clip(rng.normal(3.9, 0.6), 1.5, 5.0))
    straight = rng.random() < 0.15
    grid_answer: dict[str, str] = {}
    on_page = Counter(layout.field(q.id).page for q in survey.fields() if q.kind != "text")
    blanks: Counter[int] = Counter()
    grid_rows = Counter(q.grid for q in survey.fields() if q.grid is not None)
    grid_blanks: Counter[str] = Counter()
    pages_seen: set[int] = set()
    answers: dict[str, tuple[str, ...]] = {}

    def applies(q: Question) -> bool:
        return q.applies_if is None or q.applies_if.holds(join_codes(list(answers.get(q.applies_if.question, ()))))

    for q in survey.fields():
        if q.kind == "text":
            continue
        page = layout.field(q.id).page
        if page not in pages_seen:  # filters refer to earlier questions: count the page's skips now
            pages_seen.add(page)
            blanks[page] += sum(1 for o in survey.fields() if o.kind != "text" and layout.field(o.id).page == page and not applies(o))
        if not applies(q):
            answers[q.id] = ()
            continue
        in_grid_room = q.grid is None or grid_blanks[q.grid] + 1 <= grid_rows[q.grid] // 3
        if rng.random() < 0.03 and blanks[page] + 1 <= on_page[page] // 3 and in_grid_room:
            blanks[page] += 1
            if q.grid is not None:
                grid_blanks[q.grid] += 1
            answers[q.id] = ()
            continue
        codes = q.codes
        if q.kind == "multi":
            k = int(rng.integers(1, (q.max_choices or len(codes)) + 1))
            weights = _preference(seed, q, False)
            chosen = rng.choice(len(codes), size=min(k, len(codes)), replace=False, p=weights)
            answers[q.id] = tuple(codes[int(i)] for i in sorted(chosen))
        elif q.grid is not None:
            if straight and q.grid in grid_answer:
                answers[q.id] = (grid_answer[q.grid],)
                continue
            level = int(np.clip(round(mood + rng.normal(0, 0.7)), 1, len(codes)))
            answers[q.id] = (codes[level - 1],)
            grid_answer[q.grid] = codes[level - 1]
        else:
            weights = _preference(seed, q, q.id in gating)
            answers[q.id] = (codes[int(rng.choice(len(codes), p=weights))],)
    return answers


# --------------------------------------------------------------------------
# Pens and hands


@dataclass(frozen=True)
class Pen:
    kind: str  # ballpoint, gel, felt, pencil
    colour: str
    transmittance: tuple[float, float, float]  # B, G, R at density 1
    width: float  # mm
    density: float
    wmin: float  # width at no pressure, as a fraction
    dmin: float  # density at no pressure, as a fraction
    pressure_wave: float
    grain: float


@dataclass(frozen=True)
class Hand:
    pen: Pen
    style: str
    alt_style: str
    size: float  # mark size as a fraction of the box
    bias: tuple[float, float]  # mm
    slant: float  # degrees
    tremor: float  # mm
    loop_gap: float  # mm between box side and loop
    folds: tuple[float, ...]  # mm from the top where the form was folded


STYLES = (("tick", 0.42), ("cross", 0.25), ("slash", 0.10), ("dot", 0.10), ("loop", 0.13))


def make_pen(rng: Rng) -> Pen:
    kind = pick(rng, (("ballpoint", 0.62), ("gel", 0.16), ("felt", 0.14), ("pencil", 0.08)))
    if kind == "pencil":
        t = float(rng.uniform(0.3, 0.5))
        return Pen(kind, "grey", (t, t, t * 0.97), float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.65, 0.95)), 0.85, 0.3, 0.35, 0.55)
    colour = pick(rng, (("black", 0.45), ("blue", 0.55)))
    if kind == "ballpoint":
        tone = (0.17, 0.16, 0.15) if colour == "black" else (0.60, 0.23, 0.14)
        return Pen(kind, colour, tone, float(rng.uniform(0.3, 0.5)), float(rng.uniform(0.8, 1.0)), 0.7, 0.5, 0.2, 0.25)
    tone = (0.08, 0.08, 0.09) if colour == "black" else (0.66, 0.17, 0.08)
    if kind == "gel":
        return Pen(kind, colour, tone, float(rng.uniform(0.6, 0.9)), float(rng.uniform(0.95, 1.1)), 0.6, 0.8, 0.1, 0.08)
    return Pen(kind, colour, tone, float(rng.uniform(0.6, 0.9)), float(rng.uniform(0.85, 1.0)), 0.45, 0.85, 0.15, 0.12)


def make_hand(seed: int, form: int) -> Hand:
    rng = rng_for(seed, form, 1)
    pen = make_pen(rng)
    style = pick(rng, STYLES)
    alt_style = pick(rng, tuple((s, w) for s, w in STYLES if s != style))
    bias_r, bias_a = 0.5 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    tremor = float(rng.uniform(0.1, 0.2) if rng.random() < 0.1 else rng.uniform(0.02, 0.08))
    fold = pick(rng, (((), 0.5), ((PAGE_H_MM / 2,), 0.2), ((PAGE_H_MM / 3, 2 * PAGE_H_MM / 3), 0.3)))
    folds = tuple(float(y + rng.normal(0, 3)) for y in fold)
    return Hand(
        pen=pen,
        style=style,
        alt_style=alt_style,
        size=float(rng.uniform(0.6, 1.4)),
        bias=(bias_r * math.cos(bias_a), bias_r * math.sin(bias_a)),
        slant=float(rng.uniform(-15, 15)),
        tremor=tremor,
        loop_gap=float(rng.uniform(0.3, 2.0)),
        folds=folds,
    )


# --------------------------------------------------------------------------
# Strokes


def _catmull_rom(ctrl: np.ndarray, step: float) -> np.ndarray:
    pts = np.vstack([ctrl[0], ctrl, ctrl[-1]])
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        n = max(2, int(np.linalg.norm(p2 - p1) / step) + 1)
        t = np.linspace(0, 1, n, endpoint=False)[:, None]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    out.append(ctrl[-1][None, :])
    return np.vstack(out)


def _resample(path: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    d = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))]
    s = np.r_[np.arange(0.0, d[-1], step), d[-1]]
    return np.column_stack([np.interp(s, d, path[:, 0]), np.interp(s, d, path[:, 1])]), s


@dataclass
class Stroke:
    points: np.ndarray  # (n, 2) mm, page coordinates
    width: np.ndarray  # mm
    density: np.ndarray


def make_stroke(ctrl_mm: list[tuple[float, float]], hand: Hand, rng: Rng, *, flick: bool = False, bow: float = 0.0) -> Stroke:
    """A pen stroke through ``ctrl_mm``: smooth path, tremor, pressure, tapers."""
    pen = hand.pen
    path, s = _resample(_catmull_rom(np.array(ctrl_mm, dtype=float), 0.05), 0.04)
    length = max(float(s[-1]), 1e-3)
    tangent = np.gradient(path, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    l1, l2 = rng.uniform(2.0, 5.0), rng.uniform(1.0, 2.0)
    shake = hand.tremor * (np.sin(2 * np.pi * s / l1 + rng.uniform(0, 6.3)) + 0.3 * np.sin(2 * np.pi * s / l2 + rng.uniform(0, 6.3)))
    shake += bow * np.sin(np.pi * s / length)
    path = path + normal * shake[:, None]
    t_in = np.clip(s / rng.uniform(0.2, 0.6), 0, 1)
    t_out = np.clip((length - s) / (rng.uniform(0.8, 1.8) if flick else rng.uniform(0.2, 0.7)), 0, 1)
    smooth_in, smooth_out = t_in * t_in * (3 - 2 * t_in), t_out * t_out * (3 - 2 * t_out)
    taper = (0.35 + 0.65 * smooth_in) * ((0.05 if flick else 0.3) + (0.95 if flick else 0.7) * smooth_out)
    wave = 1 + pen.pressure_wave * np.sin(2 * np.pi * s / rng.uniform(2, 6) + rng.uniform(0, 6.3))
    if pen.kind == "pencil":  # irregular pressure
        wave *= 1 + 0.25 * np.interp(s, np.linspace(0, length, 8), rng.uniform(-1, 1, 8))
    pressure = np.clip(taper * wave, 0, 1.3)
    width = pen.width * (pen.wmin + (1 - pen.wmin) * pressure)
    density = pen.density * (pen.dmin + (1 - pen.dmin) * pressure)
    if pen.kind == "ballpoint":
        density = np.where(s < 0.25, density * 1.25, density)  # ink gathered on the ball
    return Stroke(path, width, density)


def _rotate(points: list[tuple[float, float]], degrees: float, centre: tuple[float, float]) -> list[tuple[float, float]]:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return [(centre[0] + x * c - y * s, centre[1] + x * s + y * c) for x, y in points]


def _jit(rng: Rng, scale: float) -> float:
    return float(rng.uniform(-scale, scale))


def mark_strokes(
    style: str, box: Rect, hand: Hand, rng: Rng, neighbour: Rect | None = None
) -> tuple[list[Stroke], tuple[float, float]]:
    """The strokes of one mark in ``box``; also where its centre landed."""
    x, y, w, h = box
    side = (w + h) / 2
    size = side * float(np.clip(hand.size * rng.uniform(0.9, 1.1), 0.6, 1.4))
    room = 1.0 - math.hypot(*hand.bias)
    r, a = room * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    cx = x + w / 2 + hand.bias[0] + r * math.cos(a)
    cy = y + h / 2 + hand.bias[1] + r * math.sin(a)
    turn = hand.slant + _jit(rng, 6)
    S = size
    strokes: list[Stroke] = []
    if style == "tick":
        start = (-0.42 * S + _jit(rng, 0.06 * S), -0.02 * S + _jit(rng, 0.08 * S))
        vertex = (-0.12 * S + _jit(rng, 0.06 * S), 0.40 * S + _jit(rng, 0.06 * S))
        reach = rng.uniform(0.85, 1.15)
        end = (vertex[0] + (0.62 * S + _jit(rng, 0.06 * S)) * reach, vertex[1] - (0.98 * S + _jit(rng, 0.06 * S)) * reach)
        pts = _rotate([start, vertex, end], turn, (cx, cy))
        s0, v, e = (np.array(p) for p in pts)
        if neighbour is not None:  # the whole tick turns and its long arm runs on into the next box
            nx, ny, nw, nh = neighbour
            target = np.array((nx + nw * rng.uniform(0.3, 0.7), ny + nh * rng.uniform(0.35, 0.75)))
            turn_by = math.atan2(*(target - v)[::-1]) - math.atan2(*(e - v)[::-1])
            c, sn = math.cos(turn_by), math.sin(turn_by)
            s0 = v + np.array([[c, -sn], [sn, c]]) @ (s0 - v)
            e = target
        ctrl = [tuple(s0), tuple(s0 + 0.7 * (v - s0)), tuple(v), tuple(v + 0.12 * (e - v)), tuple(e)]
        strokes.append(make_stroke([(float(p[0]), float(p[1])) for p in ctrl], hand, rng, flick=True, bow=_jit(rng, 0.04 * S)))
    elif style == "cross":
        half = 0.5 * S
        first = [(-half + _jit(rng, 0.08 * S), -half + _jit(rng, 0.08 * S)), (half + _jit(rng, 0.08 * S), half + _jit(rng, 0.08 * S))]
        second = [(half + _jit(rng, 0.08 * S), -half + _jit(rng, 0.08 * S)), (-half + _jit(rng, 0.08 * S), half + _jit(rng, 0.08 * S))]
        order = [first, second] if rng.random() < 0.7 else [second, first]
        for seg in order:
            p = _rotate(seg, turn, (cx, cy))
            mid = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
            strokes.append(make_stroke([p[0], mid, p[1]], hand, rng, flick=rng.random() < 0.3, bow=_jit(rng, 0.05 * S)))
    elif style == "slash":
        half = 0.5 * S * rng.uniform(1.0, 1.15)
        if rng.random() < 0.8:
            seg = [(-0.7 * half + _jit(rng, 0.06 * S), half), (0.7 * half + _jit(rng, 0.06 * S), -half)]
        else:
            seg = [(-0.7 * half + _jit(rng, 0.06 * S), -half), (0.7 * half + _jit(rng, 0.06 * S), half)]
        p = _rotate(seg, turn, (cx, cy))
        mid = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
        strokes.append(make_stroke([p[0], mid, p[1]], hand, rng, flick=rng.random() < 0.5, bow=_jit(rng, 0.05 * S)))
    elif style == "dot":
        radius = side * rng.uniform(0.30, 0.65) / 2
        squash = rng.uniform(0.8, 1.0)
        pitch = 0.7 * hand.pen.width
        inner = min(0.1, radius / 2)
        turns = max(1.0, (radius - hand.pen.width / 2 - inner) / pitch)
        theta = np.linspace(0, 2 * np.pi * turns, max(12, int(turns * 24)))
        rad = inner + (radius - hand.pen.width / 2 - inner) * theta / theta[-1]
        phase = rng.uniform(0, 2 * np.pi)
        pts = [(float(rr * math.cos(t + phase)), float(rr * math.sin(t + phase) * squash)) for rr, t in zip(rad, theta, strict=True)]
        strokes.append(make_stroke(_rotate(pts, turn, (cx, cy)), hand, rng))
    elif style == "loop":
        gap = float(np.clip(hand.loop_gap + rng.normal(0, 0.25), 0.2, 2.0))
        radius = side / 2 + gap
        ecc = rng.uniform(0, 0.12)
        rx, ry = radius * (1 + ecc), radius * (1 - ecc)
        sweep = math.radians(rng.uniform(310, 390)) * (1 if rng.random() < 0.7 else -1)
        begin = rng.uniform(0, 2 * np.pi)
        theta = np.linspace(0, sweep, 48)
        drift = 1 + rng.uniform(-0.08, 0.08) * theta / abs(sweep)
        wobble = 1 + 0.04 * np.sin(2 * theta + rng.uniform(0, 6.3))
        pts = [
            (float(rx * d * wb * math.cos(t + begin)), float(ry * d * wb * math.sin(t + begin)))
            for t, d, wb in zip(theta, drift, wobble, strict=True)
        ]
        strokes.append(make_stroke(_rotate(pts, turn, (cx, cy)), hand, rng, flick=rng.random() < 0.5))
    else:
        raise ValueError(style)
    return strokes, (cx, cy)


def render_strokes(paper: np.ndarray, strokes: list[Stroke], pen: Pen, rng: Rng, bleed: float) -> None:
    """Ink ``strokes`` onto ``paper`` (BGR uint8 at PAPER_DPI), in place."""
    allpts = np.vstack([st.points for st in strokes]) * PX_PER_MM
    margin = max(float(st.width.max()) for st in strokes) * PX_PER_MM + 4 + 4 * bleed * PX_PER_MM
    x0, y0 = (int(max(0, v)) for v in np.floor(allpts.min(axis=0) - margin))
    x1 = int(min(paper.shape[1], math.ceil(allpts[:, 0].max() + margin)))
    y1 = int(min(paper.shape[0], math.ceil(allpts[:, 1].max() + margin)))
    if x1 <= x0 or y1 <= y0:
        return
    ink = np.zeros((y1 - y0, x1 - x0), np.float32)
    for st in strokes:
        buf = np.zeros_like(ink, dtype=np.uint8)
        pts = (st.points * PX_PER_MM - (x0, y0)) * 16
        radii = np.maximum(st.width * PX_PER_MM / 2 * 16, 16)
        values = np.clip(st.density / 1.3 * 255, 0, 255)
        for (px, py), rr, vv in zip(pts, radii, values, strict=True):
            cv2.circle(buf, (int(round(px)), int(round(py))), int(round(rr)), int(vv), -1, cv2.LINE_AA, 4)
        noise = cv2.GaussianBlur(rng.random(buf.shape, dtype=np.float32), (0, 0), 0.9)
        noise = (noise - noise.min()) / max(float(np.ptp(noise)), 1e-6)
        # Graphite catches on the paper's grain; ballpoint ink skips a little.
        texture = np.clip((noise - 0.15) / 0.45, 0.3, 1.0) if pen.kind == "pencil" else 1 - pen.grain * noise
        ink += buf.astype(np.float32) / 255 * 1.3 * texture
    if bleed > 0:
        ink = np.maximum(ink, cv2.GaussianBlur(ink, (0, 0), bleed * PX_PER_MM) * 1.25)
    ink = np.clip(ink, 0, 1.4)
    log_t = np.log(np.array(pen.transmittance, np.float32))
    region = paper[y0:y1, x0:x1].astype(np.float32)
    region *= np.exp(ink[..., None] * log_t[None, None, :])
    paper[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def _slip_target(box: Rect, boxes: list[Rect]) -> Rect | None:
    """The nearest box up and to the right, 5.5-14 mm away, if any."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    best: tuple[float, Rect] | None = None
    for other in boxes:
        ox, oy = other[0] + other[2] / 2, other[1] + other[3] / 2
        dx, up = ox - cx, cy - oy
        dist = math.hypot(dx, up)
        angle = math.degrees(math.atan2(up, dx))
        if 5.5 <= dist <= 14 and 25 <= angle <= 95 and (best is None or dist < best[0]):
            best = (dist, other)
    return best[1] if best else None


def fill_page(
    paper: np.ndarray, fields: tuple[FieldLayout, ...], answers: dict[str, tuple[str, ...]], hand: Hand, rng: Rng, bleed: float
) -> list[dict]:
    """Mark the answers of one page; returns what was drawn (for debugging)."""
    boxes = [o.box for f in fields for o in f.options]
    drawn = []
    for fld in fields:
        for option in fld.options:
            if option.code not in answers.get(fld.id, ()):
                continue
            u = rng.random()
            style = hand.style if u >= 0.08 else hand.alt_style if u >= 0.02 else pick(rng, STYLES)
            neighbour = None
            if style == "tick" and rng.random() < 0.005:
                neighbour = _slip_target(option.box, [b for b in boxes if b != option.box])
            strokes, centre = mark_strokes(style, option.box, hand, rng, neighbour)
            render_strokes(paper, strokes, hand.pen, rng, bleed)
            drawn.append({"field": fld.id, "code": option.code, "style": style, "centre": centre, "slip": neighbour is not None})
    return drawn


# --------------------------------------------------------------------------
# Paper damage (page coordinates, before and after the pen)


def low_toner_band(paper: np.ndarray, rng: Rng) -> None:
    """A vertical band where the printer ran short of toner: print lightened."""
    w = paper.shape[1]
    width = rng.uniform(3, 15) * PX_PER_MM
    centre = rng.uniform(0.1, 0.9) * w
    a, b = int(max(0, centre - width)), int(min(w, centre + width))
    x = np.arange(a, b, dtype=np.float32)
    keep = 1 - rng.uniform(0.25, 0.5) * np.exp(-(((x - centre) / (width / 2)) ** 4))
    band = paper[:, a:b].astype(np.float32)
    paper[:, a:b] = np.clip(255 - (255 - band) * keep[None, :, None], 0, 255).astype(np.uint8)


def fold_shadow(paper: np.ndarray, y_mm: float, rng: Rng) -> None:
    """A fold: a soft shadow on one side, a lit ridge on the other, a crease."""
    h, w = paper.shape[:2]
    sigma = rng.uniform(1.0, 4.0) * PX_PER_MM
    depth = rng.uniform(0.04, 0.15)
    slope = math.tan(math.radians(rng.uniform(-1.5, 1.5)))
    y0 = y_mm * PX_PER_MM
    reach = 4 * sigma + abs(slope) * w / 2 + 2
    a, b = int(max(0, y0 - reach)), int(min(h, y0 + reach))
    if b <= a:
        return
    yy, xx = np.mgrid[a:b, 0:w].astype(np.float32)
    d = yy - y0 - slope * (xx - w / 2)
    side = 1 if rng.random() < 0.5 else -1
    shade = 1 - depth * np.exp(-((d / sigma) ** 2)) * (d * side > 0) - 0.3 * depth * np.exp(-((d / (0.4 * sigma)) ** 2))
    shade += 0.3 * depth * np.exp(-(((d + side * sigma) / (0.5 * sigma)) ** 2))  # the lit ridge
    shade -= rng.uniform(0.03, 0.1) * np.exp(-((d / (0.1 * PX_PER_MM)) ** 2))
    paper[a:b] = np.clip(paper[a:b].astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def curled_edge(paper: np.ndarray, rng: Rng) -> None:
    """An edge lifted off the glass: darker, softer and squeezed toward the edge."""
    h, w = paper.shape[:2]
    edge = int(rng.integers(4))
    band = int(rng.uniform(4, 12) * PX_PER_MM)
    squeeze = rng.uniform(0.3, 1.0) * PX_PER_MM
    depth = rng.uniform(0.15, 0.4)
    # Work on the band as if it were the left edge.
    view = [
        paper[:, :band],
        paper[:, w - band :][:, ::-1],
        paper[:band].transpose(1, 0, 2),
        paper[h - band :][::-1].transpose(1, 0, 2),
    ][edge]
    strip = np.ascontiguousarray(view)
    n, m = strip.shape[:2]
    d = np.arange(m, dtype=np.float32)
    f = (1 - d / m) ** 2
    src_x = np.clip(d + squeeze * f, 0, m - 1)  # content moves toward the edge
    map_x = np.broadcast_to(src_x[None, :], (n, m)).astype(np.float32)
    map_y = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None], (n, m)).astype(np.float32)
    warped = cv2.remap(strip, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    soft = cv2.GaussianBlur(warped, (0, 0), 0.15 * PX_PER_MM)
    warped = warped * (1 - f[None, :, None]) + soft * f[None, :, None]
    warped *= (1 - depth * f)[None, :, None]
    view[...] = np.clip(warped, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Scanners


@dataclass(frozen=True)
class Preset:
    name: str
    dpis: tuple[tuple[int, float], ...]
    modes: tuple[tuple[str, float], ...]
    threshold: tuple[float, float]
    jpeg_quality: tuple[int, int]
    skew: float  # degrees, at most
    shift: float  # mm, at most
    stretch: float  # feed stretch, at most
    upside_down: float
    blur: tuple[float, float]  # mm
    noise: tuple[float, float]  # grey levels
    tint: float  # at most
    lighting: tuple[float, float]
    black: tuple[float, float]
    white: tuple[float, float]
    damage: bool


PRESETS = {
    "office": Preset(
        name="office",
        dpis=((150, 0.1), (200, 0.45), (240, 0.1), (300, 0.35)),
        modes=(("colour", 0.45), ("grey", 0.4), ("bw", 0.15)),
        threshold=(120, 160),
        jpeg_quality=(60, 90),
        skew=2.0,
        shift=1.5,
        stretch=0.003,
        upside_down=0.03,
        blur=(0.04, 0.08),
        noise=(1.5, 4.0),
        tint=0.03,
        lighting=(0.02, 0.06),
        black=(12, 25),
        white=(238, 252),
        damage=False,
    ),
    "hard": Preset(
        name="hard",
        dpis=((150, 0.35), (200, 0.35), (240, 0.1), (300, 0.2)),
        modes=(("colour", 0.35), ("grey", 0.35), ("bw", 0.3)),
        threshold=(95, 175),
        jpeg_quality=(30, 75),
        skew=5.0,
        shift=4.0,
        stretch=0.01,
        upside_down=0.08,
        blur=(0.06, 0.14),
        noise=(3.0, 9.0),
        tint=0.09,
        lighting=(0.05, 0.15),
        black=(15, 45),
        white=(225, 250),
        damage=True,
    ),
}


@dataclass(frozen=True)
class Session:
    """One scanner job: a stack fed at once, or a page rescanned alone."""

    dpi: int
    mode: str
    threshold: int
    tint: tuple[float, float, float]  # B, G, R
    drum: tuple[float, int, float] | None  # x as a fraction of the width, width in px, darkness
    lid: int


def make_session(preset: Preset, rng: Rng, *, loose: bool = False) -> Session:
    yellow = rng.uniform(0, preset.tint)
    tint = (1 - yellow * 1.6, 1 - yellow * 0.5, 1.0)
    if loose:
        return Session(int(pick(rng, ((200, 0.5), (300, 0.5)))), pick(rng, (("colour", 0.6), ("grey", 0.4))), 128, tint, None, 250)
    drum = None
    if preset.damage and rng.random() < 0.5:
        drum = (float(rng.uniform(0.03, 0.97)), int(rng.integers(1, 4)), float(rng.uniform(0.25, 0.7)))
    return Session(
        int(pick(rng, preset.dpis)),
        pick(rng, preset.modes),
        int(rng.uniform(*preset.threshold)),
        tint,
        drum,
        int(rng.choice([250, 235, 60]) if preset.damage else 250),
    )


def _smooth_field(rng: Rng, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    small = rng.random(cells).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def scan(paper: np.ndarray, preset: Preset, session: Session, rng: Rng) -> np.ndarray:
    """Paper (BGR uint8 at PAPER_DPI) -> what the scanner writes: BGR, grey (uint8) or bool."""
    dpi = session.dpi
    out_w, out_h = round(PAGE_W_MM / 25.4 * dpi), round(PAGE_H_MM / 25.4 * dpi)
    scale = dpi / PAPER_DPI
    stretch = 1 + rng.uniform(-preset.stretch, preset.stretch)
    small = cv2.resize(paper, (round(paper.shape[1] * scale), round(paper.shape[0] * scale * stretch)), interpolation=cv2.INTER_AREA)
    skew = preset.skew * (rng.uniform(-1, 1) if rng.random() < 0.5 else float(np.clip(rng.normal(0, 1 / 3), -1, 1)))
    flip = rng.random() < preset.upside_down
    angle = skew + (180 if flip else 0)
    px_mm = dpi / 25.4
    shift = rng.uniform(-preset.shift, preset.shift, 2) * px_mm
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[0, 2] += out_w / 2 - centre[0] + shift[0]
    matrix[1, 2] += out_h / 2 - centre[1] + shift[1]
    lid = (session.lid,) * 3
    image = cv2.warpAffine(small, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=lid)
    del small
    colour = session.mode == "colour"
    tint = np.array(session.tint, np.float32)
    if not colour:  # grey and black-and-white scanners work on one channel from here
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tint = np.array([0.114 * tint[0] + 0.587 * tint[1] + 0.299 * tint[2]], np.float32)
    img: np.ndarray = image.astype(np.float32)
    del image
    # Light: uneven illumination, paper tint, the sensor's black and white levels.
    amp = rng.uniform(*preset.lighting)
    gain = 1 - amp * _smooth_field(rng, (out_h, out_w), (4, 3))
    ramp = np.linspace(-1, 1, out_w, dtype=np.float32)[None, :] * rng.uniform(-amp, amp) / 2
    gain = gain + ramp
    white, black = rng.uniform(*preset.white), rng.uniform(*preset.black)
    if colour:
        img = black + (white * gain[..., None] * tint[None, None, :] - black) * (img / 255)
    else:
        img = black + (white * tint[0] * gain - black) * (img / 255)
    blur = rng.uniform(*preset.blur) * px_mm
    img = cv2.GaussianBlur(img, (0, 0), blur).astype(np.float32, copy=False)
    if preset.damage:
        if rng.random() < 0.7:  # dust and hair on the paper
            for _ in range(int(rng.integers(5, 60))):
                x, y = int(rng.uniform(0, out_w)), int(rng.uniform(0, out_h))
                dark = float(rng.uniform(0.3, 0.9))
                value = tuple(float(v) for v in np.atleast_1d(img[y, x] * (1 - dark)))
                if rng.random() < 0.85:
                    radius = max(1, round(rng.uniform(0.05, 0.3 if rng.random() < 0.9 else 0.6) * px_mm))
                    cv2.circle(img, (x, y), radius, value, -1, cv2.LINE_AA)
                else:
                    length = rng.uniform(1, 4) * px_mm
                    a = rng.uniform(0, np.pi)
                    pts = np.array(
                        [
                            [x + t * length * math.cos(a + 0.3 * t), y + t * length * math.sin(a + 0.3 * t)]
                            for t in np.linspace(0, 1, 8)
                        ]
                    )
                    cv2.polylines(img, [pts.astype(np.int32)], False, value, 1, cv2.LINE_AA)
        if session.drum is not None:  # dirt on the scanner's drum or glass: a line down the page
            fx, width, dark = session.drum
            x = int(fx * out_w)
            img[:, x : x + width] *= 1 - dark
    img += rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(*preset.noise)
    if session.mode == "bw":
        return img > session.threshold
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def encode(image: np.ndarray, dpi: int, fmt: str, quality: int) -> bytes:
    """``fmt``: 'jpeg', 'png' or 'pdf-page' (JPEG, or G4 TIFF for black and white)."""
    buf = io.BytesIO()
    if image.dtype == bool:
        pil = Image.fromarray(image)
        if fmt == "png":
            pil.save(buf, "PNG", dpi=(dpi, dpi))
        else:
            pil.save(buf, "TIFF", compression="group4", dpi=(dpi, dpi), tiffinfo={278: image.shape[0]})
        return buf.getvalue()
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image)
    if fmt == "png":
        pil.save(buf, "PNG", dpi=(dpi, dpi), compress_level=3)
    else:
        pil.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


# --------------------------------------------------------------------------
# One page, start to end (runs in the worker processes)


@dataclass(frozen=True)
class PageJob:
    index: int  # generation order
    form: int  # index in the manifest
    page: int  # 1-based
    answers: dict[str, tuple[str, ...]]  # this page's fields
    session: Session
    fmt: str  # pdf-page, jpeg or png


_WORKER: dict[str, Any] = {}


def init_worker(pdf: str, survey_id: str, seed: int, preset: str) -> None:
    cv2.setNumThreads(1)
    _WORKER.update(doc=pdfium.PdfDocument(pdf), layout=survey_and_layout(survey_id)[1], seed=seed, preset=PRESETS[preset])


def paper_page(job: PageJob) -> tuple[np.ndarray, list[dict]]:
    """The printed page, filled in (and damaged, for the hard preset), at PAPER_DPI, BGR."""
    layout: FormLayout = _WORKER["layout"]
    preset: Preset = _WORKER["preset"]
    seed: int = _WORKER["seed"]
    pdf_index = job.form * layout.page_count + job.page - 1
    page = _WORKER["doc"][pdf_index]
    bitmap = page.render(scale=PAPER_DPI / 72)
    paper = np.array(bitmap.to_numpy()[..., :3])  # BGR
    bitmap.close()
    page.close()
    hand = make_hand(seed, job.form)
    damage = rng_for(seed, PRESET_IDS[preset.name], 4, job.form, job.page, 1)
    if preset.damage and damage.random() < 0.15:
        low_toner_band(paper, damage)
    bleed = float(damage.uniform(0.03, 0.1)) if preset.damage and damage.random() < 0.5 else 0.0
    drawn = fill_page(paper, layout.pages[job.page - 1].fields, job.answers, hand, rng_for(seed, job.form, 2, job.page), bleed)
    if preset.damage:
        for y in hand.folds:
            fold_shadow(paper, y, damage)
        if damage.random() < 0.2:
            curled_edge(paper, damage)
    return paper, drawn


def scanned_page(job: PageJob) -> np.ndarray:
    preset: Preset = _WORKER["preset"]
    paper, _ = paper_page(job)
    return scan(paper, preset, job.session, rng_for(_WORKER["seed"], PRESET_IDS[preset.name], 4, job.form, job.page, 2))


def make_page(job: PageJob) -> tuple[int, bytes]:
    preset: Preset = _WORKER["preset"]
    image = scanned_page(job)
    quality = int(
        rng_for(_WORKER["seed"], PRESET_IDS[preset.name], 4, job.form, job.page, 3).integers(*preset.jpeg_quality, endpoint=True)
    )
    return job.index, encode(image, job.session.dpi, job.fmt, quality)


# --------------------------------------------------------------------------
# The run


def write_truth(path: Path, survey: Survey, forms: list[IssuedForm], answers: list[dict[str, tuple[str, ...]]]) -> None:
    ids = survey.field_ids()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["form_id", "household_code", "province", "district", "commune", "village", "status", *ids])
        for form, ans in zip(forms, answers, strict=True):
            place = [form.household.household_code, *form.household.village_key]
            writer.writerow([form.serial, *place, "accepted", *(join_codes(list(ans.get(i, ()))) for i in ids)])


def plan(
    n_forms: int, page_count: int, seed: int, preset: Preset, answers: list[dict[str, tuple[str, ...]]], layout: FormLayout
) -> tuple[list[PageJob], list[list[int]], list[str]]:
    """Jobs in generation order; the stacks (job indexes) and the loose files' names."""
    pid = PRESET_IDS[preset.name]
    rng = rng_for(seed, pid, 5)
    jobs: list[PageJob] = []
    stacks: list[list[int]] = []
    loose: list[str] = []
    form = 0
    stack_no = 0
    while form < n_forms:
        size = int(rng.integers(8, 13))
        session = make_session(preset, rng_for(seed, pid, 3, stack_no))
        stack: list[int] = []
        for f in range(form, min(n_forms, form + size)):
            for page in range(1, page_count + 1):
                fields = layout.pages[page - 1].fields
                page_answers = {fld.id: answers[f][fld.id] for fld in fields if fld.id in answers[f]}
                if rng.random() < 0.02:
                    fmt = "jpeg" if rng.random() < 0.7 else "png"
                    own = make_session(preset, rng_for(seed, pid, 6, f, page), loose=True)
                    jobs.append(PageJob(len(jobs), f, page, page_answers, own, fmt))
                    loose.append(f"loose-{len(loose) + 1:03d}.{'jpg' if fmt == 'jpeg' else 'png'}")
                    continue
                stack.append(len(jobs))
                jobs.append(PageJob(len(jobs), f, page, page_answers, session, "pdf-page"))
        stacks.append(stack)
        form += size
        stack_no += 1
    return jobs, stacks, loose


def generate(root: Path, preset: Preset, seed: int, workers: int, out: Path) -> dict[str, Any]:
    layout_json = json.loads((root / "print" / "layout.json").read_text(encoding="utf-8"))
    survey, layout = survey_and_layout(layout_json["survey"])
    forms = read_manifest(root / "print" / "manifest.csv")
    pdf = root / "print" / "forms.pdf"
    doc = pdfium.PdfDocument(pdf)
    pdf_pages = len(doc)
    doc.close()
    if pdf_pages != len(forms) * layout.page_count:
        raise SystemExit(f"{pdf}: {pdf_pages} pages, expected {len(forms)} forms x {layout.page_count}")
    answers = [respond(survey, layout, seed, i) for i in range(len(forms))]
    if out.exists():
        shutil.rmtree(out)
    scans = out / "scans"
    scans.mkdir(parents=True)
    write_truth(out / "truth.csv", survey, forms, answers)
    (out / "anomalies.csv").write_text("kind,stack,position,serial,page,field,detail\n", encoding="utf-8")
    jobs, stacks, loose = plan(len(forms), layout.page_count, seed, preset, answers, layout)
    where: dict[int, tuple[int, int]] = {}  # job -> (stack, position)
    for s, stack in enumerate(stacks):
        for pos, j in enumerate(stack):
            where[j] = (s, pos)
    loose_names = iter(loose)
    pending: dict[int, list[bytes | None]] = {s: [None] * len(stack) for s, stack in enumerate(stacks)}
    started = time.perf_counter()
    ctx = mp.get_context("spawn")
    init = (str(pdf), survey.id, seed, preset.name)
    with ctx.Pool(workers, initializer=init_worker, initargs=init) as pool:
        for done, (index, data) in enumerate(pool.imap(make_page, jobs, chunksize=1), start=1):
            if index in where:
                s, pos = where[index]
                pending[s][pos] = data
                if all(p is not None for p in pending[s]):
                    (scans / f"stack-{s + 1:03d}.pdf").write_bytes(img2pdf.convert([p for p in pending.pop(s) if p is not None]))
            else:
                (scans / next(loose_names)).write_bytes(data)
            if done % 50 == 0 or done == len(jobs):
                print(f"   generated {done}/{len(jobs)} pages ({time.perf_counter() - started:.0f} s)", flush=True)
    modes = Counter((jobs[stack[0]].session.dpi, jobs[stack[0]].session.mode) for stack in stacks if stack)
    return {
        "pages": len(jobs),
        "forms": len(forms),
        "stacks": len(stacks),
        "loose": len(loose),
        "seconds": time.perf_counter() - started,
        "modes": modes,
        "hands": Counter(make_hand(seed, f).style for f in range(len(forms))),
        "pens": Counter(make_hand(seed, f).pen.kind for f in range(len(forms))),
    }


def read_accuracy() -> Any:
    """bench/read_accuracy.py, whose evaluation and figures this bench shares."""
    spec = importlib.util.spec_from_file_location("read_accuracy", BENCH / "read_accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(r: dict, db: Path, pages_read: int, seconds: float, name: str) -> None:
    read_accuracy().print_figures(f"probe-{name}", r, pages_read, seconds)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        held = con.execute("SELECT count(*) FROM forms WHERE status != 'accepted'").fetchone()[0]
        rows = con.execute(
            "SELECT f.reason, count(*), count(DISTINCT f.serial) FROM flags f"
            " JOIN forms m ON m.serial = f.serial AND m.survey = f.survey"
            " WHERE f.blocking = 1 AND m.status != 'accepted' GROUP BY f.reason ORDER BY count(*) DESC"
        ).fetchall()
    print(
        f"   blocking flags on the {held} held forms (every form is clean): "
        + (", ".join(f"{reason} {n} (on {forms} forms)" for reason, n, forms in rows) or "none")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--forms", type=int, default=100)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="office")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    root: Path = args.out
    secret = read_accuracy().printed_forms(root, args.forms)
    printed = len(read_manifest(root / "print" / "manifest.csv"))
    if printed != args.forms:
        raise SystemExit(f"{root} holds a print run of {printed} forms, not {args.forms}: use another --out")
    preset = PRESETS[args.preset]
    sim = root / f"probe-{preset.name}"
    g = generate(root, preset, args.seed, args.workers, sim)
    print(
        f"generated {g['pages']} pages of {g['forms']} forms in {g['seconds']:.1f} s with {args.workers} workers:"
        f" {g['stacks']} stacks, {g['loose']} loose pages; stacks by (dpi, mode): "
        + ", ".join(f"{d} {m} {n}" for (d, m), n in sorted(g["modes"].items()))
    )
    print(
        "   habits: "
        + ", ".join(f"{k} {n}" for k, n in g["hands"].most_common())
        + "; pens: "
        + ", ".join(f"{k} {n}" for k, n in g["pens"].most_common())
    )
    db = root / f"probe-{preset.name}.db"
    for stale in root.glob(f"probe-{preset.name}.db*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    started = time.perf_counter()
    summary = scan_inputs([sim / "scans"], db, ReadOptions(secret, run_ocr=False), ledger_path=root / "ledger.sqlite")
    seconds = time.perf_counter() - started
    r = read_accuracy().evaluate(sim, db)
    report(r, db, summary.pages_read, seconds, preset.name)


if __name__ == "__main__":
    main()
