"""The results store on both engines: a SQLite file and a PostgreSQL server
(the session's throw-away cluster, see pgcluster.py); `db upgrade` of a file
written before Alembic; `db copy` of a SQLite file into PostgreSQL; a scan
into PostgreSQL exporting what a scan into SQLite exports."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import TEST_SECRET, same_as_one_sqlite_scan
from sipas_scan.assembly.forms import Flag, FormRecord
from sipas_scan.printing.households import Household
from sipas_scan.reading.marks import FieldReading
from sipas_scan.reading.page import PageResult
from sipas_scan.records import FormStatus
from sipas_scan.scoring.compute import score
from sipas_scan.scoring.records_in import read_records
from sipas_scan.scoring.write import write_indices
from sipas_scan.store import accounts, migrate, qc, queue, results
from sipas_scan.store.copy import copy_database, row_counts, table_rows
from sipas_scan.store.db import MIGRATIONS, Store, StoreError
from sipas_scan.store.engine import database_url, dispose_engines
from sipas_scan.store.migrate import head, sqlite_user_version
from sipas_scan.store.schema import metadata
from sipas_scan.survey import load_survey


def new_pg_database(cluster) -> str:
    return cluster.create_database(f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path, monkeypatch) -> str | Path:
    """A new, empty results database on each engine."""
    monkeypatch.chdir(tmp_path)  # a server database keeps its page images in the working folder
    if request.param == "sqlite":
        return tmp_path / "r.sqlite"
    url = new_pg_database(request.getfixturevalue("postgres_cluster"))
    request.addfinalizer(dispose_engines)
    return url


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipas_scan", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def _page(serial: str, page_no: int, value: str = "1") -> PageResult:
    field = FieldReading(field_id="a1", value=value, confidence=0.9375)
    return PageResult(
        "ok",
        survey="sipas-household",
        serial=serial,
        page_no=page_no,
        residual_mm=0.125,
        dpi=200.0,
        fields=[field],
        image_jpeg=b"\xff\xd8 not a real jpeg",
    )


def test_the_store_works_alike_on_both_engines(location):
    with Store(location) as store:
        # Sources, claims and pages.
        source = store.add_source(Path("stack-1.pdf"), "sha-1", 10, "pdf", 3)
        assert store.add_source(Path("stack-1.pdf"), "sha-1", 10, "pdf", 3) == source  # added once
        assert store.claim_source("sha-1", "run-a") is None
        assert store.claim_source("sha-1", "run-a") is None  # already ours
        first = store.add_page(source, 0, _page("000001", 1))
        second = store.add_page(source, 1, _page("000001", 2, "2"))
        assert store.add_page(source, 1, _page("000001", 2)) is None  # a page already stored is kept
        stray = store.add_page(source, 2, PageResult("quarantined", "not-a-form", "a stray"))
        assert first < second < stray
        assert store.source_state("sha-1") == (source, "reading", {0, 1, 2})
        assert store.pages_mark() == (stray, 3)
        assert store.any_page_verified()
        assert store.page_image(first).read() == b"\xff\xd8 not a real jpeg"  # in the database
        assert store.stored_page(first).identified_by == "code"
        assert store.scanned_file(first).sha256 == "sha-1"
        assert [p.page_no for p in store.page_records()] == [1, 2]
        assert queue.quarantined_ids(store, ()) == [stray]
        assert queue.quarantined_pages(store, ("not-a-form",)) == []
        assert queue.page_copies(store, "sipas-household", "000001", 2) == [second]
        assert store.forget_quarantined(source, ["not-a-form"]) == {2}
        assert store.source_state("sha-1") == (source, "reading", {0, 1})
        store.finish_source(source)
        assert store.source_state("sha-1")[1] == "done"
        store.record_source_failure("/scans/torn.pdf", "unreadable", "torn")
        assert store.unread_files() == [("/scans/torn.pdf", "unreadable", "torn")]
        store.clear_source_failures(["/scans/torn.pdf"])
        assert store.unread_files() == []

        # Derived forms, answers and flags.
        household = Household("Lạng Sơn", "Huyện Cao Lộc", "Xã Hợp Thành", "Thôn Bản Vằn 1", "HGD0001")
        form = FormRecord(
            "sipas-household",
            "000001",
            FormStatus.NEEDS_REVIEW,
            household,
            {"a1": ("1", 0.9375, first), "a2": ("2", 0.5, second)},
            [Flag("a2", "low-confidence", 0.5, "faint", second, page_no=2), Flag("", "not-issued", blocking=False)],
        )
        # Pages stored put their form on the pending list; deriving takes it off.
        assert store.pending_forms(10) == [("sipas-household", "000001")]
        store.replace_forms([form], [("sipas-household", "000001")])
        assert store.pending_forms(10) == []
        assert store.surveys() == ["sipas-household"]
        assert store.issued_forms().households == {("sipas-household", "000001"): household}
        assert results.form_rows(store, "sipas-household") == [
            ("000001", "HGD0001", "Lạng Sơn", "Huyện Cao Lộc", "Xã Hợp Thành", "Thôn Bản Vằn 1", "needs_review")
        ]
        assert sorted(results.machine_answers(store, "sipas-household")) == [("000001", "a1", "1"), ("000001", "a2", "2")]
        assert list(results.form_flag_reasons(store, "sipas-household")) == [("000001", "not-issued")]
        assert results.count_by_status(store) == {"needs_review": 1}
        assert store.forms_flagged("low-confidence") == 1
        assert queue.answers_of(store, "sipas-household", "000001") == {"a1": ("1", first), "a2": ("2", second)}
        assert [f.item for f in queue.open_flags(store)] == ["a2"]
        assert queue.open_keys(store) == [("sipas-household", "000001", "a2")]

        # Decisions: append-only, refused twice, stale forms found.
        store.add_decision("sipas-household", "000001", "a2", "2", "3", "lan", expect_open=True)
        with pytest.raises(StoreError, match="already decided"):
            store.add_decision("sipas-household", "000001", "a2", "2", "4", "lan", expect_open=True)
        assert store.decisions() == {("sipas-household", "000001", "a2"): "3"}
        assert queue.open_keys(store) == []  # decided, though the flag is still derived
        store.add_decision("sipas-household", "000001", "a2", "3", None, "boss")  # reopened
        assert queue.open_keys(store) == [("sipas-household", "000001", "a2")]
        store.add_decision("sipas-household", "000001", "a2", None, "3", "lan")
        assert queue.quarantined_ids(store, (), undecided=True) == queue.quarantined_ids(store, ())
        assert store.stale_forms() == [("sipas-household", "000001")]
        assert [row[5] for row in store.decision_log(10)] == ["3", None, "3"] and store.last_decision_id() == 3

        # Accounts, sessions, leases and blind re-entry.
        accounts.save_user(store, "lan", "reviewer", "hash-1")
        accounts.start_session(store, "token", "lan", 100.0, lapsed_before=0.0, idle_before=0.0)
        assert accounts.session_of(store, "token") == accounts.Session("lan", "reviewer", 100.0, 100.0)
        accounts.touch_session(store, "token", 150.0)
        assert accounts.session_of(store, "token").active_at == 150.0
        accounts.save_user(store, "lan", "supervisor", "hash-2")  # a new password ends the sessions
        assert accounts.session_of(store, "token") is None
        assert accounts.user_credentials(store, "lan") == ("supervisor", "hash-2")
        queue.set_lease(store, "item-1", "lan", "2030-01-01")
        queue.set_lease(store, "item-1", "hoa", "2031-01-01")
        assert queue.lease_of(store, "item-1") == ("hoa", "2031-01-01")
        assert queue.lease_holders(store, "2030-06-01") == {"item-1": "hoa"}
        queue.drop_leases_of(store, "hoa")
        assert queue.lease_of(store, "item-1") is None
        sample = qc.add_sample(store, "boss", 7, [("sipas-household", "000001")])
        assert qc.in_sample(store, sample, "sipas-household", "000001")
        qc.add_entry(store, sample, "sipas-household", "000001", "a1", "2", "1", "lan")
        qc.add_entry(store, sample, "sipas-household", "000001", "a1", "1", "1", "lan")  # a second entry is ignored
        assert qc.counts(store) == (1, 1, 1)


def test_placing_a_page_by_the_stack_works_alike_on_both_engines(location):
    from sipas_scan.assembly.placement import Placement, StackPage

    with Store(location) as store:
        source = store.add_source(Path("stack-2.pdf"), "sha-2", 10, "pdf", 3)
        first = store.add_page(source, 0, _page("000001", 1))
        unnamed = replace(_page("", 2, "2"), status="quarantined", reason="no-code", serial_digits=("0000019",))
        placed = store.add_page(source, 1, unnamed)
        assert store.stack(source) == [
            StackPage(first, 0, "ok", "", "sipas-household", "000001", 1),
            StackPage(placed, 1, "quarantined", "no-code", "sipas-household", "", 2, ("0000019",)),
        ]
        assert store.read_page_numbers([("sipas-household", "000001")]) == {("sipas-household", "000001", 1)}
        assert store.place_page(Placement(placed, "sipas-household", "000001", 2, "after page 1 (stack-2.pdf p. 1)", (first,)))
        assert not store.place_page(Placement(placed, "sipas-household", "000001", 2, "again", (first,)))  # placed once
        page = store.stored_page(placed)
        assert (page.status, page.reason, page.serial, page.identified_by) == ("ok", "placed", "000001", "stack")
        assert [(p.id, p.placed) for p in store.page_records() if p.placed] == [(placed, "after page 1 (stack-2.pdf p. 1)")]
        assert queue.placed_beside(store, placed) == [first]
        store.take_back_placed(placed, ("sipas-household", "000001", "#placed:2", None, "taken-out", "lan"))
        page = store.stored_page(placed)
        assert (page.status, page.reason, page.serial, page.identified_by) == ("quarantined", "placement-declined", "", "code")
        assert store.decisions() == {("sipas-household", "000001", "#placed:2"): "taken-out"}
        with pytest.raises(StoreError):
            store.take_back_placed(placed, ("sipas-household", "000001", "#placed:2", None, "taken-out", "lan"))
        assert store.forget_quarantined(source, None) == set()  # a page taken out is not read again


def test_a_write_that_fails_leaves_nothing(location):
    with Store(location) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.add_source(Path("a.pdf"), "sha-a", 1, "pdf", 1)
            raise RuntimeError("killed half-way")
        assert store.source_state("sha-a") is None


def test_the_revisions_named_by_their_files_are_alembics():
    assert migrate._revisions() == migrate.alembic_revisions() and migrate._revisions()[0] == migrate.BASELINE


def test_a_new_database_is_at_the_latest_revision_and_opens_again(location):
    with Store(location) as store:
        assert store.upgraded_from == "empty" and store.revision == head()
    with Store(location) as store:
        assert store.upgraded_from is None
        assert row_counts(store) == {t.name: 0 for t in metadata.sorted_tables}


def test_the_migrations_build_the_schema_the_code_declares(location):
    """store/schema.py (what the code reads and writes) and the Alembic
    revisions (what a database is made of) describe the same tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with Store(location) as store:
        differences = compare_metadata(MigrationContext.configure(store.db.connection), metadata)
    assert [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")] == []


def test_a_database_of_a_newer_version_is_refused(location):
    Store(location).close()
    engine = sa.create_engine(database_url(location))
    with engine.begin() as con:
        con.execute(sa.text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer sipas-scan"):
        Store(location)


def _old_file(path: Path, version: int) -> Path:
    """A results file as sipas-scan wrote it before Alembic, at ``version``."""
    con = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:version], start=1):
        con.executescript(script)
        con.execute(f"PRAGMA user_version={number}")
    con.execute(
        "INSERT INTO sources (id, path, sha256, size, kind, status, added_at) VALUES (1, 'x.pdf', 'x', 1, 'pdf', 'done', '2026-01-01')"
    )
    con.execute(
        "INSERT INTO pages (source_id, page_index, status, reason, survey, serial, page_no, readings, read_at)"
        " VALUES (1, 0, 'ok', '', 'sipas-household', '000001', 1, '{\"identified_by\": \"code\"}', '2026-01-01')"
    )
    con.execute(
        "INSERT INTO decisions (survey, serial, field_id, new_value, reviewer, at) VALUES"
        " ('sipas-household', '000001', 'a1', '2', 'lan', '2026-01-02')"
    )
    con.commit()
    con.close()
    return path


# The oldest file runs every migration; the newest is left to `-m slow`.
@pytest.mark.parametrize("version", [pytest.param(len(MIGRATIONS), marks=pytest.mark.slow), 2])
def test_db_upgrade_brings_a_file_from_before_alembic_to_the_latest_revision(tmp_path, version):
    old = _old_file(tmp_path / "old.sqlite", version)
    done = run("db", "upgrade", "--db", "old.sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"upgraded from schema {version} (before Alembic) at revision {head()}" in done.stdout
    with sqlite3.connect(old) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
        assert con.execute("PRAGMA user_version").fetchone()[0] == sqlite_user_version()
        assert con.execute("SELECT serial, page_no FROM pages").fetchall() == [("000001", 1)]
        assert con.execute("SELECT new_value, reviewer FROM decisions").fetchall() == [("2", "lan")]
    again = run("db", "upgrade", "--db", "old.sqlite", cwd=tmp_path)
    assert again.returncode == 0 and "already at revision" in again.stdout
    missing = run("db", "upgrade", "--db", "nope.sqlite", cwd=tmp_path)
    assert missing.returncode == 3 and "no such database" in missing.stderr and not (tmp_path / "nope.sqlite").exists()


def _all_rows(location) -> dict[str, list[tuple]]:
    with Store(location) as store:
        return {t.name: [tuple(r) for r in table_rows(store, t)] for t in metadata.sorted_tables}


def test_db_copy_moves_every_row_of_a_sqlite_file_into_postgresql(office_scan, postgres_cluster, tmp_path):
    import shutil

    source = tmp_path / "results.sqlite"
    shutil.copy(office_scan / "results.sqlite", source)
    with Store(source) as store:  # a little of everything the review app writes too
        accounts.save_user(store, "lan", "reviewer", "hash")
        store.add_decision("", "", "quarantine:1", None, "x", "lan")
        qc.add_sample(store, "lan", 3, [])
        # A page whose image an older version kept as a file beside the database.
        old_page, held = store.db.query("SELECT id, image_path FROM pages WHERE status = 'ok' ORDER BY id LIMIT 1").one()
        jpeg = store.page_image(old_page).read()
        (tmp_path / "results.sqlite.pages").mkdir()
        (tmp_path / "results.sqlite.pages" / "00001-00001.jpg").write_bytes(jpeg)
        with store.transaction() as db:
            db.query("UPDATE pages SET image_path = 'results.sqlite.pages/00001-00001.jpg' WHERE id = :id", id=old_page)
            db.query("DELETE FROM page_images WHERE sha256 = :sha256", sha256=held.removeprefix("sha256:"))
    url = new_pg_database(postgres_cluster)
    try:
        done = run("db", "copy", str(source), url, cwd=tmp_path / "results.sqlite.pages")
        assert done.returncode == 0, done.stderr
        expected = _all_rows(source)
        assert all(expected[t] for t in ("sources", "pages", "forms", "answers", "flags", "decisions", "users", "page_images"))
        assert f"Copied {sum(map(len, expected.values()))} rows" in done.stdout
        assert "and 1 page images read from the files beside the source" in done.stdout
        copied = _all_rows(url)
        # The file's image is now in the database, under the page's same id.
        image_column = [c.name for c in metadata.tables["pages"].columns].index("image_path")
        assert [r[image_column] for r in copied["pages"] if r[0] == old_page] == [held]
        with Store(url) as pg:
            assert pg.page_image(old_page).read() == jpeg
        expected["pages"] = [r[:image_column] + (held,) + r[image_column + 1 :] if r[0] == old_page else r for r in expected["pages"]]
        expected["page_images"] = sorted([*expected["page_images"], (held.removeprefix("sha256:"), jpeg)])
        assert copied == expected
        # Every command takes the URL as --db, or from $SIPAS_DB; plain postgresql:// gets the psycopg driver.
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        exported = run("export", "--db", plain, "--out", "pg.csv", cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        from_env = run("export", "--out", "lite.csv", cwd=tmp_path, env={**os.environ, "SIPAS_DB": str(source)})
        assert from_env.returncode == 0, from_env.stderr
        assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "lite.csv").read_bytes()
        users = run("users", "list", cwd=tmp_path, env={**os.environ, "SIPAS_DB": plain})
        assert users.returncode == 0 and users.stdout.startswith("lan\treviewer"), users.stderr
        refused = run("db", "copy", str(source), url, cwd=tmp_path)
        assert refused.returncode == 8 and "not empty" in refused.stderr
        assert _all_rows(url) == expected
        with Store(url) as store:  # ids go on after the copied ones
            sample = qc.add_sample(store, "lan", 4, [])
            assert sample == max(r[0] for r in expected["qc_samples"]) + 1
    finally:
        dispose_engines()


# Two stations scanning into PostgreSQL at once (test_stations_postgres) check
# the same and more; one scan alone is left to `-m slow`.
@pytest.mark.slow
def test_a_scan_into_postgresql_exports_what_a_scan_into_sqlite_does(office_scan, postgres_cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = new_pg_database(postgres_cluster)
    try:
        # From the command line, with worker processes (forked beside the store's open connection).
        scanned = run(
            "scan",
            str(office_scan / "sim" / "scans"),
            "--db",
            url,
            "--ledger",
            str(office_scan / "ledger.sqlite"),
            "--no-ocr",
            "--workers",
            "2",
            cwd=tmp_path,
            env={**os.environ, "SIPAS_SECRET": TEST_SECRET},
        )
        assert scanned.returncode == 0, scanned.stderr
        same_as_one_sqlite_scan(url, office_scan, tmp_path)
        with Store(url) as pg, Store(office_scan / "results.sqlite") as lite:
            assert results.form_statuses(pg) == results.form_statuses(lite)
            assert list(results.flag_rows(pg))
            assert pg.page_image(1).key.startswith("sha256:") and pg.page_image(1).read()[:2] == b"\xff\xd8"
        assert not list(tmp_path.glob("*.pages"))  # nothing beside the station: the images are in the database
    finally:
        dispose_engines()


def test_the_review_app_works_on_postgresql(office_scan, postgres_cluster, tmp_path, monkeypatch):
    import re
    from urllib.parse import unquote

    from sipas_scan.review import accounts as reviewers
    from sipas_scan.review.app import create_app
    from sipas_scan.store.copy import copy_database

    url = new_pg_database(postgres_cluster)
    try:
        copy_database(office_scan / "results.sqlite", url)
        with Store(url) as store:
            reviewers.add_user(store, "lan", "reviewer", "reviewer-pass-1")
            reviewers.add_user(store, "minh", "reviewer", "reviewer-pass-2")
        app = create_app(url, office_scan / "ledger.sqlite")

        def logged_in(name: str, password: str):
            client = app.test_client()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            assert client.post("/login", data={"name": name, "password": password, "csrf_token": csrf}).status_code == 302
            return client

        lan, minh = logged_in("lan", "reviewer-pass-1"), logged_in("minh", "reviewer-pass-2")
        assert lan.get("/").status_code == 200
        first = lan.get("/next").headers["Location"]
        assert lan.get(first).status_code == 200
        assert minh.get(first).status_code == 409  # leased to lan, in the database
        assert minh.get("/next").headers["Location"] != first
        ident = unquote(re.search(r"id=([^&]+)", first).group(1))
        with Store(url) as store:
            assert queue.lease_of(store, ident)[0] == "lan"
    finally:
        dispose_engines()


OPEN_STORE = """
import sys, time
from sipas_scan.store.db import Store
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
with Store(sys.argv[2]) as store:
    print(store.revision)
"""


def test_a_new_postgresql_database_opened_by_several_processes_at_once_is_migrated_once(postgres_cluster, tmp_path):
    import time

    url = new_pg_database(postgres_cluster)
    at = time.time() + 2.0
    processes = [
        subprocess.Popen([sys.executable, "-c", OPEN_STORE, str(at), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {head()}
    try:
        with Store(url) as store:
            assert store.upgraded_from is None
            assert store.db.query("SELECT count(*) FROM alembic_version").scalar_one() == 1
    finally:
        dispose_engines()


def test_score_reads_the_records_of_a_database_on_either_engine(office_scan, postgres_cluster, tmp_path):
    """`score --db` scores what `export` writes: the same indices as scoring
    the records exported from the SQLite file, from its copy in PostgreSQL.
    The command runs once (its report is the slow part); the SQLite side is
    scored in-process the way the command scores a file."""
    url = new_pg_database(postgres_cluster)
    try:
        copy_database(office_scan / "results.sqlite", url)
        exported = run("export", "--db", str(office_scan / "results.sqlite"), "--out", "records.csv", cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        survey = load_survey(None)
        from_sqlite = write_indices(tmp_path / "from-sqlite.csv", score(read_records(tmp_path / "records.csv", survey)))
        scored = run("score", "--db", url, "--out", "from-postgresql", cwd=tmp_path)
        assert scored.returncode == 0, scored.stderr
        indices = from_sqlite.read_bytes()
        assert (tmp_path / "from-postgresql" / "indices.csv").read_bytes() == indices and indices.count(b"\n") > 1
        neither = run("score", "--out", "x", cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "SIPAS_DB"})
        assert neither.returncode == 2 and "give the records CSV to score, or --db" in neither.stderr
    finally:
        dispose_engines()
