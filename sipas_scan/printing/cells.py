"""The printed codes as grids of cells: what fills the layout's QR square
and its corner markers. Pure (no PDF library), shared by the renderer, the
reader's reference page and the simulator."""

from __future__ import annotations

import functools

import numpy as np
import segno

from sipas_scan import defs

QR_QUIET_MODULES = 2


@functools.cache
def qr_cells(payload: str) -> np.ndarray:
    """(n, n) bool modules of a page code, quiet zone included: what fills the
    layout's QR square."""
    matrix = segno.make(payload, error=defs.QR_ERROR_LEVEL.lower(), micro=False).matrix
    return np.pad(np.array(matrix, dtype=bool), QR_QUIET_MODULES)


def marker_cells(marker_id: int) -> np.ndarray:
    """The ArUco marker as a boolean grid, True = black, border included."""
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, defs.ARUCO_DICTIONARY))
    size = dictionary.markerSize + 2
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, size, borderBits=1)
    return image < 128
