"""The roles of docs/postgresql.md, run as written on the session's
throw-away server: the owner migrates the database, the document's SQL
creates a scanning and a reviewing role, a station scans under the first
and cannot write a decision, the review app works under the second."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from conftest import TEST_SECRET, make_households, write_households
from sipas_scan.assembly import decisions as keys
from sipas_scan.store import results
from sipas_scan.store.db import Store
from sipas_scan.store.engine import dispose_engines

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "postgresql.md"
OWNER = "sipas_admin"
STATION = "station1"
REVIEW_APP = "review_app"


def documented_role_sql() -> str:
    """The one ```sql block of the document: the roles and their grants."""
    blocks = re.findall(r"^```sql\n(.*?)^```", DOCUMENT.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "docs/postgresql.md should hold exactly one ```sql block, the roles"
    return blocks[0]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SIPAS_SECRET": TEST_SECRET}
    env.pop("SIPAS_DB", None)
    return subprocess.run([sys.executable, "-m", "sipas_scan", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture(scope="module")
def roles_database(postgres_cluster, tmp_path_factory):
    """A database set up as the document says: owned by sipas_admin, migrated
    by it with `db upgrade`, then the document's role SQL run by the superuser.
    Returns a function giving a role's URL."""
    database = f"roles{uuid.uuid4().hex[:8]}"
    postgres_cluster.psql("postgres", f"CREATE ROLE {OWNER} LOGIN")
    postgres_cluster.psql("postgres", f"CREATE DATABASE {database} OWNER {OWNER}")

    def url(role: str) -> str:
        return f"postgresql://{role}@127.0.0.1:{postgres_cluster.port}/{database}"

    folder = tmp_path_factory.mktemp("owner")
    upgraded = run("db", "upgrade", "--db", url(OWNER), cwd=folder)
    assert upgraded.returncode == 0, upgraded.stderr
    # The round's first print run into the shared ledger creates its tables.
    households = write_households(folder / "households.csv", make_households(1))
    printed = run("print", "sipas-household", "--households", str(households), "--out", "print", "--ledger", url(OWNER), cwd=folder)
    assert printed.returncode == 0, printed.stderr
    postgres_cluster.psql(database, documented_role_sql())
    yield url
    dispose_engines()


def test_the_document_holds_one_role_block_that_grants_no_decision_writes_to_stations():
    sql = documented_role_sql()
    assert "CREATE ROLE sipas_scanning" in sql and "CREATE ROLE sipas_reviewing" in sql
    scanning = [line for line in sql.splitlines() if line.rstrip(";").endswith("TO sipas_scanning")]
    assert scanning and not [line for line in scanning if "decisions" in line and not line.startswith("GRANT SELECT ON")]


def test_a_station_scans_under_the_scanning_role_and_cannot_decide(roles_database, printed, first_form_pages, tmp_path):
    summary, _ = printed
    station = roles_database(STATION)
    scanned = run(
        "scan", str(first_form_pages), "--db", station, "--ledger", str(summary.ledger), "--no-ocr", "--workers", "1", cwd=tmp_path
    )
    assert scanned.returncode == 0, scanned.stderr
    assert not list(tmp_path.glob("*.pages"))  # nothing beside the station: the images are in the database
    # The shared ledger: a station reads it, and cannot issue serials.
    assert run("returns", "--db", station, "--ledger", station, "--out", "returns", cwd=tmp_path).returncode == 0
    households = write_households(tmp_path / "households.csv", make_households(1))
    issued = run("print", "sipas-household", "--households", str(households), "--out", "print", "--ledger", station, cwd=tmp_path)
    assert issued.returncode != 0 and "permission denied" in issued.stderr and len(issued.stderr.strip().splitlines()) == 1

    exported = run("export", "--db", station, "--out", "station.csv", cwd=tmp_path)  # reading needs no more
    assert exported.returncode == 0, exported.stderr
    with Store(station) as store:
        assert len(results.form_statuses(store)) == 1
        assert store.db.query("SELECT count(*) FROM page_images").scalar() == 4
        for statement in (
            "INSERT INTO decisions (survey, serial, field_id, new_value, reviewer, at) VALUES ('s', '1', 'a1', '2', 'x', 'now')",
            "UPDATE decisions SET new_value = '9'",
            "DELETE FROM decisions",
            "SELECT password_hash FROM users",
            "INSERT INTO sessions (id, \"user\", created_at, active_at) VALUES ('t', 'x', 0, 0)",
        ):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), store.transaction() as db:
                db.query(statement)
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied for table decisions"):
            store.add_decision("sipas-household", "000001", "a1", None, "2", "station1")

    # The review app, under its role: a reviewer logs in, opens an item (a
    # lease) and decides it (a decision, and the form derived again).
    from sipas_scan.review import accounts as reviewers
    from sipas_scan.review.app import create_app
    from sipas_scan.review.queue import open_items

    with Store(roles_database(OWNER)) as store:  # accounts are the owner's to add
        reviewers.add_user(store, "lan", "reviewer", "reviewer-pass-1")
    review = roles_database(REVIEW_APP)
    app = create_app(review, summary.ledger)
    client = app.test_client()

    def csrf(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)

    assert client.post("/login", data={"name": "lan", "password": "reviewer-pass-1", "csrf_token": csrf("/login")}).status_code == 302
    assert client.get("/").status_code == 200
    with Store(review) as store:
        item = next(i for i in open_items(store) if i.kind != "answer")  # every such item offers "reject the form"
    assert client.get(f"/item?id={quote(item.ident)}").status_code == 200
    decided = client.post("/decide", data={"id": item.ident, "value": keys.REJECTED, "csrf_token": csrf("/")})
    assert decided.status_code == 302 and "/next" in decided.headers["Location"]
    with Store(review) as store:
        assert store.db.rows("SELECT serial, new_value, reviewer FROM decisions") == [(item.serial, keys.REJECTED, "lan")]
        assert results.form_statuses(store)[(item.survey, item.serial)] == "rejected"  # derived again, under the app's role


def test_a_station_cannot_migrate_a_database_the_owner_has_not_upgraded(roles_database, postgres_cluster, tmp_path):
    roles_database(OWNER)  # the roles exist (they are the server's, not one database's)
    database = f"fresh{uuid.uuid4().hex[:8]}"
    postgres_cluster.psql("postgres", f"CREATE DATABASE {database} OWNER {OWNER}")
    station = f"postgresql://{STATION}@127.0.0.1:{postgres_cluster.port}/{database}"
    refused = run("export", "--db", station, "--out", "out.csv", cwd=tmp_path)
    assert refused.returncode != 0 and "permission denied" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert postgres_cluster.psql(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").strip() == "0"
