"""The one font used on everything printed: it must have every Vietnamese glyph.

ReportLab's built-in fonts lack most Vietnamese letters and drop missing
glyphs silently, so a TrueType font that covers them is embedded instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from sipas_scan.errors import MissingDependencyError

REGULAR = "SipasSans"
BOLD = "SipasSans-Bold"

# Debian's fonts-dejavu-core first (installed by the README's set-up), then
# Noto, then the copy matplotlib ships.
_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
)

# Every letter of the Vietnamese alphabet with every tone mark, both cases.
_VIETNAMESE_BASE = "aăâeêioôơuưy"
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def vietnamese_letters() -> str:
    import unicodedata

    letters = set("đĐ")
    for base in _VIETNAMESE_BASE:
        for letter in (base, base.upper()):
            letters.add(letter)
            for tone in _TONES:
                letters.add(unicodedata.normalize("NFC", letter + tone))
    return "".join(sorted(letters))


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path


def _matplotlib_candidate() -> tuple[str, str] | None:
    try:
        import matplotlib
    except ImportError:
        return None
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(folder / "DejaVuSans.ttf"), str(folder / "DejaVuSans-Bold.ttf")


def find_font_files() -> FontFiles:
    candidates = list(_CANDIDATES)
    extra = _matplotlib_candidate()
    if extra:
        candidates.append(extra)
    for regular, bold in candidates:
        if Path(regular).is_file() and Path(bold).is_file():
            return FontFiles(Path(regular), Path(bold))
    raise MissingDependencyError(
        "no font with Vietnamese glyphs found: install Debian's fonts-dejavu-core (apt-get install fonts-dejavu-core)"
    )


@functools.cache
def register_fonts() -> FontFiles:
    """Register the regular and bold faces with ReportLab (once per process)."""
    files = find_font_files()
    pdfmetrics.registerFont(TTFont(REGULAR, str(files.regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(files.bold)))
    return files


def missing_glyphs(text: str, font_name: str = REGULAR) -> set[str]:
    """Characters of ``text`` the registered font cannot draw."""
    register_fonts()
    face = pdfmetrics.getFont(font_name).face
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in face.charToGlyph}


def text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    register_fonts()
    from sipas_scan.defs import PT_PER_MM

    return pdfmetrics.stringWidth(text, BOLD if bold else REGULAR, size_pt) / PT_PER_MM
