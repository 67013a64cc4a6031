import csv
import functools
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest

from sipas_scan.printing.codes import Secret

TEST_SECRET = "tests-own-secret-not-for-production"  # each test run makes its own; never a real key


@pytest.fixture(scope="session", autouse=True)
def password_hashes_computed_once():
    """scrypt takes a tenth of a second a call, by design; the review tests
    add the same few accounts and log in hundreds of times. A password and
    hash give the same answer every time, so the real functions run once
    for each (cached for the session; new salts only for new passwords)."""
    from sipas_scan.review import accounts

    patch = pytest.MonkeyPatch()
    patch.setattr(accounts, "generate_password_hash", functools.lru_cache(maxsize=None)(accounts.generate_password_hash))
    patch.setattr(accounts, "check_password_hash", functools.lru_cache(maxsize=None)(accounts.check_password_hash))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def secret() -> Secret:
    return Secret(TEST_SECRET.encode())


def write_households(path: Path, rows: list[dict]) -> Path:
    columns = ["province", "district", "commune", "village", "household_code", "head_name", "address"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def make_households(n: int, villages: int = 2) -> list[dict]:
    return [
        {
            "province": "Lạng Sơn",
            "district": "Huyện Cao Lộc",
            "commune": "Xã Hợp Thành",
            "village": f"Thôn Bản Vằn {v + 1}",
            "household_code": f"HGD{i:04d}",
            "head_name": f"Hoàng Thị Ước {i}",
            "address": f"Số {i}, đường Lê Lợi",
        }
        for i in range(n)
        for v in [i % villages]
    ]


@pytest.fixture(scope="session")
def printed(tmp_path_factory, secret):
    """A small batch of the standard household form, printed once per session."""
    from sipas_scan.printing.batch import print_batch

    root = tmp_path_factory.mktemp("printed")
    households = write_households(root / "households.csv", make_households(3))
    summary = print_batch(None, households, root / "print", secret, root / "ledger.sqlite", workers=1)
    return summary, root / "print"


def rasterize(pdf: Path, dpi: int, first: int | None = None, last: int | None = None) -> list[np.ndarray]:
    """Pages of a PDF as greyscale arrays, via poppler's pdftoppm."""
    out = Path(tempfile.mkdtemp(prefix=f"raster-{dpi}-", dir=pdf.parent))
    command = ["pdftoppm", "-r", str(dpi), "-gray", "-png"]
    if first:
        command += ["-f", str(first)]
    if last:
        command += ["-l", str(last)]
    subprocess.run([*command, str(pdf), str(out / "p")], check=True)
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(out.glob("p-*.png"))]


@pytest.fixture(scope="session")
def office_scan(tmp_path_factory, secret):
    """Eight printed forms, returned as an office scans them (seed 8: a
    photocopy, a forged form, a stray page, a missing page, pages out of
    order, two marks, too many marks, comments), scanned once per session.
    Tests copy the database before changing it."""
    from sipas_scan.printing.batch import print_batch
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.scan import scan_inputs
    from sipas_scan.simulate.stacks import simulate_returns

    root = tmp_path_factory.mktemp("office")
    households = write_households(root / "households.csv", make_households(8))
    print_batch(None, households, root / "print", secret, root / "ledger.sqlite", workers=1)
    simulate_returns(root / "print", root / "sim", seed=8, profile="office", workers=1)
    scan_inputs(
        [root / "sim" / "scans"],
        root / "results.sqlite",
        ReadOptions(secret, run_ocr=False),
        workers=1,
        ledger_path=root / "ledger.sqlite",
    )
    return root


def copy_database(source: Path, target_dir: Path) -> Path:
    """A private copy of a results database and its page images."""

    target = target_dir / source.name
    shutil.copy(source, target)
    if source.with_name(source.name + ".pages").is_dir():  # images beside the file (an older version's)
        shutil.copytree(source.with_name(source.name + ".pages"), target.with_name(target.name + ".pages"))
    return target


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL server for the session (skipped where none is installed)."""
    from pgcluster import Cluster, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with Cluster.temporary() as cluster:
        yield cluster


def grey_page(pdf: Path, index: int, dpi: int = 200) -> np.ndarray:
    """Page ``index`` of a printed PDF, rasterised as a clean greyscale scan."""
    from sipas_scan.simulate.paper import printed_page

    return cv2.cvtColor(printed_page(pdf, index, dpi), cv2.COLOR_RGB2GRAY)


def write_grey_pages(pdf: Path, folder: Path, count: int, name: str = "page-{}.png") -> Path:
    """The PDF's first ``count`` pages as PNG files named ``name`` (page number 1..)."""
    for index in range(count):
        cv2.imwrite(str(folder / name.format(index + 1)), grey_page(pdf, index))
    return folder


@pytest.fixture(scope="session")
def first_form_pages(printed, tmp_path_factory) -> Path:
    """The first printed form's four pages as PNG files at 200 dpi, made once."""
    _, print_dir = printed
    return write_grey_pages(print_dir / "forms.pdf", tmp_path_factory.mktemp("first-form"), 4)


@pytest.fixture(scope="session")
def forged_page(tmp_path_factory) -> np.ndarray:
    """Page 1 of a genuine-looking form whose code another secret signed."""
    from sipas_scan.printing.batch import print_batch

    root = tmp_path_factory.mktemp("forged")
    households = write_households(root / "h.csv", make_households(1))
    print_batch(None, households, root / "print", Secret(b"another-secret-1234"), root / "ledger.sqlite", workers=1)
    return grey_page(root / "print" / "forms.pdf", 0)


def same_as_one_sqlite_scan(url: str, office_scan: Path, tmp_path: Path) -> None:
    """Records and flags exported from ``url`` are those of the session's
    one scan into SQLite; every page stored once, nothing left pending or held."""
    from sipas_scan.export import export_flags, export_records
    from sipas_scan.store.db import Store

    for name, db in (("sqlite", office_scan / "results.sqlite"), ("postgresql", url)):
        export_records(db, tmp_path / f"{name}.csv")
        export_flags(db, tmp_path / f"{name}-flags.csv")
    assert (tmp_path / "postgresql.csv").read_bytes() == (tmp_path / "sqlite.csv").read_bytes()

    def without_page_references(path: Path) -> list[list[str]]:
        # Which page a flag points at differs only by id and by image name (the same content).
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [row[:6] for row in csv.reader(handle)]

    assert without_page_references(tmp_path / "postgresql-flags.csv") == without_page_references(tmp_path / "sqlite-flags.csv")
    with Store(url) as pg, Store(office_scan / "results.sqlite") as lite:
        count = "SELECT count(*), count(DISTINCT source_id || ':' || page_index) FROM pages"
        assert pg.db.query(count).one() == lite.db.query(count).one()
        assert pg.pending_count() == 0 and pg.db.query("SELECT count(*) FROM claims").scalar() == 0


def one_bit_pdf(path: Path, black: np.ndarray, dpi: float, *, stencil: bool, bottom_up: bool = False) -> Path:
    """A PDF of one black-and-white scan (``black``: True where ink) at ``dpi``: an ordinary grey image
    whose Decode array says 1 is black, or a stencil mask (ImageMask: paint
    the page's colour, black, where a sample is 0), as PDF tools store
    black-and-white scans; ``bottom_up``: its rows stored last first, the
    image drawn mirrored."""
    pdf = pikepdf.new()
    height, width = black.shape
    stored = black[::-1] if bottom_up else black
    image = pikepdf.Stream(pdf, zlib.compress(np.packbits(~stored if stencil else stored, axis=1).tobytes()))
    image.Type, image.Subtype, image.Filter = pikepdf.Name.XObject, pikepdf.Name.Image, pikepdf.Name.FlateDecode
    image.Width, image.Height, image.BitsPerComponent = width, height, 1
    if stencil:
        image.ImageMask = True
    else:
        image.ColorSpace, image.Decode = pikepdf.Name.DeviceGray, pikepdf.Array([1, 0])
    w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, w_pt, h_pt],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        # Stored bottom-up, drawn mirrored top to bottom: the page looks right.
        Contents=pikepdf.Stream(
            pdf, (f"q {w_pt} 0 0 -{h_pt} 0 {h_pt} cm" if bottom_up else f"q {w_pt} 0 0 {h_pt} 0 0 cm").encode() + b" /Im0 Do Q"
        ),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path
