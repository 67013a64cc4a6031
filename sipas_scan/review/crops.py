"""Images shown to reviewers: a question's region of the aligned scan with
its boxes outlined, or a whole stored page. Pure functions over the stored
JPEG; coordinates come from the layout (mm) on the reading grid."""

from __future__ import annotations

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FieldLayout

CROP_MARGIN_MM = 3.0
CROP_SCALE = 1.5               # 8 px/mm shown at 12 px/mm: marks read at a glance
OUTLINE_BGR = (40, 110, 230)   # boxes outlined in orange, the page stays grey
JPEG_QUALITY = 85


def _encode(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("cannot encode the crop")
    return data.tobytes()


def field_crop(aligned_jpeg: bytes, fld: FieldLayout) -> bytes:
    """JPEG of the field's region (plus a margin), option boxes outlined."""
    page = cv2.imdecode(np.frombuffer(aligned_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    s = defs.READ_PX_PER_MM
    x, y, w, h = fld.region
    x0, y0 = max(0, int((x - CROP_MARGIN_MM) * s)), max(0, int((y - CROP_MARGIN_MM) * s))
    x1 = min(page.shape[1], int((x + w + CROP_MARGIN_MM) * s))
    y1 = min(page.shape[0], int((y + h + CROP_MARGIN_MM) * s))
    crop = cv2.cvtColor(page[y0:y1, x0:x1], cv2.COLOR_GRAY2BGR)
    boxes = [o.box for o in fld.options] or ([fld.box] if fld.box else [])
    for bx, by, bw, bh in boxes:
        top_left = (int(bx * s) - x0 - 3, int(by * s) - y0 - 3)
        bottom_right = (int((bx + bw) * s) - x0 + 3, int((by + bh) * s) - y0 + 3)
        cv2.rectangle(crop, top_left, bottom_right, OUTLINE_BGR, 1)
    crop = cv2.resize(crop, None, fx=CROP_SCALE, fy=CROP_SCALE, interpolation=cv2.INTER_CUBIC)
    return _encode(crop)
