"""Which form and page is this? The QR code (zxing-cpp), verified.

Pure function over a greyscale page. The code is looked for on the whole
page, then, if a registration is known, in the QR's expected place scaled up
and binarised, which rescues small or blurred codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

import cv2
import numpy as np
import zxingcpp

from sipas_scan.printing.cells import QR_QUIET_MODULES, qr_cells
from sipas_scan.printing.codes import CodeError, PageCode, Secret, verify
from sipas_scan.reading.register import Failed

FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
UPSCALE = 2.0  # a small or blurred code is read again from its expected place, enlarged


@dataclass(frozen=True)
class Payload:
    text: str
    corners: np.ndarray  # (4, 2) image px: the symbol's corners, clockwise from its own top-left


@final  # never falsy: "if identified" tells it from a Failed
@dataclass(frozen=True)
class Identified:
    code: PageCode
    payload: str
    corners: np.ndarray | None = None


def _read(gray: np.ndarray, offset: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> list[Payload]:
    found = []
    for result in zxingcpp.read_barcodes(gray, formats=FORMATS, try_rotate=True, try_downscale=True):
        p = result.position
        corners = np.array([[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], dtype=np.float32)
        found.append(Payload(result.text, corners / scale + np.array(offset, dtype=np.float32)))
    return found


def find_codes(gray: np.ndarray, qr_region_px: np.ndarray | None = None) -> list[Payload]:
    """QR codes on the page; ``qr_region_px`` (4, 2) is where the layout puts the code."""
    found = _read(gray)
    if found or qr_region_px is None:
        return found
    x, y, w, h = cv2.boundingRect(qr_region_px.astype(np.float32))
    pad = int(0.3 * max(w, h))
    x0, y0 = max(0, x - pad), max(0, y - pad)
    crop = gray[y0 : y + h + pad, x0 : x + w + pad]
    if crop.size == 0:
        return []
    crop = cv2.resize(crop, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    found = _read(crop, (x0, y0), UPSCALE)
    if found:
        return found
    _, binary = cv2.threshold(cv2.GaussianBlur(crop, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Black-and-white scanners and toner spread make modules bleed into each
    # other; thinning the black by a pixel or two restores the grid.
    for thinning in (0, 3, 5):
        candidate = cv2.dilate(binary, np.ones((thinning, thinning), np.uint8)) if thinning else binary
        found = _read(candidate, (x0, y0), UPSCALE)
        if found:
            return found
    return []


def find_payloads(gray: np.ndarray, qr_region_px: np.ndarray | None = None) -> list[str]:
    """QR texts on the page (see ``find_codes``)."""
    return [p.text for p in find_codes(gray, qr_region_px)]


def identify(payloads: list[Payload], secret: Secret, survey: str | None = None) -> Identified | Failed:
    """The first payload that is a valid form code; else the reason none is."""
    if not payloads:
        return Failed("no-code", "no QR code could be read")
    failures = []
    for payload in payloads:
        try:
            return Identified(verify(payload.text, secret, survey=survey), payload.text, payload.corners)
        except CodeError as exc:
            failures.append(Failed(exc.reason, str(exc)))
    return failures[0]


def symbol_rect_mm(payload: str, qr_rect_mm: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Where the symbol itself (without its quiet zone) was printed: the
    printer drew the same payload's modules, quiet zone included, across the
    layout's QR square."""
    modules = len(qr_cells(payload)) - 2 * QR_QUIET_MODULES
    x, y, size, _ = qr_rect_mm
    module = size / (modules + 2 * QR_QUIET_MODULES)
    inset = QR_QUIET_MODULES * module
    return x + inset, y + inset, modules * module, modules * module
