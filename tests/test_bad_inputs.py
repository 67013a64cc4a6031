"""Bad inputs never stop a batch, never mislead: every bad file, folder and
link is named with its reason, a reader that dies costs one page, and a
quarantine whose cause can change is read again. Inputs are made here."""

import errno
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import pytest
from test_cli import run, run_scan

from conftest import TEST_SECRET
from sipas_scan.printing.codes import Secret
from sipas_scan.reading import pipeline, sources
from sipas_scan.reading.page import ReadOptions
from sipas_scan.reading.sources import SourceError, find_sources
from sipas_scan.scan import scan_inputs

AS_ROOT = os.geteuid() == 0  # chmod does not stop root from reading: simulate it


@pytest.fixture(scope="module")
def pages(first_form_pages):
    return first_form_pages


def _ledger(printed) -> Path:
    return printed[1].parent / "ledger.sqlite"


def _scan(printed, secret, inputs, db, workers=1, **kwargs):
    return scan_inputs(inputs, db, ReadOptions(secret, run_ocr=False), workers=workers, ledger_path=_ledger(printed), **kwargs)


def _png_bomb(path: Path, side: int = 40000) -> Path:
    """A real decompression bomb: side x side black-and-white pixels (200 MB
    decoded) in a few hundred kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )
    return path


def _tiff_bomb(path: Path, side: int = 40000) -> Path:
    """A TIFF whose header claims side x side pixels, a few bytes on disk."""
    strip = b"\x00" * 64
    tags = [
        (256, 4, side),
        (257, 4, side),
        (258, 3, 1),
        (259, 3, 32773),
        (262, 3, 0),
        (273, 4, 0),
        (277, 3, 1),
        (278, 4, side),
        (279, 4, len(strip)),
    ]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(tags) + 4
    ifd = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = data_at if tag == 273 else value
        ifd += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    path.write_bytes(b"II*\x00" + struct.pack("<I", ifd_at) + ifd + b"\x00\x00\x00\x00" + strip)
    return path


def _half_tiff(pages: Path, path: Path) -> Path:
    """A three-page TIFF cut in half (a copy interrupted)."""
    from PIL import Image

    frames = [Image.open(pages / f"page-{i}.png") for i in (1, 2, 3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _bad_name(folder: Path, source: Path) -> Path:
    """A copy of a good page under a name that is not valid UTF-8."""
    target = os.fsencode(folder) + b"/\xff\xfe-page.png"
    shutil.copyfile(source, target)
    return Path(os.fsdecode(target))


def _unreadable(path: Path, monkeypatch) -> None:
    """Permission denied: chmod 000, or for root (whom chmod does not stop) a
    refusal simulated where the file is first read."""
    if not AS_ROOT:
        path.chmod(0)
        return
    real = sources.file_sha256

    def refuse(candidate: Path) -> str:
        if Path(candidate).name == path.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(candidate))
        return real(candidate)

    monkeypatch.setattr(sources, "file_sha256", refuse)


def test_every_bad_file_gets_its_reason_and_the_batch_goes_on_every_run(printed, secret, pages, tmp_path, monkeypatch):
    batch = tmp_path / "batch"
    batch.mkdir()
    for index in (1, 2):
        shutil.copy(pages / f"page-{index}.png", batch / f"0{index}-good.png")
    _png_bomb(batch / "03-bomb.png")
    _tiff_bomb(batch / "04-bomb.tif")
    _half_tiff(pages, batch / "05-half.tif")
    _bad_name(batch, pages / "page-3.png")
    shutil.copy(pages / "page-4.png", batch / "06-locked.png")
    _unreadable(batch / "06-locked.png", monkeypatch)
    db = tmp_path / "r.db"
    first = _scan(printed, secret, [batch], db)
    assert first.pages_read == 2 and not first.quarantined  # both good pages, and only them
    failures = dict(first.failed_files)
    assert set(failures) == {
        str(batch / "03-bomb.png"),
        str(batch / "04-bomb.tif"),
        str(batch / "05-half.tif"),
        str(batch / "06-locked.png"),
        str(batch) + "/\\xff\\xfe-page.png",
    }, failures
    assert "too large" in failures[str(batch / "03-bomb.png")]
    assert "too large" in failures[str(batch / "04-bomb.tif")]
    assert "not a readable TIFF" in failures[str(batch / "05-half.tif")]
    assert "permission denied" in failures[str(batch / "06-locked.png")]
    assert "not valid UTF-8" in failures[str(batch) + "/\\xff\\xfe-page.png"]
    for path, reason in first.failed_files:
        assert "\n" not in reason and reason.startswith(path)
        path.encode("utf-8")  # printable as it is
    with sqlite3.connect(db) as con:
        stored = {r[0]: r[1] for r in con.execute("SELECT path, reason FROM source_failures")}
    assert stored[str(batch / "03-bomb.png")] == "image-too-large" and len(stored) == 5
    again = _scan(printed, secret, [batch], db)
    assert again.pages_read == 0 and again.files_skipped == 2
    assert dict(again.failed_files) == failures  # reported again, not forgotten


def test_scan_prints_a_name_that_is_not_utf8_and_carries_on(printed, pages, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(pages / "page-1.png", batch / "01-good.png")
    _bad_name(batch, pages / "page-2.png")
    _png_bomb(batch / "02-bomb.png")
    result = run_scan(tmp_path, "batch", "r.db", str(_ledger(printed)), "--workers", "1")
    assert result.returncode in (0, 3), result.stderr  # 3 once failed files make the exit status say so
    assert "Traceback" not in result.stderr and "Read 1 pages" in result.stdout
    assert "not read: batch/\\xff\\xfe-page.png: the file name is not valid UTF-8" in result.stdout
    assert "not read: batch/02-bomb.png: image too large" in result.stdout


def _deny_folder(folder: Path, monkeypatch) -> None:
    if not AS_ROOT:
        folder.chmod(0)
        return
    real = os.scandir

    def refuse(path):
        if Path(path) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(sources.os, "scandir", refuse)


def test_unreadable_folders_dangling_links_and_loops_are_listed_and_copies_read_once(printed, secret, pages, tmp_path, monkeypatch):
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    shutil.copy(pages / "page-1.png", batch / "01-page.png")
    shutil.copy(pages / "page-1.png", batch / "sub" / "01-page-copy.png")  # the same scan twice, another name
    (batch / "02-link.png").symlink_to(batch / "01-page.png")  # and once more, through a link
    (batch / "03-gone.png").symlink_to(tmp_path / "nowhere.png")
    (batch / "04-loop.png").symlink_to(batch / "04-loop.png")
    (batch / "sub" / "up").symlink_to(batch)  # a folder inside itself
    (batch / "private").mkdir()
    shutil.copy(pages / "page-2.png", batch / "private" / "hidden.png")
    _deny_folder(batch / "private", monkeypatch)
    found, problems = find_sources([batch])
    reasons = {str(p.relative_to(batch)): r for p, r in problems}
    assert reasons["03-gone.png"].startswith("dangling symbolic link")
    assert reasons["04-loop.png"] == "symbolic link loop"
    assert reasons["sub/up"].startswith("symbolic link loop")
    assert reasons["private"] == "folder cannot be read (permission denied)"
    assert len(reasons) == 4
    summary = _scan(printed, secret, [batch, batch / "01-page.png"], tmp_path / "r.db")
    (batch / "private").chmod(0o755)
    assert summary.pages_read == 1  # one scan under three names and a repeated argument: read once
    assert [(Path(p).name, Path(q).name) for p, q in summary.duplicates] == [("01-page-copy.png", "01-page.png")]
    assert {Path(p).name for p, _ in summary.failed_files} == {"03-gone.png", "04-loop.png", "up", "private"}


KILLER = """
import os, signal, sys
from pathlib import Path
from sipas_scan.printing.codes import Secret
from sipas_scan.reading import pipeline
from sipas_scan.reading.page import ReadOptions
from sipas_scan.scan import scan_inputs

batch, db, ledger, death, retry = sys.argv[1:]
real = pipeline.load_page

def load_or_die(source, index):  # runs in the worker, forked with this patch
    if source.path.name == "04-killer.png":
        if death == "exit":
            os._exit(1)  # a crash in native code
        os.kill(os.getpid(), signal.SIGKILL)  # the out-of-memory killer
    return real(source, index)

pipeline.load_page = load_or_die
s = scan_inputs([Path(batch)], Path(db), ReadOptions(Secret(os.environ["SIPAS_SECRET"].encode()),
                         run_ocr=False), workers=2, ledger_path=Path(ledger), retry_quarantined=retry == "retry")
print(s.pages_read, s.pages_retried, sorted(s.quarantined.items()))
for path, reason in s.failed_files:
    print("failed", path.rsplit("/", 1)[-1], "|", reason.replace(path, "").strip(": "))
for path, first in s.duplicates:
    print("duplicate", path.rsplit("/", 1)[-1])
"""


def _scan_with_a_killer(printed, batch: Path, db: Path, death: str, retry: str = "") -> str:
    """A fresh process (forking workers from one whose OpenCV threads ran
    can hang them) whose reader dies on 04-killer.png."""
    env = {**os.environ, "SIPAS_SECRET": TEST_SECRET}
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(batch), str(db), str(_ledger(printed)), death, retry],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# A worker that exits and one killed are noticed the same way (its pool
# breaks); the exit variant is left to `-m slow`.
@pytest.mark.parametrize("death", [pytest.param("exit", marks=pytest.mark.slow), "sigkill"])
def test_a_page_that_kills_its_worker_is_quarantined_and_the_batch_goes_on(printed, pages, tmp_path, death):
    batch = tmp_path / "batch"
    batch.mkdir()
    for index in (1, 2, 3):
        shutil.copy(pages / f"page-{index}.png", batch / f"0{index}-good.png")
    shutil.copy(pages / "page-4.png", batch / "04-killer.png")
    db = tmp_path / "r.db"
    assert _scan_with_a_killer(printed, batch, db, death).splitlines()[0] == "4 0 [('read-error', 1)]"
    with sqlite3.connect(db) as con:
        reason, detail = con.execute(
            "SELECT p.reason, p.detail FROM pages p JOIN sources s ON s.id = p.source_id WHERE s.path LIKE '%04-killer.png'"
        ).fetchone()
        assert con.execute("SELECT COUNT(*) FROM pages WHERE status = 'ok'").fetchone()[0] == 3
    assert reason == "read-error" and "reading process died" in detail and "\n" not in detail
    # Not read again by itself (it would kill a worker on every run) ...
    assert _scan_with_a_killer(printed, batch, db, death) == "0 0 []"
    # ... only when asked, and then it is quarantined again, not retried forever.
    assert _scan_with_a_killer(printed, batch, db, death, "retry").splitlines()[0] == "1 1 [('read-error', 1)]"


def test_every_bad_input_mixed_into_good_stacks_is_named_and_every_good_page_read(printed, pages, tmp_path):
    """Fault injection: the bad inputs of points 1-3 among good stacks, read
    in parallel; every good page is read, every bad input named."""
    batch = tmp_path / "batch"
    (batch / "stack-a").mkdir(parents=True)
    (batch / "stack-b").mkdir()
    for index in (1, 2):
        shutil.copy(pages / f"page-{index}.png", batch / "stack-a" / f"0{index}-good.png")
    shutil.copy(pages / "page-3.png", batch / "stack-b" / "03-good.png")
    shutil.copy(pages / "page-1.png", batch / "stack-b" / "01-again.png")  # the same scan again
    _png_bomb(batch / "stack-a" / "bomb.png")
    _tiff_bomb(batch / "stack-b" / "bomb.tif")
    _half_tiff(pages, batch / "stack-a" / "half.tif")
    _bad_name(batch / "stack-b", pages / "page-4.png")
    (batch / "stack-a" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (batch / "stack-b" / "loop.png").symlink_to(batch / "stack-b" / "loop.png")
    (batch / "stack-b" / "up").symlink_to(batch)
    shutil.copy(pages / "page-4.png", batch / "stack-b" / "04-killer.png")
    lines = _scan_with_a_killer(printed, batch, tmp_path / "r.db", "sigkill").splitlines()
    assert lines[0] == "4 0 [('read-error', 1)]"  # three good pages and the killer's quarantine
    named = {line.split(" | ")[0].split(" ", 1)[1] for line in lines[1:] if line.startswith("failed")}
    assert named == {"bomb.png", "bomb.tif", "half.tif", "\\xff\\xfe-page.png", "gone.png", "loop.png", "up"}
    assert [line for line in lines if line.startswith("duplicate")] == ["duplicate 01-again.png"]


def test_a_wrong_secret_says_so_and_the_right_one_reads_the_pages_again(printed, secret, pages, tmp_path):
    batch = tmp_path / "batch"
    shutil.copytree(pages, batch)
    db = tmp_path / "r.db"
    wrong = _scan(printed, Secret(b"not-the-secret-the-forms-were-printed-with"), [batch], db)
    assert wrong.quarantined == {"forged-code": 4} and wrong.wrong_secret
    right = _scan(printed, secret, [batch], db)
    assert right.pages_read == 4 and right.pages_retried == 4 and not right.quarantined and not right.wrong_secret
    assert sum(right.forms.values()) == 1
    assert _scan(printed, secret, [batch], db).pages_read == 0  # read once verified: not again
    # Still the wrong secret on a second try: said again.
    other = tmp_path / "other.db"
    for _ in range(2):
        assert _scan(printed, Secret(b"not-the-secret-the-forms-were-printed-with"), [batch], other).wrong_secret


def test_a_forged_page_read_again_beside_verified_ones_is_no_wrong_secret(printed, secret, pages, forged_page, tmp_path):
    batch = tmp_path / "batch"
    shutil.copytree(pages, batch)
    cv2.imwrite(str(batch / "forged.png"), forged_page)
    db = tmp_path / "r.db"
    first = _scan(printed, secret, [batch], db)
    assert first.quarantined == {"forged-code": 1} and first.verified == 4 and not first.wrong_secret
    # The forged page is read again on the next run (its cause might have changed) and fails alone: a forgery
    # beside pages that verified before, not a wrong secret.
    again = _scan(printed, secret, [batch], db)
    assert again.pages_read == again.pages_retried == 1 and again.quarantined == {"forged-code": 1}
    assert not again.wrong_secret


def test_a_wrong_secret_exits_non_zero_from_the_command_line(printed, pages, tmp_path):
    shutil.copytree(pages, tmp_path / "batch")
    wrong = "a-wrong-secret-of-enough-length"
    args = ("scan", "batch", "--db", "r.db", "--ledger", str(_ledger(printed)), "--no-ocr", "--workers", "1")
    result = run(*args, cwd=tmp_path, env_secret=wrong)
    assert result.returncode == 6 and "wrong secret?" in result.stderr
    assert wrong not in result.stdout + result.stderr
    fixed = run(*args, cwd=tmp_path, env_secret=TEST_SECRET)
    assert fixed.returncode == 0, fixed.stderr
    assert "Read 4 pages" in fixed.stdout and "read again: 4" in fixed.stdout
    assert TEST_SECRET not in fixed.stdout + fixed.stderr


def test_a_page_that_could_not_be_decoded_is_read_again_on_the_next_run(printed, secret, pages, tmp_path, monkeypatch):
    batch = tmp_path / "batch"
    shutil.copytree(pages, batch)

    def vanished(source, index):  # the file was moved away while the run read it
        raise SourceError("unreadable-page", f"{source.path} page {index + 1}: cannot decode the image")

    monkeypatch.setattr(pipeline, "load_page", vanished)
    db = tmp_path / "r.db"
    assert _scan(printed, secret, [batch], db).quarantined == {"unreadable-page": 4}
    monkeypatch.undo()
    again = _scan(printed, secret, [batch], db)
    assert again.pages_read == 4 and not again.quarantined


def test_a_quarantine_a_reviewer_decided_is_not_read_again(printed, secret, pages, tmp_path):
    from sipas_scan.assembly.decisions import REJECTED, quarantine_key
    from sipas_scan.store.db import Store

    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(pages / "page-1.png", batch / "p.png")
    db = tmp_path / "r.db"
    _scan(printed, Secret(b"not-the-secret-the-forms-were-printed-with"), [batch], db)
    with Store(db) as store:
        page_id = store.db.execute("SELECT id FROM pages").fetchone()[0]
        store.add_decision("", "", quarantine_key(page_id), None, REJECTED, "tester")
    assert _scan(printed, secret, [batch], db).pages_read == 0
