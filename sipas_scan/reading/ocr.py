"""The one wrapper around Tesseract (Vietnamese).

tesserocr keeps one Tesseract instance per process (about 5 ms a crop);
pytesseract starts a process per call (75-106 ms, measured on 2 cores) and is the
fallback when tesserocr is not importable. Both need the 'vie' language data.
"""

from __future__ import annotations

import functools
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from sipas_scan.errors import MissingDependencyError

log = logging.getLogger(__name__)

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata")
LANGUAGE = "vie"


@dataclass(frozen=True)
class OcrResult:
    text: str
    word_confidences: tuple[int, ...]

    @property
    def mean_confidence(self) -> float:
        return float(np.mean(self.word_confidences)) if self.word_confidences else 0.0


@functools.cache
def tessdata_dir() -> str:
    for folder in TESSDATA_DIRS:
        if (Path(folder) / f"{LANGUAGE}.traineddata").is_file():
            return folder
    raise MissingDependencyError("Tesseract's Vietnamese language data is missing: apt-get install tesseract-ocr-vie")


@functools.cache
def _tesserocr_api():
    import tesserocr

    return tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=LANGUAGE, psm=tesserocr.PSM.SINGLE_BLOCK)


@functools.cache
def _engine() -> str:
    try:
        import tesserocr  # noqa: F401

        return "tesserocr"
    except ImportError:
        if shutil.which("tesseract") is None:
            raise MissingDependencyError("Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-vie") from None
        return "pytesseract"


def recognise(gray: np.ndarray) -> OcrResult:
    """Text and per-word confidences (0-100) of a greyscale crop (dark text on white)."""
    engine = _engine()
    image = Image.fromarray(gray)
    if engine == "tesserocr":
        api = _tesserocr_api()
        api.SetImage(image)
        text = api.GetUTF8Text()
        confidences = tuple(int(c) for c in api.AllWordConfidences())
    else:
        import pytesseract

        data = pytesseract.image_to_data(
            image, lang=LANGUAGE, config=f"--psm 6 --tessdata-dir {tessdata_dir()}", output_type=pytesseract.Output.DICT
        )
        words = [(w, int(float(c))) for w, c in zip(data["text"], data["conf"], strict=True) if w.strip()]
        text = " ".join(w for w, _ in words)
        confidences = tuple(c for _, c in words)
    return OcrResult(" ".join(text.split()), confidences)
