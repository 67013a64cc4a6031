"""The review app over HTTP: authorisation on every route, leases, decisions
as append-only events, forms settling, reopen, blind re-entry, overview."""

import csv
import json
import re
import sqlite3
import time
from collections import Counter
from urllib.parse import quote, unquote

import pytest

from conftest import copy_database
from sipas_scan.assembly import decisions as keys
from sipas_scan.export import export_records
from sipas_scan.review import accounts, qc
from sipas_scan.review.app import create_app
from sipas_scan.review.queue import open_items
from sipas_scan.store.db import Store

PASSWORDS = {"lan": "reviewer-pass-1", "minh": "reviewer-pass-2", "boss": "supervisor-pass"}


@pytest.fixture
def db(office_scan, tmp_path):
    path = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(path) as store:
        accounts.add_user(store, "lan", "reviewer", PASSWORDS["lan"])
        accounts.add_user(store, "minh", "reviewer", PASSWORDS["minh"])
        accounts.add_user(store, "boss", "supervisor", PASSWORDS["boss"])
    return path


@pytest.fixture
def app(db, office_scan):
    return create_app(db, office_scan / "ledger.sqlite")


def token(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def logged_in(app, name, password=None):
    client = app.test_client()
    response = client.post("/login", data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token(client)})
    assert response.status_code == 302
    return client


def post(client, path, data, page="/"):
    return client.post(path, data={**data, "csrf_token": token(client, page)})


def item_url(item) -> str:
    return f"/item?id={quote(item.ident)}"


def first_item(db, kind=None, reason=None):
    with Store(db) as store:
        return next(i for i in open_items(store) if (kind is None or i.kind == kind) and (reason is None or reason in i.reasons))


ROUTES_GET = ["/", "/next", "/item?id=x", "/image/field/1/c1_1.jpg", "/image/page/1.jpg", "/page/1", "/qc", "/qc/next", "/log"]
ROUTES_POST = ["/logout", "/decide", "/qc/draw", "/qc/enter", "/reopen"]


@pytest.mark.parametrize("route", ROUTES_GET)
def test_anonymous_get_shows_nothing(app, route):
    response = app.test_client().get(route)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("route", ROUTES_POST)
def test_anonymous_post_is_refused(app, route):
    client = app.test_client()
    response = client.post(route, data={"csrf_token": token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post(route).status_code == 400  # and without the CSRF token, not even that


@pytest.mark.parametrize("route, method", [("/log", "get"), ("/reopen", "post"), ("/qc/draw", "post")])
def test_reviewer_cannot_do_a_supervisors_work(app, route, method):
    client = logged_in(app, "lan")
    response = client.get(route) if method == "get" else post(client, route, {"survey": "", "serial": "", "key": "x"})
    assert response.status_code == 403


def test_wrong_password_and_csrf(app):
    client = app.test_client()
    response = client.post("/login", data={"name": "lan", "password": "wrong-one", "csrf_token": token(client)})
    assert response.status_code == 401 and "Sai tên đăng nhập" in response.text
    assert client.get("/").status_code == 302
    assert client.post("/login", data={"name": "lan", "password": PASSWORDS["lan"]}).status_code == 400


def test_repeated_wrong_passwords_lock_the_name(app):
    client = app.test_client()
    for _ in range(5):
        response = client.post("/login", data={"name": "minh", "password": "guess", "csrf_token": token(client)})
        assert response.status_code == 401
    response = client.post("/login", data={"name": "minh", "password": PASSWORDS["minh"], "csrf_token": token(client)})
    assert response.status_code == 429 and "15" in response.text  # even the right password, for a while
    logged_in(app, "lan")  # other names are not affected


def set_session_clock(db, user, *, idle_minutes=None, age_hours=None):
    """Move a user's sessions back in time, as if they had been idle or open that long."""
    with sqlite3.connect(db) as con:
        if idle_minutes is not None:
            con.execute("UPDATE sessions SET active_at = ? WHERE user = ?", (time.time() - idle_minutes * 60, user))
        if age_hours is not None:
            con.execute("UPDATE sessions SET created_at = ? WHERE user = ?", (time.time() - age_hours * 3600, user))


def test_idle_session_expires(app, db):
    client = logged_in(app, "lan")
    assert client.get("/").status_code == 200
    set_session_clock(db, "lan", idle_minutes=31)
    assert client.get("/").status_code == 302


def test_every_page_renders_for_the_right_people(app, db):
    reviewer, supervisor = logged_in(app, "lan"), logged_in(app, "boss")
    home = reviewer.get("/")
    assert home.status_code == 200 and "Tổng quan" in home.text and "Thôn Bản Vằn 1" in home.text
    assert "HGD0" not in home.text  # no household codes on the overview
    item = first_item(db, "answer")
    page = reviewer.get(item_url(item))
    assert page.status_code == 200 and item.serial in page.text
    image = reviewer.get(f"/image/field/{item.page_ids[0]}/{item.key}.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:2] == b"\xff\xd8"
    assert reviewer.get(f"/image/page/{item.page_ids[0]}.jpg").data[:2] == b"\xff\xd8"
    assert reviewer.get(f"/page/{item.page_ids[0]}").status_code == 200
    assert reviewer.get("/qc").status_code == 200
    assert supervisor.get("/log").status_code == 200
    english = reviewer.get("/lang/en", headers={"Referer": "http://localhost/"})
    assert english.status_code == 302 and "Overview" in reviewer.get("/").text


def test_two_reviewers_never_hold_one_item(app, db):
    lan, minh = logged_in(app, "lan"), logged_in(app, "minh")
    first = lan.get("/next").headers["Location"]
    assert lan.get(first).status_code == 200
    assert minh.get(first).status_code == 409  # leased to lan
    assert minh.get("/next").headers["Location"] != first
    ident = re.search(r"id=([^&]+)", first).group(1)
    response = post(minh, "/decide", {"id": unquote(ident), "value": ""})
    assert response.status_code == 409 and "lan" in response.text  # refused: lan holds it
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0


def test_decisions_settle_a_form_and_change_the_export(app, db, tmp_path):
    item = first_item(db, "answer", "over-max")
    client = logged_in(app, "lan")
    client.get(item_url(item))
    with Store(db) as store:
        machine = store.db.execute("SELECT value FROM answers WHERE serial = ? AND field_id = ?", (item.serial, item.key)).fetchone()[
            0
        ]
        others = [i for i in open_items(store) if i.serial == item.serial and i.ident != item.ident]
    # The office stack (seed 8) lost page 4 of that form: its missing page
    # is the one other doubt, so the form waits for it.
    assert [(i.kind, i.reasons) for i in others] == [("page", ("missing-page",))]
    response = post(client, "/decide", {"id": item.ident, "value": "2", "note": "checked the paper"})
    assert response.status_code == 302 and "/next" in response.headers["Location"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT serial, field_id, old_value, new_value, reviewer, reason FROM decisions").fetchall() == [
            (item.serial, item.key, machine, "2", "lan", "checked the paper")
        ]
        status = con.execute("SELECT status FROM forms WHERE serial = ?", (item.serial,)).fetchone()[0]
        # The machine's reading is still there, untouched.
        stored = con.execute("SELECT readings FROM pages WHERE id = ?", (item.page_ids[0],)).fetchone()[0]
    assert f'"{item.key}"' in stored
    assert status == "needs_review"
    post(client, "/decide", {"id": others[0].ident, "value": keys.NOT_RETURNED})
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM forms WHERE serial = ?", (item.serial,)).fetchone()[0] == "resolved"
    export_records(db, tmp_path / "records.csv")
    with (tmp_path / "records.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["form_id"] == item.serial)
    assert row[item.key] == "2"
    with Store(db) as store:
        assert item.ident not in {i.ident for i in open_items(store)}


def test_unknown_code_is_refused_with_a_message(app, db):
    item = first_item(db, "answer")
    client = logged_in(app, "lan")
    response = post(client, "/decide", {"id": item.ident, "value": "99"})
    # The item again, with why, in the reviewer's language; nothing written.
    assert response.status_code == 400 and "không phải là phương án trả lời" in response.text
    assert 'id="item"' in response.text
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0


def test_supervisor_reopens_a_decision(app, db, tmp_path):
    item = first_item(db, "answer")
    post(logged_in(app, "lan"), "/decide", {"id": item.ident, "value": ""})
    boss = logged_in(app, "boss")
    assert item.serial in boss.get("/log").text
    response = post(boss, "/reopen", {"survey": item.survey, "serial": item.serial, "key": item.key}, page="/log")
    assert response.status_code == 302 and "/item" in response.headers["Location"]  # straight back to change it
    with Store(db) as store:
        assert item.ident in {i.ident for i in open_items(store)}
        assert store.db.execute("SELECT status FROM forms WHERE serial = ?", (item.serial,)).fetchone()[0] == "needs_review"
        events = store.db.execute("SELECT new_value, reviewer FROM decisions ORDER BY id").fetchall()
    assert events == [("", "lan"), (None, "boss")]


def test_conflicting_scans_choose_one_page(app, db):
    item = first_item(db, "page", "duplicate-conflict")
    assert len(item.page_ids) == 2
    client = logged_in(app, "lan")
    page = client.get(item_url(item)).text
    assert all(f"/image/page/{p}.jpg" in page for p in item.page_ids)  # side by side
    post(client, "/decide", {"id": item.ident, "value": f"{keys.USE}{item.page_ids[1]}"})
    with Store(db) as store:
        used = {
            r[0]
            for r in store.db.execute(
                "SELECT page_id FROM answers WHERE serial = ? AND page_id IN (?, ?)", (item.serial, *item.page_ids)
            )
        }
        assert used == {item.page_ids[1]}
        assert item.ident not in {i.ident for i in open_items(store)}


def test_missing_page_recorded_as_not_returned(app, db):
    item = first_item(db, "page", "missing-page")
    post(logged_in(app, "lan"), "/decide", {"id": item.ident, "value": keys.NOT_RETURNED})
    with Store(db) as store:
        assert store.decisions()[(item.survey, item.serial, item.key)] == keys.NOT_RETURNED


def database_state(db) -> tuple:
    """Everything a decision could write: decisions, pages, forms, flags, answers."""
    with sqlite3.connect(db) as con:
        return tuple(
            con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("decisions", "pages", "forms", "flags", "answers")
        )


def test_a_forged_page_can_only_be_rejected(app, db):
    stray = first_item(db, "quarantine", "not-a-form")
    forged = first_item(db, "quarantine", "forged-code")
    client, boss = logged_in(app, "lan"), logged_in(app, "boss")
    assert 'id="assign"' not in client.get(item_url(forged)).text  # not even offered
    with Store(db) as store:
        serial = store.db.execute("SELECT serial FROM forms WHERE status = 'accepted' LIMIT 1").fetchone()[0]
    before = database_state(db)
    for who in (client, boss):  # nobody: a supervisor with a reason neither
        response = post(
            who,
            "/decide",
            {
                "id": forged.ident,
                "assign_survey": "sipas-household",
                "assign_serial": serial,
                "assign_page": "1",
                "note": "the household says it is theirs",
            },
        )
        assert response.status_code == 403 and "không xác thực được" in response.text
        who.get(f"/next?after={quote(forged.ident)}")  # leaves the item (its lease) for the next one
    assert database_state(db) == before
    post(client, "/decide", {"id": stray.ident, "value": keys.REJECTED})
    post(client, "/decide", {"id": forged.ident, "value": keys.REJECTED})
    with Store(db) as store:
        remaining = {i.ident for i in open_items(store)}
        assert store.db.execute("SELECT status FROM pages WHERE id = ?", (forged.page_ids[0],)).fetchone()[0] == "quarantined"
    assert stray.ident not in remaining and forged.ident not in remaining


def test_blind_re_entry_measures_disagreement(app, db):
    boss, lan = logged_in(app, "boss"), logged_in(app, "lan")
    post(boss, "/qc/draw", {"forms": "2"}, page="/qc")
    task_page = lan.get("/qc/next").text
    assert "Máy đọc được" not in task_page  # blind: the machine's reading is not shown
    with Store(db) as store:
        tasks = []
        task = qc.next_task(store)
        while task is not None and len(tasks) < 6:
            tasks.append(task)
            machine = store.db.execute(
                "SELECT value FROM answers WHERE serial = ? AND field_id = ?", (task.serial, task.field_id)
            ).fetchone()[0]
            # Agree on all but the first answer.
            value = machine if len(tasks) > 1 else ("1" if machine != "1" else "2")
            post(lan, "/qc/enter", {"id": task.ident, "value": value}, page="/qc")
            task = qc.next_task(store)
        summary = qc.summary(store)
    assert (summary.forms, summary.entered, summary.disagreements) == (2, 6, 1)
    assert summary.low < 1 / 6 < summary.high
    assert "16.67 %" in lan.get("/qc").text


def test_wilson_interval():
    assert qc.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = qc.wilson_interval(1, 1000)
    assert 0.0001 < low < 0.001 < high < 0.006
    assert qc.wilson_interval(0, 100)[0] == 0.0


def test_overview_counts_and_return_rates(app, db, office_scan):
    client = logged_in(app, "lan")
    html = client.get("/").text
    with sqlite3.connect(db) as con:
        accepted = con.execute("SELECT count(*) FROM forms WHERE status = 'accepted'").fetchone()[0]
    assert f'id="count-accepted">{accepted}<' in html
    # A return rate per village: the forms the simulated households sent
    # back over the four printed for each.
    with (office_scan / "sim" / "truth.csv").open(encoding="utf-8") as f:
        returned = Counter((r["commune"], r["village"]) for r in csv.DictReader(f))
    table = re.search(r'<table id="villages">(.*?)</table>', html, re.S).group(1)
    rows = [
        [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)[:5]]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    ]
    assert rows == [[commune, village, "4", str(n), f"{100 * n / 4:.0f} %"] for (commune, village), n in sorted(returned.items())]
    assert sorted(returned.values()) == [3, 3]  # seed 8: one form of each village never came back


def test_a_page_whose_marks_the_scan_lost_is_answered_question_by_question(app, db, tmp_path):
    from sipas_scan.assembly.derive import rebuild_form

    with Store(db) as store:
        serial, page_id, raw = store.db.execute(
            "SELECT p.serial, p.id, p.readings FROM pages p JOIN forms f ON f.serial = p.serial"
            " WHERE f.status = 'accepted' AND p.page_no = 1 AND p.status = 'ok' LIMIT 1"
        ).fetchone()
        readings = json.loads(raw)
        for field in readings["fields"]:  # pencil gone in a black-and-white scan
            field.update(value="", flags=[], confidence=1.0)
        with store.transaction() as con:
            con.execute("UPDATE pages SET readings = ? WHERE id = ?", (json.dumps(readings), page_id))
        rebuild_form(store, "sipas-household", serial)
        page_item = next(i for i in open_items(store) if i.serial == serial and i.key == keys.marks_key(1))
    client = logged_in(app, "lan")
    assert "nhập từng câu" in client.get(item_url(page_item)).text
    post(client, "/decide", {"id": page_item.ident, "value": keys.ANSWER_EACH})
    with Store(db) as store:
        questions = [i for i in open_items(store) if i.serial == serial and i.kind == "answer"]
    assert {i.key for i in questions} == {f["field_id"] for f in readings["fields"]}
    for question in questions:
        post(client, "/decide", {"id": question.ident, "value": "1"})
    # A form whose first page lost its marks has its other pages looked at
    # too: each is confirmed as read.
    with Store(db) as store:
        others = [i for i in open_items(store) if i.serial == serial and i.kind != "comment"]
    assert {i.key for i in others} == {keys.marks_key(n) for n in range(2, 5)}
    for page in others:
        post(client, "/decide", {"id": page.ident, "value": keys.CONFIRMED})
    with Store(db) as store:
        assert store.db.execute("SELECT status FROM forms WHERE serial = ?", (serial,)).fetchone()[0] == "resolved"
    export_records(db, tmp_path / "records.csv")
    with (tmp_path / "records.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["form_id"] == serial)
    assert all(row[i.key] == "1" for i in questions)


def test_rejecting_from_a_page_item_is_one_event_and_reopening_brings_everything_back(app, db):
    item = first_item(db, "page", "missing-page")
    client, boss = logged_in(app, "lan"), logged_in(app, "boss")
    post(client, "/decide", {"id": item.ident, "value": keys.REJECTED})
    with Store(db) as store:
        assert store.db.execute("SELECT status FROM forms WHERE serial = ?", (item.serial,)).fetchone()[0] == "rejected"
        assert [r[0] for r in store.db.execute("SELECT field_id FROM decisions")] == [keys.FORM]
        assert not [i for i in open_items(store) if i.serial == item.serial and i.kind != "comment"]
    post(boss, "/reopen", {"survey": item.survey, "serial": item.serial, "key": keys.FORM}, page="/log")
    with Store(db) as store:
        assert item.ident in {i.ident for i in open_items(store)}


def test_a_decision_submitted_twice_lands_once(app, db):
    item = first_item(db, "answer")
    client = logged_in(app, "lan")
    post(client, "/decide", {"id": item.ident, "value": ""})
    from sipas_scan.review import actions

    with Store(db) as store, pytest.raises(actions.ReviewError, match="has been decided"):
        actions.decide(store, item, "", "lan")
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1


def test_sessions_end_after_a_working_day_and_follow_role_changes(app, db):
    client = logged_in(app, "boss")
    assert client.get("/log").status_code == 200
    with Store(db) as store:
        accounts.add_user(store, "boss", "reviewer", PASSWORDS["boss"])
    assert client.get("/log").status_code == 302  # demoted: the session ends at once, not at the next login
    client = logged_in(app, "boss")
    assert client.get("/log").status_code == 403
    set_session_clock(db, "boss", age_hours=8.1)
    assert client.get("/").status_code == 302


def test_blind_re_entry_refuses_what_is_not_in_the_sample(app, db):
    boss = logged_in(app, "boss")
    post(boss, "/qc/draw", {"forms": "1"}, page="/qc")
    assert post(boss, "/qc/enter", {"id": "garbage", "value": "1"}, page="/qc").status_code == 400
    assert post(boss, "/qc/enter", {"id": "1|sipas-household|0000000|a1", "value": "1"}, page="/qc").status_code == 400
    assert post(boss, "/qc/draw", {"forms": "many"}, page="/qc").status_code == 400


def test_an_unread_copy_shows_both_scans_and_the_read_one_is_chosen(app, db):
    from sipas_scan.assembly.derive import rebuild_form

    with Store(db) as store:
        serial, page_id, source_id, image = store.db.execute(
            "SELECT p.serial, p.id, p.source_id, p.image_path FROM pages p JOIN forms f ON f.serial = p.serial"
            " WHERE f.status = 'accepted' AND p.page_no = 2 AND p.status = 'ok' LIMIT 1"
        ).fetchone()
        # Another copy of that page came in a file and could not be aligned.
        with store.transaction() as tx:
            copy_id = tx.execute(
                "INSERT INTO pages (source_id, page_index, status, reason, detail, survey, serial, page_no, image_path,"
                " read_at) VALUES (?, 9999, 'quarantined', 'poor-alignment', 'bent', 'sipas-household', ?, 2, ?, '')",
                (source_id, serial, image),
            ).lastrowid
        assert rebuild_form(store, "sipas-household", serial) == "needs_review"
    item = first_item(db, "page", "unread-copy")
    assert item.serial == serial and set(item.page_ids) == {page_id, copy_id}
    client = logged_in(app, "lan")
    page = client.get(item_url(item)).text
    assert all(f"/image/page/{p}.jpg" in page for p in item.page_ids)
    assert "Trang 2 có một bản quét khác không đọc được" in page and "Dùng bản đã đọc" in page
    post(client, "/decide", {"id": item.ident, "value": f"{keys.USE}{page_id}"})
    with Store(db) as store:
        rebuild_form(store, "sipas-household", serial)
        assert store.db.execute("SELECT status FROM forms WHERE serial = ?", (serial,)).fetchone()[0] == "resolved"


def test_app_processes_given_one_session_key_share_logins(db, office_scan, tmp_path):
    # Two processes behind one address (or one restarted): the session lives
    # in the database, the cookie is signed with the key they share.
    key = b"k" * 32
    first, second = (create_app(db, office_scan / "ledger.sqlite", session_key=key) for _ in range(2))
    session = logged_in(first, "lan").get_cookie("session").value
    other = second.test_client()
    other.set_cookie("session", session)
    assert other.get("/").status_code == 200 and "lan" in other.get("/").text
    # Without the same key the cookie means nothing to the other process.
    stranger = create_app(db, office_scan / "ledger.sqlite", session_key=b"x" * 32).test_client()
    stranger.set_cookie("session", session)
    assert stranger.get("/").status_code == 302


def test_review_refuses_a_short_session_key_file(db, tmp_path):
    from test_cli import run

    (tmp_path / "key").write_bytes(b"short")
    result = run("review", "--db", str(db), "--session-key-file", str(tmp_path / "key"), cwd=tmp_path)
    assert result.returncode != 0 and "32 bytes" in result.stderr and len(result.stderr.strip().splitlines()) == 1
