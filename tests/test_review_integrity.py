"""The review app as an attacker and a crash would try it: no decision
launders a bad page, a decision and its form's status are one transaction,
sessions are server-side and revocable, inputs are bounded, malformed
requests are refused, and the app says when it is exposed without TLS."""

import csv
import hashlib
import re
import sqlite3
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, unquote

import cv2
import pytest
from test_review import PASSWORDS, first_item, logged_in, post, set_session_clock, token

from sipas_scan.assembly import decisions as keys
from sipas_scan.assembly.derive import rebuild_form
from sipas_scan.errors import BadArgsError
from sipas_scan.export import export_flags
from sipas_scan.reading.page import PageResult, ReadOptions
from sipas_scan.reading.sources import load_page, open_source
from sipas_scan.review import accounts, actions
from sipas_scan.review.app import CONTENT_SECURITY_POLICY, LoginFailures, create_app, exposure_warning
from sipas_scan.review.queue import open_items
from sipas_scan.store.db import Store

NEVER_ISSUED = "0999995"  # a valid serial (check digit) the ledger never issued
TEMPLATES = Path(__file__).parent.parent / "sipas_scan" / "review" / "templates"
README = Path(__file__).parent.parent / "README.md"


@pytest.fixture
def db(office_scan, tmp_path):
    from conftest import copy_database

    path = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(path) as store:
        for name, role in (("lan", "reviewer"), ("minh", "reviewer"), ("boss", "supervisor")):
            accounts.add_user(store, name, role, PASSWORDS[name])
    return path


@pytest.fixture
def app(db, office_scan):
    return create_app(db, office_scan / "ledger.sqlite")


def count(db, table: str) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def form_status(db, serial: str) -> str | None:
    with sqlite3.connect(db) as con:
        row = con.execute("SELECT status FROM forms WHERE serial = ?", (serial,)).fetchone()
    return row[0] if row else None


def accepted_page(db, page_no: int) -> tuple[str, int]:
    """(serial, page id) of page ``page_no`` of an accepted form."""
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT p.serial, p.id FROM pages p JOIN forms f ON f.serial = p.serial"
            " WHERE f.status = 'accepted' AND p.page_no = ? AND p.status = 'ok' ORDER BY p.id LIMIT 1",
            (page_no,),
        ).fetchone()


def quarantined_copy(db, page_id: int, folder: Path, reason: str = "no-code") -> int:
    """A scan of a stored page in a file of its own, stored as quarantined the
    way a page whose code was torn off is: no identity. Returns its id."""
    with Store(db) as store:
        scanned = store.scanned_file(page_id)
        source, _ = open_source(scanned.path)
        image = load_page(source, scanned.page_index)
        path = folder / f"rescan-{page_id}.png"
        cv2.imwrite(str(path), image.gray)
        copy, pages = open_source(path)
        source_id = store.add_source(path, copy.sha256, copy.size, copy.kind, pages)
        ok, jpeg = cv2.imencode(".jpg", image.gray)
        return store.add_page(
            source_id, 0, PageResult("quarantined", reason, "no QR code could be read", dpi=image.dpi, image_jpeg=jpeg.tobytes())
        )


def assign(client, page_id: int, serial: str, page_no: int, note: str = ""):
    return post(
        client,
        "/decide",
        {
            "id": f"||{keys.quarantine_key(page_id)}",
            "assign_survey": "sipas-household",
            "assign_serial": serial,
            "assign_page": str(page_no),
            "note": note,
        },
    )


def flags_of(db, serial: str) -> dict[str, int]:
    """reason -> blocking of a form's flags."""
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT reason, blocking FROM flags WHERE serial = ?", (serial,)).fetchall())


# ---- 1. no decision launders a bad page ----------------------------------------


def test_a_page_with_a_damaged_code_is_assigned_when_its_printed_serial_matches(app, db, tmp_path):
    serial, original = accepted_page(db, 1)
    page_id = quarantined_copy(db, original, tmp_path)
    client = logged_in(app, "lan")
    response = assign(client, page_id, serial, 1)
    assert response.status_code == 302, response.text
    with Store(db) as store:
        page = store.stored_page(page_id)
    assert (page.status, page.reason, page.serial, page.identified_by) == ("ok", "assigned", serial, "print")
    assert "serial printed on the page matches" in page.detail and "lan" in page.detail
    # Marked as identified by hand, as a note: the form stays accepted (the
    # other scan of page 1 has the same marks) and the export says so.
    assert flags_of(db, serial)["identified-by-hand"] == 0
    assert form_status(db, serial) == "accepted"
    export_flags(db, tmp_path / "flags.csv")
    with (tmp_path / "flags.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["reason"] == "identified-by-hand"]
    assert [(r["form_id"], r["blocking"]) for r in rows] == [(serial, "0")]
    assert 'id="by-hand">' in client.get("/").text  # counted apart on the overview


def test_a_page_whose_printed_serial_does_not_match_needs_a_supervisor_and_a_reason(app, db, tmp_path):
    _, original = accepted_page(db, 1)
    with sqlite3.connect(db) as con:
        other = con.execute(
            "SELECT serial FROM forms WHERE status = 'accepted' AND serial NOT IN (SELECT serial FROM pages WHERE id = ?) LIMIT 1",
            (original,),
        ).fetchone()[0]
    page_id = quarantined_copy(db, original, tmp_path)
    decisions = count(db, "decisions")
    lan = logged_in(app, "lan")
    response = assign(lan, page_id, other, 1, note="looks like theirs to me")
    assert response.status_code == 403 and "Chỉ giám sát viên" in response.text
    lan.get(f"/next?after={quote('||' + keys.quarantine_key(page_id))}")  # moves on, leaving the item to a supervisor
    boss = logged_in(app, "boss")
    response = assign(boss, page_id, other, 1, note="xem")
    assert response.status_code == 400 and "lý do" in response.text
    assert count(db, "decisions") == decisions and form_status(db, other) == "accepted"
    with Store(db) as store:
        assert store.stored_page(page_id).status == "quarantined"
    reason = "hộ gia đình xác nhận phiếu của họ"
    assert assign(boss, page_id, other, 1, note=reason).status_code == 302
    with Store(db) as store:
        assert store.stored_page(page_id).identified_by == "hand"
        detail = store.db.execute("SELECT detail FROM flags WHERE serial = ? AND reason = 'identified-by-hand'", (other,)).fetchone()[
            0
        ]
    assert reason in detail and "supervisor" in detail
    assert flags_of(db, other)["identified-by-hand"] == 0


def test_assigning_a_page_to_a_serial_never_issued_is_flagged(app, db, tmp_path):
    page_id = quarantined_copy(db, accepted_page(db, 1)[1], tmp_path)
    response = assign(logged_in(app, "boss"), page_id, NEVER_ISSUED, 1, note="serial written by hand on the torn corner")
    assert response.status_code == 302
    # Nothing proves this form was issued: it waits for a person, flagged.
    assert {"not-issued": 1, "unverified-code": 1, "identified-by-hand": 0}.items() <= flags_of(db, NEVER_ISSUED).items()
    assert form_status(db, NEVER_ISSUED) == "needs_review"
    # ... and that person can only reject it: no button keeps it, and a
    # forged request to keep it is refused.
    item = first_item(db, "form", "not-issued")
    boss = logged_in(app, "boss")
    screen = boss.get(f"/item?id={quote(item.ident)}").text
    assert "Phiếu chỉ có thể bị loại bỏ" in screen and f'data-value="{keys.KEPT}"' not in screen
    assert f'data-value="{keys.REJECTED}"' in screen
    assert post(boss, "/decide", {"id": item.ident, "value": keys.KEPT}).status_code == 400
    assert form_status(db, NEVER_ISSUED) == "needs_review"
    assert post(boss, "/decide", {"id": item.ident, "value": keys.REJECTED}).status_code == 302
    assert form_status(db, NEVER_ISSUED) == "rejected"


def test_a_page_whose_code_verified_is_assigned_only_to_that_identity(app, db):
    serial, page_id = accepted_page(db, 2)
    with sqlite3.connect(db) as con:  # its code verified, but the page could not be aligned
        con.execute("UPDATE pages SET status = 'quarantined', reason = 'poor-alignment' WHERE id = ?", (page_id,))
    with Store(db) as store:
        rebuild_form(store, "sipas-household", serial)
    boss = logged_in(app, "boss")
    response = assign(boss, page_id, NEVER_ISSUED, 2, note="the supervisor insists on this")
    assert response.status_code == 403 and "không thể gán" in response.text
    assert assign(boss, page_id, serial, 2).status_code == 302
    assert form_status(db, serial) == "accepted" and "identified-by-hand" not in flags_of(db, serial)


def test_pages_assigned_before_the_rule_count_as_identified_by_hand(tmp_path):
    """A database whose forged pages were assigned as if their code had
    verified: migrating it marks them, so their forms are looked at again."""
    from sipas_scan.store.db import MIGRATIONS

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        con.executescript(script)
        con.execute(f"PRAGMA user_version={number}")
    con.execute("INSERT INTO sources (id, path, sha256, size, kind, status, added_at) VALUES (1, 'x.pdf', 'x', 1, 'pdf', 'done', '')")
    con.execute(
        "INSERT INTO pages (source_id, page_index, status, reason, readings, read_at) VALUES"
        " (1, 0, 'ok', 'assigned', '{\"identified_by\": \"code\", \"fields\": []}', '')"
    )
    con.commit()
    con.close()
    with Store(path) as store:
        assert store.stored_page(1).identified_by == "hand"


# ---- 2. a decision and its form's status are one transaction ---------------------


def form_with_fewest_items(db) -> tuple[str, list]:
    with Store(db) as store:
        items = defaultdict(list)
        for item in open_items(store):
            if item.serial and item.kind != "comment":
                items[item.serial].append(item)
    serial = min(items, key=lambda s: len(items[s]))
    return serial, items[serial]


def settle_all(store, items) -> None:
    """What an older version left when killed between its two transactions:
    the decisions stored, the forms not derived again."""
    for item in items:
        if item.key.startswith("#missing:"):
            value = keys.NOT_RETURNED
        elif item.key.startswith("#marks:"):
            value = keys.CONFIRMED
        elif item.kind == "page":
            value = f"{keys.USE}{item.page_ids[0]}"
        else:
            value = keys.KEPT if item.kind == "form" else ""
        store.add_decision(item.survey, item.serial, item.key, None, value, "lan")


def test_a_decision_and_its_forms_status_are_one_transaction(app, db, monkeypatch):
    serial, items = form_with_fewest_items(db)
    before = count(db, "decisions")

    def crash(*args, **kwargs):
        raise RuntimeError("killed while deriving the form")

    monkeypatch.setattr("sipas_scan.assembly.derive.assemble", crash)
    client = logged_in(app, "lan")
    value = keys.NOT_RETURNED if items[0].key.startswith("#missing:") else ""
    response = post(client, "/decide", {"id": items[0].ident, "value": value})
    assert response.status_code == 500 and "Lỗi máy chủ" in response.text
    assert count(db, "decisions") == before  # the decision went with the derivation
    assert form_status(db, serial) == "needs_review"
    with Store(db) as store:
        assert items[0].ident in {i.ident for i in open_items(store)}


def test_a_form_left_behind_by_its_decisions_is_derived_again(db, office_scan, secret, tmp_path):
    serial, items = form_with_fewest_items(db)
    with Store(db) as store:
        settle_all(store, items)
        assert store.stale_forms() == [(items[0].survey, serial)]
    assert form_status(db, serial) == "needs_review"
    create_app(db, office_scan / "ledger.sqlite")  # at start-up
    assert form_status(db, serial) == "resolved"
    with Store(db) as store:
        assert store.stale_forms() == []
        # A decision stored without its derivation leaves the form pending:
        # the next scan derives it, with nothing new to read.
        store.add_decision(items[0].survey, serial, keys.FORM, None, keys.REJECTED, "lan")
        assert store.pending_forms(10) == [(items[0].survey, serial)]
    assert form_status(db, serial) == "resolved"
    from sipas_scan.scan import scan_inputs

    (tmp_path / "nothing-new").mkdir()
    scan_inputs(
        [tmp_path / "nothing-new"], db, ReadOptions(secret, run_ocr=False), workers=1, ledger_path=office_scan / "ledger.sqlite"
    )
    assert form_status(db, serial) == "rejected"
    # And the review app, at start-up.
    with Store(db) as store:
        store.add_decision(items[0].survey, serial, keys.FORM, keys.REJECTED, None, "boss")
    create_app(db, office_scan / "ledger.sqlite")
    assert form_status(db, serial) == "resolved"


def test_a_full_rebuild_during_review_leaves_a_trace(db, office_scan):
    """A form derived from a snapshot older than a decision on it is stale."""
    from sipas_scan.assembly.derive import rebuild

    serial, items = form_with_fewest_items(db)
    with Store(db) as store:
        rebuild(store, office_scan / "ledger.sqlite")
        assert store.stale_forms() == []
        settle_all(store, items)
        stale = store.stale_forms()
        assert [s for _, s in stale] == [serial]
        # A full rebuild from a snapshot taken before those decisions:
        # every form it writes says how far it saw.
        store.replace_forms([], [("sipas-household", serial)])
        assert store.stale_forms() == []  # no form row left to be stale; the next derivation writes one
        rebuild_form(store, "sipas-household", serial, office_scan / "ledger.sqlite")
        assert store.stale_forms() == []


# ---- 3. reopening what was never decided -----------------------------------------


@pytest.mark.parametrize("survey, key", [("sipas-household", "c1_1"), ("no-such-survey", "c1_1"), ("", "#quarantine:9")])
def test_reopening_what_was_never_decided_is_refused_and_writes_nothing(app, db, survey, key):
    with sqlite3.connect(db) as con:
        serial = con.execute("SELECT serial FROM forms LIMIT 1").fetchone()[0] if survey else ""
    response = post(logged_in(app, "boss"), "/reopen", {"survey": survey, "serial": serial, "key": key}, page="/log")
    assert response.status_code == 400 and "không có quyết định" in response.text
    assert count(db, "decisions") == 0


# ---- 4. codes normalised, paths resolved ------------------------------------------


def test_a_code_chosen_twice_is_stored_once(app, db):
    item = first_item(db, "answer")
    post(logged_in(app, "lan"), "/decide", {"id": item.ident, "value": "1;1;1"})
    with Store(db) as store:
        assert store.decisions()[(item.survey, item.serial, item.key)] == "1"
    assert actions.normalise_codes(" 3;1;3; ") == "1;3"


def test_the_server_works_from_any_directory(db, office_scan, tmp_path, monkeypatch):
    serial, original = accepted_page(db, 1)
    monkeypatch.chdir(tmp_path.parent)
    page_id = quarantined_copy(db, original, Path(tmp_path.name))  # scanned with a relative path
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT s.path FROM sources s JOIN pages p ON p.source_id = s.id WHERE p.id = ?", (page_id,)).fetchone()[
            0
        ]
        assert stored == str(tmp_path / f"rescan-{original}.png")  # stored absolute
        # As an older version stored it: relative to where scan ran, here the database's parent folder.
        con.execute("UPDATE sources SET path = ? WHERE path = ?", (f"{tmp_path.name}/rescan-{original}.png", stored))
    monkeypatch.chdir(tmp_path)
    app = create_app(Path(db.name), office_scan / "ledger.sqlite")  # a relative path, then elsewhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    client = logged_in(app, "lan")
    assert client.get(f"/image/page/{original}.jpg").data[:2] == b"\xff\xd8"
    assert assign(client, page_id, serial, 1).status_code == 302
    with Store(db) as store:
        assert store.stored_page(page_id).status == "ok"


def test_a_scan_file_changed_since_it_was_read_is_not_read_again(app, db, tmp_path):
    serial, original = accepted_page(db, 1)
    page_id = quarantined_copy(db, original, tmp_path)
    path = tmp_path / f"rescan-{original}.png"
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(path), 255 - image)
    response = assign(logged_in(app, "lan"), page_id, serial, 1)
    assert response.status_code == 400 and "đã bị thay đổi" in response.text


# ---- 5. sessions --------------------------------------------------------------------


def test_logging_out_ends_the_session_for_every_copy_of_the_cookie(app, db):
    client = logged_in(app, "lan")
    cookie = client.get_cookie("session").value
    sid = app.session_interface.get_signing_serializer(app).loads(cookie)["sid"]
    with sqlite3.connect(db) as con:
        stored = [r[0] for r in con.execute("SELECT id FROM sessions WHERE user = 'lan'")]
    assert stored == [hashlib.sha256(sid.encode()).hexdigest()]  # only a hash of the token is kept
    post(client, "/logout", {})
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/").status_code == 302
    assert count(db, "sessions") == 0


@pytest.mark.parametrize("change", ["password", "role"])
def test_a_new_password_or_role_ends_the_users_sessions(app, db, change):
    lan, minh = logged_in(app, "lan"), logged_in(app, "minh")
    with Store(db) as store:
        accounts.add_user(
            store,
            "lan",
            "supervisor" if change == "role" else "reviewer",
            "a-new-password" if change == "password" else PASSWORDS["lan"],
        )
    assert lan.get("/").status_code == 302
    assert minh.get("/").status_code == 200  # other people's sessions go on


def test_lease_renewals_do_not_keep_a_forgotten_tab_alive(app, db):
    client = logged_in(app, "lan")
    ident = re.search(r"id=([^&]+)", client.get("/next").headers["Location"]).group(1)
    set_session_clock(db, "lan", idle_minutes=29)
    with sqlite3.connect(db) as con:
        idle_since = con.execute("SELECT active_at FROM sessions").fetchone()[0]
    assert post(client, "/lease", {"id": unquote(ident)}, page="/login").status_code == 204
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT active_at FROM sessions").fetchone()[0] == idle_since
    set_session_clock(db, "lan", idle_minutes=31)
    response = post(client, "/lease", {"id": unquote(ident)}, page="/login")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")  # lapsed: no renewal
    assert client.get("/").status_code == 302
    # While a user acts, the clock starts again.
    client = logged_in(app, "lan")
    set_session_clock(db, "lan", idle_minutes=29)
    assert client.get("/").status_code == 200
    with sqlite3.connect(db) as con:
        assert time.time() - con.execute("SELECT max(active_at) FROM sessions").fetchone()[0] < 5


# ---- 6. bounded inputs ---------------------------------------------------------------


def test_request_bodies_notes_and_transcriptions_are_bounded(app, db):
    item = first_item(db, "answer")
    client = logged_in(app, "lan")
    response = post(client, "/decide", {"id": item.ident, "value": "1", "note": "x" * 200_000})
    assert response.status_code == 413 and "quá lớn" in response.text
    response = post(client, "/decide", {"id": item.ident, "value": "1", "note": "x" * (actions.MAX_NOTE_LENGTH + 1)})
    assert response.status_code == 400 and "Ghi chú dài quá" in response.text
    comment = first_item(db, "comment")
    response = post(client, "/decide", {"id": comment.ident, "value": "ý " * actions.MAX_TRANSCRIPTION_LENGTH})
    assert response.status_code == 400 and "chép lại dài quá" in response.text
    assert count(db, "decisions") == 0


def test_failed_logins_keep_nothing_but_a_bounded_counter(app, db):
    client = app.test_client()
    failures = app.extensions["sipas_login_failures"]
    response = client.post("/login", data={"name": "x" * 2_000_000, "password": "p", "csrf_token": token(client)})
    assert response.status_code == 413
    for n in range(3):
        response = client.post(
            "/login", data={"name": "y" * (accounts.MAX_NAME_LENGTH + 1 + n), "password": "p", "csrf_token": token(client)}
        )
        assert response.status_code == 401
    assert len(failures) == 0 and count(db, "sessions") == 0
    client.post("/login", data={"name": "nobody", "password": "p", "csrf_token": token(client)})
    assert len(failures) == 1
    bounded = LoginFailures(capacity=10)
    for n in range(50):
        bounded.record(f"name-{n}", success=False)
    assert len(bounded) == 10
    with Store(db) as store, pytest.raises(BadArgsError, match="at most"):
        accounts.add_user(store, "z" * (accounts.MAX_NAME_LENGTH + 1), "reviewer", "long-enough-password")


# ---- 7. malformed parameters, login timing -------------------------------------------


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", "/next?after=x", None),
        ("get", "/next?after=a|b|%23quarantine:zz", None),
        ("get", "/next?dir=2", None),
        ("get", "/item?id=x", None),
        ("post", "/decide", {"id": "x"}),
        ("post", "/lease", {"id": "x"}),
        ("post", "/reopen", {"survey": "sipas-household"}),
    ],
)
def test_malformed_parameters_are_a_bad_request(app, method, path, data):
    client = logged_in(app, "boss")
    response = client.get(path) if method == "get" else post(client, path, data)
    assert response.status_code == 400 and "Yêu cầu không hợp lệ" in response.text


def test_a_known_and_an_unknown_name_cost_the_same(app, db, monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    for uncached in ("check_password_hash", "generate_password_hash"):  # the session caches them (conftest)
        function = getattr(accounts, uncached)
        monkeypatch.setattr(accounts, uncached, getattr(function, "__wrapped__", function))
    with Store(db) as store:
        for name in ("lan", "nobody-by-this-name", "lan"):
            calls.clear()
            accounts.check_login(store, name, "not the password")
            assert len(calls) == 1, name


# ---- 8. exposure without TLS, headers -------------------------------------------------


def test_listening_beyond_loopback_warns_there_is_no_tls():
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"):
        assert exposure_warning(host) is None
    warning = exposure_warning("0.0.0.0")
    assert "without TLS" in warning and "Review app behind a reverse proxy" in warning
    assert "## Review app behind a reverse proxy" in README.read_text(encoding="utf-8")
    assert "only the TLS reverse proxy" in exposure_warning("192.168.1.5", behind_proxy=True)


def test_the_command_warns_before_serving_beyond_loopback(db, monkeypatch):
    import waitress
    from typer.testing import CliRunner

    from sipas_scan.cli import app as cli

    served = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: served.update(kwargs))
    result = CliRunner().invoke(cli, ["review", "--db", str(db), "--host", "0.0.0.0", "--port", "8750"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "without TLS" in result.stderr and served["host"] == "0.0.0.0"
    result = CliRunner().invoke(cli, ["review", "--db", str(db)])
    assert "warning" not in result.stderr


def test_content_security_policy_and_secure_cookies(app, db, office_scan):
    response = app.test_client().get("/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    # The policy allows no inline script or style: the templates have none.
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", html, re.I), template.name
    assert "Secure" not in response.headers["Set-Cookie"]
    proxied = create_app(db, office_scan / "ledger.sqlite", behind_proxy=True)
    client = proxied.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]
