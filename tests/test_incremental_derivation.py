"""A scan derives only the forms whose pages it stored, forgot or assigned,
and what it derives is what one scan of everything gives: batches in any
order, a form split across two batches, a run killed between storing its
pages and deriving them, a ledger given only to a later run."""

import shutil
from pathlib import Path

import pytest

from conftest import write_grey_pages
from sipas_scan.assembly import derive
from sipas_scan.reading.page import ReadOptions
from sipas_scan.scan import scan_inputs
from sipas_scan.store.db import Store

PAGES_PER_FORM = 4


@pytest.fixture(scope="module")
def pages(printed, tmp_path_factory) -> list[Path]:
    """The session's three printed forms, one PNG per page, in form order."""
    summary, print_dir = printed
    folder = write_grey_pages(print_dir / "forms.pdf", tmp_path_factory.mktemp("incremental"), summary.pages, "p{:02d}.png")
    return sorted(folder.glob("p*.png"))


@pytest.fixture(scope="module")
def all_at_once(pages, printed, secret, tmp_path_factory) -> dict:
    """What one scan of every page derives."""
    db = tmp_path_factory.mktemp("once") / "r.sqlite"
    batch = _batch(db.parent / "all", pages)
    scan_inputs([batch], db, ReadOptions(secret, run_ocr=False), workers=1, ledger_path=_ledger(printed))
    return derived(db)


def _ledger(printed) -> Path:
    return printed[1].parent / "ledger.sqlite"


def _batch(folder: Path, pages: list[Path]) -> Path:
    folder.mkdir(parents=True)
    for page in pages:
        shutil.copy(page, folder / page.name)
    return folder


def derived(db: Path) -> dict:
    """The derived tables, without what differs between databases by
    construction (page ids, which decision a derivation saw)."""
    with Store(db) as store:
        return {
            "forms": store.db.rows(
                "SELECT survey, serial, status, household_code, province, village, issued FROM forms ORDER BY serial"
            ),
            "answers": store.db.rows("SELECT serial, field_id, value, confidence FROM answers ORDER BY serial, field_id"),
            "flags": store.db.rows(
                "SELECT serial, field_id, reason, detail, blocking, page_no, item FROM flags ORDER BY serial, field_id, reason, detail"
            ),
            "pending": store.pending_forms(100),
        }


@pytest.fixture
def assembled(monkeypatch) -> list[set[str]]:
    """The serials each derivation assembled."""
    calls: list[set[str]] = []
    real = derive.assemble

    def recording(pages, *args):
        calls.append({page.serial for page in pages})
        return real(pages, *args)

    monkeypatch.setattr(derive, "assemble", recording)
    return calls


def _scan(batch: Path, db: Path, secret, ledger: Path | None):
    return scan_inputs([batch], db, ReadOptions(secret, run_ocr=False), workers=1, ledger_path=ledger)


def test_a_batch_derives_only_its_own_forms_and_the_result_is_one_scans(pages, printed, secret, tmp_path, all_at_once, assembled):
    db = tmp_path / "r.sqlite"
    first = _scan(_batch(tmp_path / "one", pages[: 2 * PAGES_PER_FORM]), db, secret, _ledger(printed))
    assert sum(first.forms.values()) == 2
    serials_before = {serial for call in assembled for serial in call}
    assembled.clear()
    second = _scan(_batch(tmp_path / "two", pages[2 * PAGES_PER_FORM :]), db, secret, _ledger(printed))
    # The second batch assembled its one form, none of the two stored before.
    assert len(assembled) == 1 and len(assembled[0]) == 1 and not assembled[0] & serials_before
    assert sum(second.forms.values()) == 1 and sum(second.forms_stored.values()) == 3
    assert derived(db) == all_at_once
    # A batch with nothing new derives nothing.
    assembled.clear()
    again = _scan(tmp_path / "two", db, secret, _ledger(printed))
    assert assembled == [] and sum(again.forms.values()) == 0 and sum(again.forms_stored.values()) == 3


def test_a_form_split_across_two_batches_is_derived_again_by_the_second(pages, printed, secret, tmp_path, all_at_once):
    db = tmp_path / "r.sqlite"
    # The first form's last page comes in the second batch (a page rescanned alone).
    _scan(_batch(tmp_path / "one", pages[: PAGES_PER_FORM - 1]), db, secret, _ledger(printed))
    with Store(db) as store:
        assert "missing-page" in {r for (r,) in store.db.query("SELECT reason FROM flags")}
    second = _scan(_batch(tmp_path / "two", pages[PAGES_PER_FORM - 1 :]), db, secret, _ledger(printed))
    assert sum(second.forms.values()) == 3
    assert derived(db) == all_at_once


def test_a_run_killed_after_storing_its_pages_leaves_its_forms_to_the_next(pages, printed, secret, tmp_path, all_at_once, monkeypatch):
    db = tmp_path / "r.sqlite"
    batch = _batch(tmp_path / "all", pages)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("sipas_scan.scan.derive_pending", killed)
        with pytest.raises(KeyboardInterrupt):
            _scan(batch, db, secret, _ledger(printed))
    with Store(db) as store:
        assert store.pending_count() == 3 and store.db.query("SELECT count(*) FROM forms").scalar() == 0
    rerun = _scan(batch, db, secret, _ledger(printed))
    assert rerun.pages_read == 0 and sum(rerun.forms.values()) == 3
    assert derived(db) == all_at_once


def test_forms_derived_without_a_ledger_are_derived_again_when_one_is_given(pages, printed, secret, tmp_path, all_at_once):
    db = tmp_path / "r.sqlite"
    batch = _batch(tmp_path / "all", pages)
    _scan(batch, db, secret, None)
    assert all(row[3] == "" for row in derived(db)["forms"])  # no household without a ledger
    again = _scan(batch, db, secret, _ledger(printed))
    assert sum(again.forms.values()) == 3
    assert derived(db) == all_at_once


def test_a_decision_taken_outside_the_review_app_is_derived_by_the_next_scan(pages, printed, secret, tmp_path):
    from sipas_scan.assembly import decisions as keys

    db = tmp_path / "r.sqlite"
    batch = _batch(tmp_path / "all", pages)
    _scan(batch, db, secret, _ledger(printed))
    with Store(db) as store:
        survey, serial = store.db.query("SELECT survey, serial FROM forms ORDER BY serial LIMIT 1").one()
        store.add_decision(survey, serial, keys.FORM, None, keys.REJECTED, "boss")
        assert store.pending_forms(10) == [(survey, serial)]
    rescan = _scan(batch, db, secret, _ledger(printed))
    assert dict(rescan.forms) == {"rejected": 1}
    assert derived(db)["pending"] == []
