"""Scanner lines: dirt on a scanner's drum or glass draws a thin dark line
down the whole page, along the feed.

Pure function on the raw scan, before anything is looked for on it: such a
line crosses boxes (read as a stroke), the code (unreadable) and the
surroundings of every box on its way (read as ink round them). Nothing
printed on a form and nothing a respondent draws runs straight down most of
the page, so a vertical run of ink that long is the scanner's and is
painted over with the paper's colour.
"""

from __future__ import annotations

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.reading.spans import runs

FEED_LINE_MIN_MM = 150.0  # a straight vertical run of ink at least this long is the scanner's
FEED_LINE_GAP_MM = 2.0  # a line lighter for no longer than this (JPEG beside print it crosses) is still one line
FEED_LINE_MAX_WIDTH_MM = 1.5  # dirt draws lines 0.1-0.35 mm wide; a wider dark band is the paper's edge or its shadow
INK_FRACTION = 0.75  # a pixel darker than this share of the paper's level is ink
LINE_MARGIN_PX = 1  # the line's blurred edges, either side


def erase_feed_lines(gray: np.ndarray) -> np.ndarray:
    """``gray`` (H, W) uint8, a scanned page as the scanner gave it (its feed
    along the rows); the same page with long vertical lines painted over with
    the paper's colour. Returns the input itself when there are none."""
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a uint8 greyscale page, got {gray.dtype} {gray.shape}")
    px_per_mm = max(gray.shape) / defs.PAGE_HEIGHT_MM
    length = int(FEED_LINE_MIN_MM * px_per_mm)
    if gray.shape[0] < length:
        return gray
    paper = float(np.percentile(gray[::8, ::8], defs.PAPER_PERCENTILE))
    # OpenCV's threshold and column sums: a few hundred microseconds at 300 dpi.
    _, ink = cv2.threshold(gray, paper * INK_FRACTION - 1, 1, cv2.THRESH_BINARY_INV)
    # Only columns with that much ink at all can hold a line: look there alone.
    columns = np.flatnonzero(cv2.reduce(ink, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() >= length)
    if not columns.size:
        return gray
    # A line the scan lightened for a pixel or two (JPEG ringing where it
    # crosses print) is still one line: bridged first, else its two halves,
    # each shorter than a line, stay on the page (office seed 71: a line
    # broken once at 200 dpi left 139 mm of it beside the boxes of C1).
    # Only thin lines: bridged, the noisy dark band at a page's edge lost
    # half its columns and left specks beside the boxes (hard seed 41).
    gap = max(1, int(round(FEED_LINE_GAP_MM * px_per_mm)))
    bridged = ink[:, columns]
    thin = np.zeros(columns.size, bool)
    for first, last in runs(columns):
        if last - first + 1 <= FEED_LINE_MAX_WIDTH_MM * px_per_mm:
            thin[(columns >= first) & (columns <= last)] = True
    if thin.any():  # the kernel is one pixel wide: each column is closed alone, gaps up to ``gap`` px
        bridged[:, thin] = cv2.morphologyEx(bridged[:, thin], cv2.MORPH_CLOSE, np.ones((gap + 1, 1), np.uint8))
    # Outside the page counts as paper: a run must be that long on the page itself.
    lines = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    if not lines.any():
        return gray
    mask = np.zeros(gray.shape, np.uint8)
    mask[:, columns] = lines
    erase = cv2.dilate(mask, np.ones((1, 2 * LINE_MARGIN_PX + 1), np.uint8)).astype(bool)
    # Where the line crosses print or a mark (ink on both sides of it), what
    # lies under it is ink too: painting it over cut a corner marker's border
    # in two, and the marker was lost.
    width = gray.shape[1]
    for first, last in runs(np.flatnonzero(erase.any(axis=0))):
        if first > 0 and last < width - 1:
            erase[ink[:, first - 1].astype(bool) & ink[:, last + 1].astype(bool), first : last + 1] = False
    cleaned = gray.copy()
    cleaned[erase] = int(paper)
    return cleaned
