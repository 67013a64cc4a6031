"""Which form and page is this? The QR code (zxing-cpp), verified.

Pure function over a greyscale page. The code is looked for on the whole
page, then, if a registration is known, in the QR's expected place scaled up
and binarised, which rescues small or blurred codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from sipas_scan.printing.codes import CodeError, PageCode, Secret, verify
from sipas_scan.reading.register import Failed

FORMATS = zxingcpp.BarcodeFormat.QRCode


@dataclass(frozen=True)
class Identified:
    code: PageCode
    payload: str


def _read(gray: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(gray, formats=FORMATS, try_rotate=True, try_downscale=True)]


def find_payloads(gray: np.ndarray, qr_region_px: np.ndarray | None = None) -> list[str]:
    """QR texts on the page; ``qr_region_px`` (4, 2) is where the layout puts the code."""
    found = _read(gray)
    if found or qr_region_px is None:
        return found
    x, y, w, h = cv2.boundingRect(qr_region_px.astype(np.float32))
    pad = int(0.3 * max(w, h))
    crop = gray[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    if crop.size == 0:
        return []
    crop = cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    found = _read(crop)
    if found:
        return found
    _, binary = cv2.threshold(cv2.GaussianBlur(crop, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Black-and-white scanners and toner spread make modules bleed into each
    # other; thinning the black by a pixel or two restores the grid.
    for thinning in (0, 3, 5):
        candidate = cv2.dilate(binary, np.ones((thinning, thinning), np.uint8)) if thinning else binary
        found = _read(candidate)
        if found:
            return found
    return []


def identify(payloads: list[str], secret: Secret, survey: str | None = None) -> Identified | Failed:
    """The first payload that is a valid form code; else the reason none is."""
    if not payloads:
        return Failed("no-code", "no QR code could be read")
    failure = None
    for payload in payloads:
        try:
            return Identified(verify(payload, secret, survey=survey), payload)
        except CodeError as exc:
            failure = failure or Failed(exc.reason, str(exc))
    return failure
