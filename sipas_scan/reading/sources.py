"""Input files -> page images, one page at a time.

A scanner's PDF holds one image per page: that image is taken out (decoded
by pdfium) rather than rendered again; pages without a single image are
rendered at 200 dpi. Multi-page TIFFs are read frame by frame, PNG and JPEG
as one page. Nothing here holds more than one page's pixels.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, UnidentifiedImageError

from sipas_scan import defs
from sipas_scan.errors import InputFileError, ReasonedError

PDF_SUFFIXES = {".pdf"}
TIFF_SUFFIXES = {".tif", ".tiff"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
SUFFIXES = PDF_SUFFIXES | TIFF_SUFFIXES | IMAGE_SUFFIXES
RENDER_DPI = 200
MIN_PLAUSIBLE_DPI = 100.0  # a stated resolution outside these is no scanner's: the page's size tells it
MAX_PLAUSIBLE_DPI = 1200.0
MAX_PIXELS = 120_000_000  # ~ A3 at 600 dpi in colour: anything bigger is not a scan of a form
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# What Pillow raises on a damaged or hostile file (a TIFF cut in half fails
# with TypeError, a bomb with DecompressionBombError): all mean "cannot read".
IMAGE_ERRORS = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    ValueError,
    TypeError,
    EOFError,
    SyntaxError,
    IndexError,
    struct.error,
)


@contextmanager
def _pillow_quiet():
    """Pillow's warnings about a damaged file (corrupt EXIF, a large image)
    are not errors: what it cannot read it raises, and size is checked here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class SourceError(ReasonedError, InputFileError):
    """A file or one of its pages that cannot be read."""


@dataclass(frozen=True)
class Source:
    path: Path
    sha256: str
    size: int
    kind: str  # pdf | tiff | image


@dataclass(frozen=True)
class PageImage:
    gray: np.ndarray  # (H, W) uint8
    dpi: float  # as the file says, or estimated from the page size


def printable(path: Path | str) -> str:
    """A file name as one line of valid text whatever its bytes: a name that
    is not UTF-8 keeps its bad bytes as \\xff escapes, control characters
    (a newline in a name) are escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _why_not(path: Path, exc: OSError) -> str:
    """Why a file or folder cannot be reached, in a few words."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        if path.is_symlink():
            return f"dangling symbolic link (to {printable(path.readlink())})"
        return "no such file or folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def find_sources(inputs: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to read (folders searched recursively, in name order, following
    symbolic links) and, with a reason each, what could not be reached: inputs
    that are not there, folders that cannot be read, dangling symbolic links,
    symbolic link loops. Nothing is skipped without a word."""
    found: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for item in inputs:
        mode = _mode(item, problems)
        if mode is None:
            continue
        if stat.S_ISDIR(mode):
            inside: list[Path] = []
            _walk(item, inside, problems, set())
            found.extend(sorted(inside))
        elif stat.S_ISREG(mode):
            found.append(item)
        else:
            problems.append((item, "not a regular file or folder"))
    return found, problems


def _mode(path: Path, problems: list[tuple[Path, str]]) -> int | None:
    """The file mode ``path`` leads to (through links), or None with the
    reason recorded (missing, dangling link, link loop, no permission)."""
    try:
        return path.stat().st_mode
    except OSError as exc:
        problems.append((path, _why_not(path, exc)))
        return None


def _walk(folder: Path, found: list[Path], problems: list[tuple[Path, str]], ancestors: set[tuple[int, int]]) -> None:
    try:
        info = folder.stat()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        problems.append((folder, f"folder cannot be read ({_why_not(folder, exc)})"))
        return
    key = (info.st_dev, info.st_ino)
    if key in ancestors:  # a link back to a folder above: walking it would never end
        problems.append((folder, "symbolic link loop (a folder linked inside itself)"))
        return
    ancestors.add(key)
    for entry in entries:
        path = Path(entry.path)
        mode = _mode(path, problems)
        if mode is None:
            continue
        if stat.S_ISDIR(mode):
            _walk(path, found, problems, ancestors)
        elif stat.S_ISREG(mode) and path.suffix.lower() in SUFFIXES:
            found.append(path)
    ancestors.discard(key)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_source(path: Path) -> tuple[Source, int]:
    """Identify a file and count its pages; raises SourceError with a
    one-line reason that names the file printably."""
    name = printable(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError("unreadable", f"{name}: cannot read ({_why_not(path, exc)})") from None
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise SourceError("bad-file-name", f"{name}: the file name is not valid UTF-8: rename the file") from None
    if size == 0:
        raise SourceError("empty-file", f"{name}: empty file (0 bytes)")
    try:
        sha = file_sha256(path)
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SourceError("unreadable", f"{name}: cannot read ({_why_not(path, exc)})") from None
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF") or suffix in PDF_SUFFIXES:
        return Source(path, sha, size, "pdf"), _pdf_page_count(path)
    if head[:4] in (b"II*\x00", b"MM\x00*") or suffix in TIFF_SUFFIXES:
        return Source(path, sha, size, "tiff"), _tiff_page_count(path)
    if suffix in IMAGE_SUFFIXES or head.startswith((b"\x89PNG", b"\xff\xd8")):
        try:
            with _pillow_quiet(), Image.open(path) as image:
                _check_size(*image.size, name)
                image.verify()
        except Image.DecompressionBombError:
            raise SourceError("image-too-large", f"{name}: image too large for a scanned page") from None
        except IMAGE_ERRORS as exc:
            raise SourceError("not-an-image", f"{name}: not a PDF, TIFF, PNG or JPEG file ({type(exc).__name__}: {exc})") from None
        return Source(path, sha, size, "image"), 1
    raise SourceError("not-an-image", f"{name}: not a PDF, TIFF, PNG or JPEG file")


PAGES_PER_OPEN = 32
_open_pdf: dict[str, tuple[pdfium.PdfDocument, int]] = {}


def _pdf(path: str) -> pdfium.PdfDocument:
    """The open document, reopened every PAGES_PER_OPEN pages: pdfium keeps
    the image streams it has parsed for as long as the document is open, so a
    2,000-page scan would otherwise end up in memory."""
    document, uses = _open_pdf.get(path, (None, 0))
    if document is None or uses >= PAGES_PER_OPEN:
        if document is not None:
            document.close()
        for other, (stale, _) in list(_open_pdf.items()):
            if other != path:
                stale.close()
                del _open_pdf[other]
        document, uses = _open(path), 0
    _open_pdf[path] = (document, uses + 1)
    return document


def _open(path: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_raw.FPDF_ERR_PASSWORD:
            raise SourceError("password-protected", f"{printable(path)}: the PDF is password-protected") from None
        raise SourceError("corrupt-pdf", f"{printable(path)}: not a readable PDF ({exc})") from None


def _pdf_page_count(path: Path) -> int:
    document = _open(str(path))
    count = len(document)
    document.close()
    if count == 0:
        raise SourceError("corrupt-pdf", f"{printable(path)}: the PDF has no pages")
    return count


def _tiff_page_count(path: Path) -> int:
    try:
        with _pillow_quiet(), Image.open(path) as image:
            _check_size(*image.size, printable(path))
            return getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        raise SourceError("image-too-large", f"{printable(path)}: image too large for a scanned page") from None
    except IMAGE_ERRORS as exc:
        raise SourceError("corrupt-image", f"{printable(path)}: not a readable TIFF ({type(exc).__name__}: {exc})") from None


def _to_gray(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        return array if array.dtype == np.uint8 else (array > 0).astype(np.uint8) * 255
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)


def _gray_8bit(image: Image.Image) -> np.ndarray:
    """The image as 8-bit grey (H, W). A scanner set to "16-bit" grey writes
    0..65535, which Pillow's own conversion clips to white above 255 (every
    page blank): such samples are scaled down instead. Transparency is laid
    on white paper."""
    if image.mode.startswith("I;16") or image.mode == "I":
        wide = np.asarray(image)  # uint16 (I;16...) or int32 (I): no wider copy of a whole page
        if image.mode == "I" and wide.max(initial=0) <= 255:  # 8-bit values in a wide mode
            return np.clip(wide, 0, 255).astype(np.uint8)
        return (np.clip(wide, 0, 65535) >> 8).astype(np.uint8)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent paper is paper, whatever colour its hidden samples hold
        # (often black): laid on white first.
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return np.asarray(image.convert("L"))


def _stated_dpi(stated: object) -> float:
    """The resolution a file states, or 0 where it states none or one no
    scanner uses (files written without a unit say 1 or 72)."""
    try:
        dpi = float(stated[0])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return 0.0
    return dpi if MIN_PLAUSIBLE_DPI <= dpi <= MAX_PLAUSIBLE_DPI else 0.0


def _estimate_dpi(shape: tuple[int, int]) -> float:
    """From an A4-ish page's longer side (297 mm)."""
    return max(shape) / (defs.PAGE_HEIGHT_MM / defs.MM_PER_INCH)


def _check_size(width: int, height: int, where: str) -> None:
    if width * height > MAX_PIXELS:
        raise SourceError("image-too-large", f"{where}: image of {width}x{height} pixels is too large for a scanned page")


def load_page(source: Source, index: int) -> PageImage:
    """Page ``index`` (0-based) of a source as greyscale."""
    where = f"{printable(source.path)} page {index + 1}"
    try:
        if source.kind == "pdf":
            page = _pdf(str(source.path))[index]
            try:
                return _pdf_page_image(page, where)
            finally:
                page.close()  # pdfium keeps a page parsed until closed: memory would grow with the file
        with _pillow_quiet(), Image.open(source.path) as image:
            if source.kind == "tiff":
                image.seek(index)  # straight to the frame: walking the sequence is O(pages) per page
            _check_size(*image.size, where)
            gray = _gray_8bit(image)
            dpi = _stated_dpi(image.info.get("dpi"))
        return PageImage(gray, dpi or _estimate_dpi(gray.shape))
    except SourceError:
        raise
    except Image.DecompressionBombError:
        raise SourceError("image-too-large", f"{where}: image too large for a scanned page") from None
    except (*IMAGE_ERRORS, pdfium.PdfiumError) as exc:
        raise SourceError("unreadable-page", f"{where}: cannot decode the image ({type(exc).__name__}: {exc})") from None


def reopen_page(path: Path, index: int, sha256: str) -> PageImage:
    """Page ``index`` of a file read before, opened again: it must still be
    the very file read (its SHA-256 ``sha256``). Raises SourceError, reason
    ``changed`` when it is not, else why it cannot be read."""
    try:
        source, _ = open_source(path)
        image = load_page(source, index)
    except OSError as exc:
        raise SourceError("unreadable", f"{printable(path)}: {exc}") from None
    if source.sha256 != sha256:
        raise SourceError("changed", f"{printable(path)}: changed since it was read")
    return image


def _pdf_page_image(page: pdfium.PdfPage, where: str) -> PageImage:
    images = [o for o in page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    width_pt = page.get_width()
    if len(images) == 1:
        px_w, px_h = images[0].get_px_size()
        _check_size(px_w, px_h, where)
        dpi = px_w / (width_pt / 72) if width_pt else _estimate_dpi((px_h, px_w))
        a, b, c, d, _, _ = images[0].get_matrix().get()
        if images[0].get_metadata().colorspace == pdfium.raw.FPDF_COLORSPACE_UNKNOWN or a * d - b * c < 0:
            # A stencil mask (a black-and-white scan stored as "paint the
            # page's colour here") has no colours of its own: taken out
            # alone it reads inverted. An image stored bottom-up and drawn
            # mirrored reads as a mirror image. Both are drawn, as a viewer
            # draws them, at the scan's own resolution.
            return PageImage(_rendered(page, dpi), dpi)
        # pdfium hands colour as BGR; for paper and ink the grey conversion barely differs.
        gray = _to_gray(np.asarray(images[0].get_bitmap(render=False).to_numpy()))
        return PageImage(np.ascontiguousarray(gray), dpi)
    _check_size(int(width_pt / 72 * RENDER_DPI), int(page.get_height() / 72 * RENDER_DPI), where)
    return PageImage(_rendered(page, RENDER_DPI), RENDER_DPI)


def _rendered(page: pdfium.PdfPage, dpi: float) -> np.ndarray:
    """The page drawn in grey at ``dpi``."""
    rendered = page.render(scale=dpi / 72, grayscale=True).to_numpy()
    return np.ascontiguousarray(rendered[..., 0] if rendered.ndim == 3 else rendered)
