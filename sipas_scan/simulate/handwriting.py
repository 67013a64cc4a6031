"""Handwriting that looks written, not printed.

No handwriting font in Debian covers Vietnamese, so glyphs of a font that
does (DejaVu Sans) are reduced to their centre lines (skeletons) and redrawn
one by one with a pen: every letter gets its own slant, size, rotation and
baseline drift, and the whole line wanders. Diacritics survive because each
precomposed Vietnamese letter is its own glyph.
"""

from __future__ import annotations

import functools
import unicodedata

import cv2
import numpy as np
from PIL import ImageFont
from skimage.morphology import skeletonize

from sipas_scan.fonts import find_font_files
from sipas_scan.layout import wrap_words

GLYPH_EM_PX = 64  # skeletons are made once at this size and scaled per use
X_HEIGHT_MM = (2.0, 2.8)


@functools.cache
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font_files().regular), GLYPH_EM_PX)


@functools.cache
def glyph_skeleton(char: str) -> tuple[np.ndarray, float, int]:
    """(skeleton as float32 0/1, advance in px, baseline offset from the patch top) at GLYPH_EM_PX."""
    font = _font()
    ascent, descent = font.getmetrics()
    advance = font.getlength(char)
    if char.isspace():
        return np.zeros((ascent + descent, 1), np.float32), advance, ascent
    mask = font.getmask(char)
    bbox = font.getbbox(char)  # (left, top, right, bottom) relative to the origin at the ascender
    glyph = np.array(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])
    canvas = np.zeros((ascent + descent + 8, int(advance) + 16), np.uint8)
    top, left = max(bbox[1], 0) + 4, max(bbox[0], 0) + 8
    h, w = glyph.shape
    canvas[top : top + h, left : left + w] = np.maximum(canvas[top : top + h, left : left + w], glyph)
    skeleton = skeletonize(canvas > 110).astype(np.float32)
    return skeleton, advance, ascent + 4


def _wobble(skeleton: np.ndarray, rng: np.random.Generator, amount_px: float) -> np.ndarray:
    """Bend a glyph's strokes with a smooth random displacement field, so no
    two copies of a letter are the same shape and none is the font's."""
    h, w = skeleton.shape
    field = rng.normal(0, 1, (2, h, w)).astype(np.float32)
    field = np.stack([cv2.GaussianBlur(f, (0, 0), 7) for f in field])
    field *= amount_px / (np.abs(field).max() + 1e-6)
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(skeleton, grid_x + field[0], grid_y + field[1], cv2.INTER_LINEAR)


def text_width_px(text: str, x_height_px: float) -> float:
    scale = x_height_px / (GLYPH_EM_PX * 0.55)
    return sum(glyph_skeleton(ch)[1] for ch in unicodedata.normalize("NFC", text)) * scale


def write_line(
    layer: np.ndarray,
    text: str,
    origin_px: tuple[float, float],
    x_height_px: float,
    stroke_px: float,
    rng: np.random.Generator,
    *,
    max_width_px: float | None = None,
) -> float:
    """Write ``text`` on ``layer`` with its baseline starting at ``origin_px``;
    returns the width used. Letters past ``max_width_px`` are not written."""
    text = unicodedata.normalize("NFC", text)
    scale = x_height_px / (GLYPH_EM_PX * 0.55)  # DejaVu's x-height is about 0.55 em
    slant_deg = rng.uniform(3, 22)
    slope = rng.normal(0, 0.01)
    x, drift = origin_px[0], 0.0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(1, int(round(stroke_px))),) * 2)
    for char in text:
        skeleton, advance, baseline = glyph_skeleton(char)
        letter_scale = scale * rng.uniform(0.85, 1.15)
        step = advance * letter_scale * rng.uniform(0.92, 1.05)
        if max_width_px is not None and x + step - origin_px[0] > max_width_px:
            break
        drift = float(np.clip(drift + rng.normal(0, 0.06 * x_height_px), -0.3 * x_height_px, 0.3 * x_height_px))
        if not char.isspace():
            skeleton = _wobble(skeleton, rng, 0.06 * GLYPH_EM_PX)
            angle = np.deg2rad(rng.normal(0, 4))
            base_y = origin_px[1] + drift + slope * (x - origin_px[0])
            # Affine map from skeleton patch to page: scale, slant, rotate, place the baseline.
            a = letter_scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            slant = np.tan(np.deg2rad(slant_deg + rng.normal(0, 4)))
            a = a @ np.array([[1.0, -slant], [0.0, 1.0]])
            offset = np.array([x, base_y]) - a @ np.array([8.0, baseline])
            matrix = np.hstack([a, offset[:, None]]).astype(np.float32)
            h, w = skeleton.shape
            corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float32) @ a.T + offset
            x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 3
            x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 3
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, layer.shape[1]), min(y1, layer.shape[0])
            if x1 > x0 and y1 > y0:
                local = matrix.copy()
                local[:, 2] -= (x0, y0)
                patch = cv2.warpAffine(skeleton, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
                patch = cv2.dilate((patch > 0.08).astype(np.uint8) * 255, kernel)
                patch = cv2.GaussianBlur(patch, (3, 3), 0.6).astype(np.float32) / 255.0
                region = layer[y0:y1, x0:x1]
                np.maximum(region, patch * rng.uniform(0.85, 1.0), out=region)
        x += step
    return x - origin_px[0]


def write_in_box(
    layer: np.ndarray,
    text: str,
    box_px: tuple[float, float, float, float],
    line_pitch_px: float,
    first_rule_px: float,
    px_per_mm: float,
    rng: np.random.Generator,
    stroke_px: float,
) -> None:
    """Write ``text`` on the ruled lines of a comment box, wrapping words."""
    x, y, w, h = box_px
    x_height = rng.uniform(*X_HEIGHT_MM) * px_per_mm
    margin = rng.uniform(2.0, 5.0) * px_per_mm
    width = w - margin - 3 * px_per_mm
    # 5 % slack: letters are drawn a little wider than the font's advance on average.
    lines = wrap_words(text, width, lambda line: text_width_px(line, x_height) * 1.05)
    n_rules = int((h - (first_rule_px - y)) // line_pitch_px) + 1
    for i, line in enumerate(lines[:n_rules]):
        baseline = first_rule_px + i * line_pitch_px - rng.uniform(0.3, 0.9) * px_per_mm
        write_line(
            layer,
            line,
            (x + margin + rng.normal(0, 0.5) * px_per_mm, baseline),
            x_height,
            stroke_px,
            rng,
            max_width_px=w - margin - 2 * px_per_mm,
        )
