"""The review app's screens over HTTP (issue 12, points 11-13): picking and
leasing are one step, everything in Vietnamese without internal codes, the
decision log in words and in Vietnam's time, crops with their headings and
keys, a filter question as one item, quarantined pages upright, two scans
with their files. The keyboard's side is in test_review_browser.py."""

import datetime as dt
import html
import json
import re
import threading
from urllib.parse import quote

import cv2
import numpy as np
import pytest
from test_review import logged_in as log_in_as
from test_review import post

from conftest import copy_database
from sipas_scan.assembly import decisions as keys
from sipas_scan.assembly.derive import rebuild_form
from sipas_scan.layout import TextRun, survey_and_layout
from sipas_scan.review import accounts, crops, screens
from sipas_scan.review.app import create_app
from sipas_scan.review.labels import LABELS, REASONS, detail_text, local_time, reason_label
from sipas_scan.review.queue import find_item, neighbour, open_idents, open_items, take_next
from sipas_scan.store.db import Store

PASSWORD = "reviewer-pass-1"
REVIEWERS = [f"r{n}" for n in range(12)]
SURVEY = "sipas-household"


@pytest.fixture
def db(office_scan, tmp_path):
    path = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(path) as store:
        for name in REVIEWERS:
            accounts.add_user(store, name, "reviewer", PASSWORD)
        accounts.add_user(store, "boss", "supervisor", PASSWORD)
    return path


@pytest.fixture
def app(db, office_scan):
    return create_app(db, office_scan / "ledger.sqlite")


def logged_in(app, name="r0"):
    return log_in_as(app, name, PASSWORD)


def item_url(item) -> str:
    return f"/item?id={quote(item.ident)}"


def visible_text(page: str) -> str:
    """What a person reads on a page: tags, scripts and the language switch
    (named in the other language on purpose) left out."""
    page = re.sub(r'<a [^>]*id="lang"[^>]*>.*?</a>', "", page, flags=re.DOTALL)
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


ENGLISH = re.compile(
    r"\b(page|pages|scanned|twice|reviewer|supervisor|quarantined|forged|could not|does not|ledger|"
    r"serial|read from|answered although|not a|OK|Confirm|Reject|Skip)\b"
)
CODES = re.compile(
    r"use:\d|assign:|#(page|form|marks|missing|quarantine)|\b(skip-rule|forged-code|not-a-form|"
    r"duplicate-conflict|missing-page|over-max|ocr-review|needs_review|sipas-household)\b|\bp\. \d"
)


def assert_vietnamese(page: str, where: str) -> None:
    text = visible_text(page)
    assert not ENGLISH.search(text), (where, ENGLISH.search(text).group(0), text[:3000])
    assert not CODES.search(text), (where, CODES.search(text).group(0), text[:3000])


# ---- point 11: picking and leasing are one step ----------------------------
def test_next_leases_the_item_it_picks(app, db):
    """Without a lease taken by /next itself, a second reviewer asking before
    the first opened the item was sent to the same one (40 % of /next under
    20 clients landed on "leased by someone else")."""
    first, second = logged_in(app, "r0"), logged_in(app, "r1")
    one = first.get("/next").headers["Location"]
    two = second.get("/next").headers["Location"]
    assert one != two
    assert first.get(one).status_code == 200 and second.get(two).status_code == 200


def test_reviewers_asking_at_once_never_get_one_item(db):
    results: dict[str, str | None] = {}
    barrier = threading.Barrier(len(REVIEWERS))

    def ask(name: str) -> None:
        with Store(db) as store:
            barrier.wait()
            item = take_next(store, name)
            results[name] = item.ident if item else None

    threads = [threading.Thread(target=ask, args=(name,)) for name in REVIEWERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [ident for ident in results.values() if ident]
    with Store(db) as store:
        available = len(open_items(store))
    assert len(taken) == min(available, len(REVIEWERS)) and len(set(taken)) == len(taken)


def test_moving_on_releases_the_last_item(app, db):
    client = logged_in(app, "r0")
    first = client.get("/next").headers["Location"]
    ident = re.search(r"id=([^&]+)", first).group(1)
    client.get(f"/next?after={ident}")
    other = logged_in(app, "r1")
    assert other.get(first).status_code == 200  # r0 moved on: the item is free again


def test_a_held_item_offers_the_next_free_one(app, db):
    holder, other = logged_in(app, "r0"), logged_in(app, "r1")
    held = holder.get("/next").headers["Location"]
    page = other.get(held)
    assert page.status_code == 409 and "r0" in page.text
    link = re.search(r'<a href="([^"]+)"\s+id="next-free" data-key="n">([^<]+)</a>', page.text)
    assert link and "phím N" in link.group(2)
    target = other.get(html.unescape(link.group(1))).headers["Location"]
    assert target != held and other.get(target).status_code == 200


# ---- point 12: Vietnamese everywhere ----------------------------------------
def test_every_screen_is_vietnamese_without_internal_codes(app, db):
    reviewer, boss = logged_in(app, "r0"), logged_in(app, "boss")
    with Store(db) as store:
        queue = open_items(store)
        first = queue[0]
    assert {i.kind for i in queue} >= {"answer", "comment", "page", "quarantine"}
    pages = {"/": reviewer.get("/").text, "/qc": reviewer.get("/qc").text, "/log": boss.get("/log").text}
    for item in queue:
        pages[item.ident] = reviewer.get(item_url(item)).text
        for page_id in item.page_ids:
            pages[f"/page/{page_id}"] = reviewer.get(f"/page/{page_id}").text
    post(reviewer, "/decide", {"id": first.ident, "value": "" if first.kind != "quarantine" else keys.REJECTED})
    pages["/log after"] = boss.get("/log").text
    pages["404"] = reviewer.get("/page/999999").text
    pages["already decided"] = reviewer.get(item_url(first)).text
    for where, page in pages.items():
        assert_vietnamese(page, where)
    overview = pages["/"]
    assert "Trang tạm giữ" in overview and "cách ly" not in overview
    assert "(người duyệt)" in overview and "(giám sát viên)" in pages["/log"]
    assert "mã QR không hợp lệ" in visible_text(overview)  # quarantine reasons in words


def test_every_reason_and_label_has_both_languages():
    for table in (LABELS, REASONS):
        for key, texts in table.items():
            assert texts.get("vi") and texts.get("en"), key
    assert reason_label("no-such-reason", "vi") == "lý do khác"


@pytest.mark.parametrize(
    "detail, expected",
    [
        ("page 3 was not scanned", "Trang 3 không có trong các tệp quét."),
        (
            "page 2 scanned twice: '4' (stack-001.pdf p. 7) and '' (rescan-0001.jpg p. 1)",
            "Trang 2 được quét hai lần: 4 (stack-001.pdf tr. 7) và (để trống) (rescan-0001.jpg tr. 1).",
        ),
        (
            "page 2 read from a.pdf p. 3; another copy (b.pdf p. 9) could not be read: poor-alignment",
            "Trang 2 được đọc từ a.pdf tr. 3; một bản khác (b.pdf tr. 9) không đọc được: trang bị cong, lệch.",
        ),
        ("answered although a5 says it does not apply", "Đã được trả lời dù câu A5 cho biết câu này không áp dụng."),
        ("markers disagree by 1.84 mm (page bent or torn?)", "Các dấu định vị lệch nhau 1.84 mm (trang bị cong hoặc rách?)."),
        (
            "page 3 (s.pdf p. 5) placed by its neighbours: after page 2 (s.pdf p. 4)",
            "Trang 3 (s.pdf tr. 5) nằm ngay sau trang 2 của phiếu này (s.pdf tr. 4).",
        ),
        (
            "page 3 (s.pdf p. 5) placed by its neighbours: after page 2 (s.pdf p. 4);"
            " its printed serial read 0000999 (fails its check digit)",
            "Trang 3 (s.pdf tr. 5) nằm ngay sau trang 2 của phiếu này (s.pdf tr. 4)."
            " Số phiếu in trên trang đọc được là 0000999, sai chữ số kiểm tra: hãy so với phiếu.",
        ),
        (
            "page 4 (s.pdf p. 12) placed by its neighbours: between pages 2 and 3 (s.pdf p. 11; s.pdf p. 13);"
            " its other printed serial line read 0009969",
            "Trang 4 (s.pdf tr. 12) nằm giữa trang 2 và trang 3 của phiếu này (s.pdf tr. 11; s.pdf tr. 13)."
            " Một dòng số phiếu in trên trang đọc đúng số phiếu này, dòng kia đọc được là 0009969: hãy so với phiếu.",
        ),
        (
            "page 1 (s.pdf p. 93) placed by its neighbours: next to page 3 (s.pdf p. 94), the only form beside it without this page",
            "Trang 1 (s.pdf tr. 93) nằm cạnh trang 3 của phiếu này (s.pdf tr. 94);"
            " trong các phiếu nằm cạnh nó, chỉ phiếu này chưa có trang 1.",
        ),
        (
            "no form code, no corner markers and no form's print: not a page of a form",
            "Không có mã phiếu, không có dấu định vị góc, và chữ in không khớp với trang phiếu nào: không phải trang phiếu.",
        ),
        (
            "page 4: 1 of its questions without marks, where the form's marks vanish elsewhere",
            "Trang 4: 1 câu không có dấu, trong khi ở chỗ khác trên phiếu có dấu bị mất hoặc rất mờ.",
        ),
        (
            "page 2: its answers to check against the paper, where the form's marks vanish elsewhere",
            "Trang 2: đối chiếu các câu trả lời với phiếu giấy, vì ở chỗ khác trên phiếu có dấu bị mất hoặc rất mờ.",
        ),
        ("something the reader says that nobody translated", ""),
    ],
)
def test_details_are_told_in_vietnamese(detail, expected):
    assert detail_text(detail, "vi", lambda q: q.upper()) == expected


def test_local_time_is_vietnams():
    assert local_time("2026-01-31T20:15:00+00:00") == "01/02/2026 03:15:00"


# ---- point 12: the decision log ----------------------------------------------
def test_the_log_speaks_in_words_and_vietnams_time(app, db):
    with Store(db) as store:
        conflict = next(i for i in open_items(store) if "duplicate-conflict" in i.reasons)
        answer = next(i for i in open_items(store) if i.kind == "answer" and i.serial != conflict.serial)
    client = logged_in(app, "r0")
    post(client, "/decide", {"id": conflict.ident, "value": f"{keys.USE}{conflict.page_ids[1]}"})
    post(client, "/decide", {"id": answer.ident, "value": "2"})
    decided_at = dt.datetime.now(dt.UTC)
    page = logged_in(app, "boss").get("/log").text
    text = visible_text(page)
    with Store(db) as store:
        scanned = store.scanned_file(conflict.page_ids[1])
    assert f"Trang {conflict.page_no}: bản quét được tính" in text
    assert f"Dùng bản quét tệp {scanned.path.name}, trang {scanned.page_index + 1} trong tệp" in text
    question = survey_and_layout(SURVEY)[0].field(answer.key)
    option = next(o.label for o in question.options if o.code == "2")
    assert f"Câu {question.label}" in text and f"2 – {option}" in text
    assert "use:" not in text and answer.key not in text.split()
    shown = dt.datetime.strptime(re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", text).group(0), "%d/%m/%Y %H:%M:%S")
    assert abs(shown - (decided_at + dt.timedelta(hours=7)).replace(tzinfo=None)) < dt.timedelta(minutes=2)


def test_the_log_pages_past_500_rows(app, db):
    with Store(db) as store:
        item = next(i for i in open_items(store) if i.kind == "answer")
        for n in range(620):  # a key decided, reopened, decided again...
            store.add_decision(item.survey, item.serial, item.key, None, None if n % 2 else "1", "r0", f"lần {n}")
    boss = logged_in(app, "boss")
    newest = boss.get("/log").text
    assert newest.count("<tr>") == 1 + screens.LOG_PAGE_ROWS
    assert "lần 619" in newest and "lần 120" in newest and "lần 119" not in newest
    older = re.search(r'<a href="([^"]+)" id="log-older">', newest)
    assert older and 'id="log-newest"' not in newest
    second = boss.get(html.unescape(older.group(1))).text
    assert "lần 119" in second and "lần 0<" in second and "lần 120" not in second
    assert second.count("<tr>") == 1 + 120 and 'id="log-older"' not in second and 'id="log-newest"' in second
    assert boss.get("/log?before=abc").status_code == 400


# ---- point 13: crops, a filter question, upright pages, two scans ----------
def test_a_grid_rows_crop_carries_the_column_headings():
    survey, layout = survey_and_layout(SURVEY)
    row = layout.field("c3_4")
    plan = crops.crop_plan(SURVEY, row.page, "c3_4")
    header, main = plan.strips
    assert header[1] + header[3] < main[1]  # headings above, the row itself below
    grid = next(g for g in survey.grids() if g.id == "b_f3")
    printed = [d for d in layout.pages[row.page - 1].drawing if isinstance(d, TextRun)]
    for option in grid.options:
        first_word = option.label.split()[0]
        assert any(d.text.startswith(first_word) and header[1] < d.y < header[1] + header[3] for d in printed), option
    assert main[1] < row.options[0].box[1] < main[1] + main[3]
    first = crops.crop_plan(SURVEY, layout.field("c3_1").page, "c3_1")
    assert first.joined and first.strips[0][1] + first.strips[0][3] == pytest.approx(first.strips[1][1])
    assert not crops.crop_plan(SURVEY, layout.field("a1").page, "a1").key_band


def _orange(image: np.ndarray) -> np.ndarray:
    b, g, r = (image[..., i].astype(int) for i in range(3))
    return (r - b > 80) & (r > 150)


def test_each_option_key_is_drawn_on_the_crop(db):
    with Store(db) as store:
        stored = next(
            store.page_image(p) for (p,) in store.db.execute("SELECT id FROM pages WHERE status = 'ok' AND page_no = 1 ORDER BY id")
        )
        crop = crops.field_crop(stored, SURVEY, 1, "a2")
    _, layout = survey_and_layout(SURVEY)
    fld = layout.field("a2")
    image = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
    plan = crops.crop_plan(SURVEY, 1, "a2")
    s, k = 8.0, crops.CROP_SCALE
    x0, y0 = int(plan.strips[0][0] * s), int(plan.strips[0][1] * s)
    for option in fld.options:
        bx, by, bw, bh = option.box
        left, top, bottom = int((bx * s - x0) * k), int((by * s - y0) * k), int(((by + bh) * s - y0) * k)
        tag = image[top:bottom, max(0, left - int(5 * s * k)) : left - int(crops.KEY_GAP_MM * s * k) + 2]
        assert _orange(tag).mean() > 0.3, option.code  # a key tag beside every box
        box = image[top + 4 : bottom - 4, left + 4 : left + int(bw * s * k) - 4]
        assert not _orange(box).any(), option.code  # and nothing drawn in the box


def test_the_crop_route_shows_a_grid_row_under_its_headings(app, db):
    with Store(db) as store:
        page_id = store.db.execute("SELECT page_id FROM answers WHERE field_id = 'c3_4' LIMIT 1").fetchone()[0]
    client = logged_in(app)
    row = cv2.imdecode(np.frombuffer(client.get(f"/image/field/{page_id}/c3_4.jpg").data, np.uint8), cv2.IMREAD_COLOR)
    layout = survey_and_layout(SURVEY)[1]
    alone = (layout.field("c3_4").region[3] + 2 * crops.CROP_MARGIN_MM) * 8 * crops.CROP_SCALE
    assert row.shape[0] > alone + 60  # the headings and the keys above the row
    assert client.get(f"/image/field/{page_id}/b_f3.jpg").status_code == 200  # a whole grid
    assert client.get(f"/image/field/{page_id}/nonsense.jpg").status_code == 404


def _break_the_skip_rule(db) -> tuple[str, int]:
    """An accepted form whose A5 says "Có" and whose grid 5 is answered:
    its A5 now reads "Không", so grid 5 should have been left blank."""
    with Store(db) as store:
        for serial, page_id, raw in store.db.execute(
            "SELECT p.serial, p.id, p.readings FROM pages p JOIN forms f ON f.serial = p.serial"
            " WHERE f.status = 'accepted' AND p.status = 'ok' ORDER BY p.serial"
        ).fetchall():
            readings = json.loads(raw)
            a5 = next((f for f in readings["fields"] if f["field_id"] == "a5"), None)
            answers = dict(store.db.execute("SELECT field_id, value FROM answers WHERE serial = ?", (serial,)))
            if a5 and a5["value"] == "1" and all(answers.get(f"c5_{n}") for n in range(1, 5)):
                a5.update(value="2", flags=[])
                with store.transaction() as con:
                    con.execute("UPDATE pages SET readings = ? WHERE id = ?", (json.dumps(readings), page_id))
                assert rebuild_form(store, SURVEY, serial) == "needs_review"
                return serial, page_id
    pytest.fail("no form answers A5 'Có' and grid 5")


def test_a_skip_rule_problem_is_one_item_about_the_filter_question(app, db):
    serial, a5_page = _break_the_skip_rule(db)
    with Store(db) as store:
        mine = [i for i in open_items(store) if i.serial == serial]
        flagged = store.db.execute("SELECT field_id FROM flags WHERE serial = ? AND reason = 'skip-rule'", (serial,)).fetchall()
    assert sorted(f for (f,) in flagged) == ["c5_1", "c5_2", "c5_3", "c5_4"]  # the export still names each
    [item] = [i for i in mine if "skip-rule" in i.reasons]
    assert item.key == "a5" and item.kind == "answer" and item.page_ids[0] == a5_page
    client = logged_in(app)
    page = client.get(item_url(item)).text
    text = visible_text(page)
    assert "Câu A5 cho biết các câu dưới đây không áp dụng" in text
    assert all(f"5.{n}" in text for n in range(1, 5)) and "Các câu đã được trả lời" in text
    assert f"/image/field/{a5_page}/a5.jpg" in page
    grid_crop = re.search(r'id="dependants-crop"[^>]*src="([^"]+)"', page.replace("\n", " "))
    assert grid_crop and grid_crop.group(1).endswith("/b_f5.jpg")
    assert client.get(html.unescape(grid_crop.group(1))).status_code == 200
    assert 'id="dependants-page"' in page  # and the whole page
    # "Không" confirmed: one decision settles the four answers (scoring leaves them out).
    post(client, "/decide", {"id": item.ident, "value": "2"})
    with Store(db) as store:
        assert not [i for i in open_items(store) if i.serial == serial and "skip-rule" in i.reasons]
        assert store.db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1


def test_a_page_quarantined_upside_down_is_shown_upright(app, db):
    with Store(db) as store:
        quarantined = [
            p for (p,) in store.db.execute("SELECT id FROM pages WHERE status = 'quarantined' AND reason = 'forged-code' ORDER BY id")
        ]
        gray = cv2.imdecode(np.frombuffer(store.page_image(quarantined[0]).read(), np.uint8), cv2.IMREAD_GRAYSCALE)
        ok_page = store.db.execute("SELECT id FROM pages WHERE status = 'ok' LIMIT 1").fetchone()[0]
        ok_jpeg = store.page_image(ok_page).read()
    client = logged_in(app)
    for turned in (cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE):
        # The page as it would have been stored lying that way.
        with Store(db) as store, store.transaction() as tx:
            stored = store.store_image(tx, cv2.imencode(".jpg", cv2.rotate(gray, turned))[1].tobytes())
            tx.query("UPDATE pages SET image_path = :stored WHERE id = :id", stored=stored, id=quarantined[0])
            assert crops.page_turn(crops.decoded_page(store.page_image(quarantined[0]))) != 0  # stored turned
        shown = cv2.imdecode(np.frombuffer(client.get(f"/image/page/{quarantined[0]}.jpg").data, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert crops.page_turn(shown) == 0 and shown.shape[0] > shown.shape[1]
    assert client.get(f"/image/page/{ok_page}.jpg").data == ok_jpeg  # aligned pages as stored


def test_two_scans_of_a_page_show_both_and_their_files(app, db):
    with Store(db) as store:
        item = next(i for i in open_items(store) if "duplicate-conflict" in i.reasons)
        files = [store.scanned_file(p) for p in item.page_ids[:2]]
    page = logged_in(app).get(item_url(item)).text
    figures = re.findall(r'<figure class="scan" data-page-id="(\d+)">.*?<figcaption[^>]*>(.*?)</figcaption>', page, flags=re.DOTALL)
    assert [int(p) for p, _ in figures] == list(item.page_ids[:2])
    for (_, caption), scanned, side in zip(figures, files, ("Bản trái", "Bản phải"), strict=True):
        caption = visible_text(caption)
        assert side in caption and scanned.path.name in caption and f"trang {scanned.page_index + 1} trong tệp" in caption
    assert all(f"/image/page/{p}.jpg" in page for p in item.page_ids[:2])


def test_find_item_reads_only_its_own_item(db):
    """Picking reads idents only, opening an item only its own flags: both
    agree with the whole queue."""
    with Store(db) as store:
        queue = open_items(store)
        assert open_idents(store) == [i.ident for i in queue]
        for item in queue:
            assert find_item(store, item.ident) == item
        assert find_item(store, "no|such|item") is None
        assert find_item(store, f"||{keys.quarantine_key(10**6)}") is None
        assert find_item(store, "garbage") is None


def test_a_doubtful_answer_comes_with_nothing_chosen(app, db):
    """Point 10 (the keys are in test_review_browser.py): the machine's
    reading is shown in words, no option is marked chosen, and the value
    sent is empty until the reviewer picks."""
    with Store(db) as store:
        answer = next(
            i
            for i in open_items(store)
            if i.kind == "answer"
            and store.db.execute("SELECT value FROM answers WHERE serial = ? AND field_id = ?", (i.serial, i.key)).fetchone()[0]
        )
        machine = store.db.execute(
            "SELECT value FROM answers WHERE serial = ? AND field_id = ?", (answer.serial, answer.key)
        ).fetchone()[0]
    page = logged_in(app).get(item_url(answer)).text
    assert 'class="option chosen"' not in page and "chosen" not in re.findall(r'class="(option[^"]*)"', page)
    assert re.search(r'<input type="hidden" name="value" id="value" value="">', page)
    assert 'data-choose="1"' in page
    question = survey_and_layout(SURVEY)[0].field(answer.key)
    label = next(o.label for o in question.options if o.code == machine.split(";")[0])
    assert label in re.search(r'id="machine">([^<]*)<', page).group(1)


def test_next_and_previous_wrap_around_and_skip_held_items():
    queue = ["s|1|a1", "s|1|a2", "s|2|a1", "||#quarantine:7"]
    held = {"s|1|a2": "minh", "s|2|a1": "lan"}
    assert neighbour(queue, held, "lan", None) == "s|1|a1"
    assert neighbour(queue, held, "lan", "s|1|a1") == "s|2|a1"  # a2 is minh's; lan's own lease counts as free
    assert neighbour(queue, held, "lan", "||#quarantine:7") == "s|1|a1"  # wraps round
    assert neighbour(queue, held, "lan", "s|1|a1", -1) == "||#quarantine:7"
    assert neighbour(queue, held, "lan", "s|1|a3") == "s|2|a1"  # a decided item: on from where it stood
    assert neighbour(queue, held, "lan", "s|1|a3", -1) == "s|1|a1"
    assert neighbour(["s|1|a2"], held, "lan", None) is None
