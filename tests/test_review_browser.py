"""End to end in a real headless browser (Debian's chromium + chromedriver):
log in, clear the whole review queue with the keyboard only, and see the
export match the simulated truth; and the keyboard's promises one by one:
Enter on a focused link or button does that element's action, never the
decision; nothing is chosen for the reviewer; a digit that unpicks a choice
says so; a held item is no dead end; Enter while a Vietnamese input method
composes belongs to the input method."""

import csv
import json
import shutil
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from conftest import copy_database
from sipas_scan.assembly import decisions as keys
from sipas_scan.export import export_records
from sipas_scan.review import accounts
from sipas_scan.review.app import create_app
from sipas_scan.review.queue import open_items, take_lease
from sipas_scan.store.db import Store

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (./run test installs them)"
)
MAX_ITEMS = 80
PASSWORDS = {"lan": "reviewer-pass-1", "minh": "reviewer-pass-2"}


@pytest.fixture
def server(office_scan, tmp_path):
    db = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(db) as store:
        for name, password in PASSWORDS.items():
            accounts.add_user(store, name, "reviewer", password)
    httpd = make_server("127.0.0.1", 0, create_app(db, office_scan / "ledger.sqlite"), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", db
    httpd.shutdown()


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium for the module (it takes a second or two to
    start); each test gets it back with no cookies and a blank page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--disable-background-networking",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium):
    # Cookies are the browser's, whatever the port: a login must not carry
    # over to the next test's server.
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get("about:blank")
    yield chromium
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get("about:blank")


def read_truth(office_scan: Path) -> dict[str, dict]:
    with (office_scan / "sim" / "truth.csv").open(encoding="utf-8") as f:
        return {row["form_id"]: row for row in csv.DictReader(f)}


def page_matching_truth(db: Path, page_ids: list[int], truth_row: dict) -> int:
    """Of two scans of a page, the one whose marks are the truth's (the other is a photocopy filled differently)."""
    with Store(db) as store:
        for page_id in page_ids:
            readings = json.loads(store.db.execute("SELECT readings FROM pages WHERE id = ?", (page_id,)).fetchone()[0])
            if all(truth_row[f["field_id"]] == f["value"] for f in readings["fields"]):
                return page_id
    raise AssertionError(f"no scan of {page_ids} matches the truth")


def decisions(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT serial, field_id, new_value FROM decisions").fetchall()


def items(db: Path, kind: str | None = None, *, multi: bool | None = None) -> list:
    from sipas_scan.layout import survey_and_layout

    with Store(db) as store:
        found = [i for i in open_items(store) if kind is None or i.kind == kind]
    if multi is not None:
        found = [i for i in found if (survey_and_layout(i.survey)[0].field(i.key).kind == "multi") == multi]
    return found


def log_in(browser, url: str, name: str = "lan") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(url + "/login")
    browser.find_element(By.ID, "name").send_keys(name + Keys.TAB + PASSWORDS[name] + Keys.ENTER)
    browser.find_element(By.ID, "waiting")


def open_item(browser, url: str, item) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/item?id={quote(item.ident)}")
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") == item.ident


def keys_(browser, *sequence) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(*sequence).perform()


def stays(browser, seconds: float = 1.0) -> bool:
    """The page is still the same after ``seconds`` (nothing was submitted)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    body = browser.find_element(By.TAG_NAME, "body")
    try:
        WebDriverWait(browser, seconds).until(ec.staleness_of(body))
    except TimeoutException:
        return True
    return False


def wait_for_new_page(browser, old) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(ec.staleness_of(old))


def has(browser, element_id: str) -> bool:
    """Whether the page has the element, without the implicit wait."""
    return browser.execute_script("return !!document.getElementById(arguments[0])", element_id)


def test_clear_the_queue_with_the_keyboard(server, browser, office_scan, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    truth = read_truth(office_scan)
    log_in(browser, url)
    assert browser.find_element(By.ID, "waiting").text != "0"
    browser.save_screenshot(str(tmp_path / "overview.png"))

    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, "n")
    wait_for_new_page(browser, body)
    # The arrows move through the queue.
    first = browser.find_element(By.ID, "item").get_attribute("data-ident")
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ESCAPE, Keys.ARROW_RIGHT)  # Escape first: a comment item opens in its text box
    wait_for_new_page(browser, body)
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") != first
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ESCAPE, Keys.ARROW_LEFT)
    wait_for_new_page(browser, body)
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") == first

    settled = []
    for _ in range(MAX_ITEMS):
        if has(browser, "message"):
            break
        item = browser.find_element(By.ID, "item")
        kind, ident = item.get_attribute("data-kind"), item.get_attribute("data-ident")
        survey, serial, key = ident.split("|", 2)
        reasons = browser.find_element(By.ID, "reasons").text
        body = browser.find_element(By.TAG_NAME, "body")
        if kind == "answer":
            if not settled:
                browser.save_screenshot(str(tmp_path / "item.png"))
            assert browser.find_element(By.ID, "value").get_attribute("value") == ""  # nothing chosen for us
            codes = [c for c in truth[serial][key].split(";") if c]
            if not codes:
                keys_(browser, "0")
            for n, code in enumerate(codes):
                digit = browser.find_element(By.ID, f"option-{code}").get_attribute("data-key")
                if n and browser.find_element(By.ID, "decision").get_attribute("data-multi") == "0":
                    ActionChains(browser).key_down(Keys.SHIFT).send_keys(digit).key_up(Keys.SHIFT).perform()
                else:
                    keys_(browser, digit)
            assert browser.find_element(By.ID, "value").get_attribute("value") == truth[serial][key]
            keys_(browser, Keys.ENTER)
        elif kind == "comment":
            box = browser.find_element(By.ID, "comment")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            box.send_keys(truth[serial][key].replace("\n", " ") + Keys.ENTER)
        else:
            if kind == "page" and "hai bản quét khác nhau" in reasons:
                page_ids = [int(i.get_attribute("data-page-id")) for i in browser.find_elements(By.CSS_SELECTOR, "img.page")]
                value = f"{keys.USE}{page_matching_truth(db, page_ids, truth[serial])}"
            elif kind == "page" and "thiếu trang" in reasons:
                value = keys.NOT_RETURNED
            elif kind == "page":
                value = keys.CONFIRMED
            elif kind == "form":
                value = keys.KEPT
            else:
                assert kind == "quarantine", (kind, ident)
                value = keys.REJECTED  # stray and forged pages
            digit = browser.find_element(By.CSS_SELECTOR, f'.option[data-value="{value}"]').get_attribute("data-key")
            keys_(browser, digit, Keys.ENTER)
        wait_for_new_page(browser, body)
        settled.append((kind, ident))
    else:
        pytest.fail(f"queue not cleared after {MAX_ITEMS} items")
    assert {kind for kind, _ in settled} >= {"answer", "page", "quarantine"}

    export_records(db, tmp_path / "records.csv")
    with (tmp_path / "records.csv").open(encoding="utf-8") as f:
        exported = {row["form_id"]: row for row in csv.DictReader(f)}
    with (office_scan / "sim" / "anomalies.csv").open(encoding="utf-8") as f:
        not_returned = {a["serial"] for a in csv.DictReader(f) if a["kind"] == "not-returned"}
    assert exported and set(truth) - set(exported) <= not_returned
    for serial, row in truth.items():
        if serial not in exported:
            continue  # a form nobody returned
        assert exported[serial]["status"] in ("accepted", "resolved"), serial
        for column, value in row.items():
            if column in ("status", "t1"):
                continue
            assert exported[serial][column] == value, (serial, column)
    with Store(db) as store:
        reviewers = {r[0] for r in store.db.execute("SELECT DISTINCT reviewer FROM decisions")}
    assert reviewers == {"lan"}


def test_enter_on_a_focused_link_or_button_does_its_own_action(server, browser):
    """Issue 12, point 9: Tab to "Tổng quan", Enter recorded c4_1 = 1."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    answer = items(db, "answer", multi=False)[0]
    log_in(browser, url)
    open_item(browser, url, answer)
    keys_(browser, "1")  # a choice made: Enter from the item itself would confirm it
    assert browser.find_element(By.ID, "value").get_attribute("value") == "1"
    keys_(browser, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "nav-overview"
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ENTER)
    wait_for_new_page(browser, body)
    assert has(browser, "waiting") and not has(browser, "item")  # the overview, as the link says
    assert decisions(db) == []

    # The "skip" link: Enter skips, it does not confirm.
    open_item(browser, url, answer)
    keys_(browser, "1")
    browser.execute_script("document.getElementById('skip').focus()")
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ENTER)
    wait_for_new_page(browser, body)
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") != answer.ident
    assert decisions(db) == []

    # A focused option: Enter picks it (its own action) and sends nothing.
    open_item(browser, url, answer)
    browser.execute_script("document.getElementById('option-2').focus()")
    keys_(browser, Keys.ENTER)
    assert stays(browser)
    assert browser.find_element(By.ID, "value").get_attribute("value") == "2"
    assert decisions(db) == []
    # Focus left the option: Enter now comes from the item itself and confirms.
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ENTER)
    wait_for_new_page(browser, body)
    assert decisions(db) == [(answer.serial, answer.key, "2")]


def test_nothing_is_chosen_for_the_reviewer_and_enter_waits_for_a_choice(server, browser):
    """Point 10: the machine's reading of a doubtful answer is shown, not preselected."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    with Store(db) as store:
        answer = next(
            i
            for i in items(db, "answer")
            if store.db.execute("SELECT value FROM answers WHERE serial = ? AND field_id = ?", (i.serial, i.key)).fetchone()[0]
        )
    log_in(browser, url)
    open_item(browser, url, answer)
    assert browser.execute_script("return document.querySelectorAll('.option.chosen').length") == 0  # no implicit wait
    assert browser.find_element(By.ID, "value").get_attribute("value") == ""
    assert "Chưa chọn" in browser.find_element(By.ID, "selection").text
    assert browser.find_element(By.ID, "machine").text.split()[0] != ""  # the reading is there to see
    keys_(browser, Keys.ENTER)
    assert stays(browser)
    browser.find_element(By.ID, "confirm").click()  # nor the button
    assert stays(browser)
    assert decisions(db) == []
    keys_(browser, "0")
    assert "Để trống" in browser.find_element(By.ID, "selection").text
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, Keys.ENTER)
    wait_for_new_page(browser, body)
    assert decisions(db) == [(answer.serial, answer.key, "")]


def test_a_digit_in_multiple_choice_toggles_visibly(server, browser):
    """Point 10: a digit never silently removes a choice already made."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    multi = items(db, "answer", multi=True)
    assert multi, "the office stack always has a multiple-choice answer to review"
    log_in(browser, url)
    open_item(browser, url, multi[0])
    keys_(browser, "1", "3")
    selection = browser.find_element(By.ID, "selection")
    assert browser.find_element(By.ID, "value").get_attribute("value") == "1;3"
    assert "1 –" in selection.text and "3 –" in selection.text
    assert not browser.find_element(By.ID, "selection-removed").is_displayed()
    keys_(browser, "3")  # the same digit again takes 3 away, and says so
    assert browser.find_element(By.ID, "value").get_attribute("value") == "1"
    removed = browser.find_element(By.ID, "selection-removed")
    assert removed.is_displayed() and "Vừa bỏ chọn" in removed.text and "3 –" in removed.text
    assert [b.get_attribute("data-value") for b in browser.find_elements(By.CSS_SELECTOR, ".option.chosen")] == ["1"]
    keys_(browser, "1")  # nothing left: Enter does nothing
    assert browser.find_element(By.ID, "value").get_attribute("value") == ""
    keys_(browser, Keys.ENTER)
    assert stays(browser)
    assert decisions(db) == []


def test_a_held_item_is_no_dead_end(server, browser):
    """Point 11: the page for an item someone else holds offers the next free one by key."""
    from selenium.webdriver.common.by import By

    url, db = server
    held = items(db)[0]
    with Store(db) as store:
        assert take_lease(store, held.ident, "minh") is None
    log_in(browser, url)
    browser.get(f"{url}/item?id={quote(held.ident)}")
    assert "minh" in browser.find_element(By.ID, "message").text
    link = browser.find_element(By.ID, "next-free")
    assert "phím N" in link.text
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, "n")
    wait_for_new_page(browser, body)
    ident = browser.find_element(By.ID, "item").get_attribute("data-ident")
    assert ident and ident != held.ident


def test_enter_while_an_input_method_composes_is_the_input_methods(server, browser):
    """Point 14: Vietnamese is typed with Telex or VNI; Enter that ends a
    composition must not send the half-typed comment."""
    from selenium.webdriver.common.by import By

    url, db = server
    comments = items(db, "comment")
    assert comments, "the office stack always has a comment to transcribe"
    log_in(browser, url)
    open_item(browser, url, comments[0])
    box = browser.find_element(By.ID, "comment")
    box.clear()
    box.click()
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
    browser.execute_cdp_cmd("Input.insertText", {"text": "Cán bộ nhiệt tình, chu đáo v"})
    browser.execute_cdp_cmd("Input.imeSetComposition", {"text": "vớ", "selectionStart": 2, "selectionEnd": 2})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", **enter})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    assert stays(browser)
    assert decisions(db) == []
    browser.execute_cdp_cmd("Input.insertText", {"text": "ới dân"})  # the composition is committed
    body = browser.find_element(By.TAG_NAME, "body")
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", **enter})
    wait_for_new_page(browser, body)
    [(serial, key, text)] = decisions(db)
    assert (serial, key) == (comments[0].serial, comments[0].key)
    assert text.startswith("Cán bộ nhiệt tình, chu đáo") and text.endswith("ới dân")


MISREAD_TAIL = "; its printed serial read 0000999 (fails its check digit)"
AFTER_PAGE_1 = "after page 1 (stack.pdf p. 1)"


def _placed_by_the_stack(db: Path, ledger: Path, where: str = AFTER_PAGE_1 + MISREAD_TAIL) -> tuple[str, int]:
    """An accepted form's page 2, stored as a page nothing printed on it
    named, then placed by its neighbours (as scan does); (serial, page id)."""
    from sipas_scan.assembly.derive import derive_pending
    from sipas_scan.assembly.placement import Placement

    with sqlite3.connect(db) as con:
        survey, serial, page_id = con.execute(
            "SELECT p.survey, p.serial, p.id FROM pages p JOIN forms f ON f.serial = p.serial"
            " WHERE f.status = 'accepted' AND p.page_no = 2 AND p.status = 'ok' ORDER BY p.id LIMIT 1"
        ).fetchone()
        [first] = con.execute("SELECT id FROM pages WHERE serial = ? AND page_no = 1 AND status = 'ok'", (serial,)).fetchone()
        con.execute("UPDATE pages SET status = 'quarantined', reason = 'no-code', serial = '' WHERE id = ?", (page_id,))
    with Store(db) as store:
        assert store.place_page(Placement(page_id, survey, serial, 2, where, (first,)))
        derive_pending(store, ledger)
    return serial, page_id


@pytest.mark.parametrize(
    ("where", "told"),
    [
        (
            AFTER_PAGE_1 + MISREAD_TAIL,
            ["nằm ngay sau trang 1 của phiếu này", "Số phiếu in trên trang đọc được là 0000999, sai chữ số kiểm tra"],
        ),
        (
            AFTER_PAGE_1 + "; its other printed serial line read 0009969",
            [
                "nằm ngay sau trang 1 của phiếu này",
                "Một dòng số phiếu in trên trang đọc đúng số phiếu này, dòng kia đọc được là 0009969",
            ],
        ),
        (
            "next to page 1 (stack.pdf p. 1), the only form beside it without this page",
            ["nằm cạnh trang 1 của phiếu này", "trong các phiếu nằm cạnh nó, chỉ phiếu này chưa có trang 2"],
        ),
    ],
)
def test_a_page_placed_by_the_stack_is_taken_back_out_from_the_keyboard(server, browser, office_scan, tmp_path, where, told):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    serial, page_id = _placed_by_the_stack(db, office_scan / "ledger.sqlite", where)
    [item] = [i for i in items(db) if i.key == keys.placed_key(page_id)]
    log_in(browser, url)
    open_item(browser, url, item)
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert "Không đọc được mã QR của trang 2" in heading
    detail = browser.find_element(By.CLASS_NAME, "detail").text
    assert all(sentence in detail for sentence in told), detail
    assert [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#decision button.option")] == [
        "1 Đúng là trang của phiếu này",
        "2 Không phải trang của phiếu này: đưa ra khỏi phiếu",
        "3 Loại bỏ cả phiếu",
    ]
    # The page placed, and beside it the form's page it followed.
    figures = browser.find_elements(By.CSS_SELECTOR, "figure.scan")
    assert len(figures) == 2 and figures[0].get_attribute("data-page-id") == str(page_id)
    assert [f.find_element(By.TAG_NAME, "strong").text for f in figures] == ["Trang được xếp", "Trang của phiếu nằm cạnh"]
    browser.save_screenshot(str(tmp_path / "placed.png"))
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(browser, "2", Keys.ENTER)
    wait_for_new_page(browser, body)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status, reason, serial FROM pages WHERE id = ?", (page_id,)).fetchone() == (
            "quarantined",
            "placement-declined",
            "",
        )
        reasons = {r for (r,) in con.execute("SELECT reason FROM flags WHERE serial = ?", (serial,))}
    assert "missing-page" in reasons and "placed-by-stack" not in reasons
    assert (serial, keys.placed_key(page_id), keys.TAKEN_OUT) in decisions(db)
    # Back in the quarantine, where a person can assign it to its form.
    assert [i.reasons for i in items(db, "quarantine") if i.key == keys.quarantine_key(page_id)] == [("placement-declined",)]
