"""End to end in a real headless browser (Debian's chromium + chromedriver):
log in, clear the whole review queue with the keyboard only, and see the
export match the simulated truth."""

import csv
import json
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import copy_database
from sipas_scan.export import export_records
from sipas_scan.review import accounts
from sipas_scan.review.app import create_app
from sipas_scan.store import decisions as keys
from sipas_scan.store.db import Store

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (./run test installs them)")
MAX_ITEMS = 80


@pytest.fixture
def server(office_scan, tmp_path):
    db = copy_database(office_scan / "results.sqlite", tmp_path)
    with Store(db) as store:
        accounts.add_user(store, "lan", "reviewer", "reviewer-pass-1")
    httpd = make_server("127.0.0.1", 0, create_app(db, office_scan / "ledger.sqlite"), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", db
    httpd.shutdown()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--disable-background-networking", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


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


def test_clear_the_queue_with_the_keyboard(server, browser, office_scan, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, db = server
    truth = read_truth(office_scan)
    browser.get(url + "/")
    browser.find_element(By.ID, "name").send_keys("lan" + Keys.TAB + "reviewer-pass-1" + Keys.ENTER)
    assert browser.find_element(By.ID, "waiting").text != "0"
    browser.save_screenshot(str(tmp_path / "overview.png"))

    def keys_(*sequence):
        ActionChains(browser).send_keys(*sequence).perform()

    def wait_for_new_page(old):
        WebDriverWait(browser, 10).until(ec.staleness_of(old))

    body = browser.find_element(By.TAG_NAME, "body")
    keys_("n")
    wait_for_new_page(body)
    # The arrows move through the queue.
    first = browser.find_element(By.ID, "item").get_attribute("data-ident")
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(Keys.ESCAPE, Keys.ARROW_RIGHT)  # Escape first: a comment item opens in its text box
    wait_for_new_page(body)
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") != first
    body = browser.find_element(By.TAG_NAME, "body")
    keys_(Keys.ESCAPE, Keys.ARROW_LEFT)
    wait_for_new_page(body)
    assert browser.find_element(By.ID, "item").get_attribute("data-ident") == first

    settled = []
    for _ in range(MAX_ITEMS):
        if browser.find_elements(By.ID, "message"):
            break
        item = browser.find_element(By.ID, "item")
        kind, ident = item.get_attribute("data-kind"), item.get_attribute("data-ident")
        survey, serial, key = ident.split("|", 2)
        body = browser.find_element(By.TAG_NAME, "body")
        if kind == "answer":
            if not settled:
                browser.save_screenshot(str(tmp_path / "item.png"))
            codes = [c for c in truth[serial][key].split(";") if c]
            keys_("0")
            for n, code in enumerate(codes):
                digit = browser.find_element(By.ID, f"option-{code}").get_attribute("data-key")
                if n and browser.find_element(By.ID, "decision").get_attribute("data-multi") == "0":
                    ActionChains(browser).key_down(Keys.SHIFT).send_keys(digit).key_up(Keys.SHIFT).perform()
                else:
                    keys_(digit)
            assert browser.find_element(By.ID, "value").get_attribute("value") == truth[serial][key]
            keys_(Keys.ENTER)
        elif kind == "comment":
            box = browser.find_element(By.ID, "comment")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            box.send_keys(truth[serial][key].replace("\n", " ") + Keys.ENTER)
        else:
            if kind == "page" and "duplicate" in browser.find_element(By.ID, "reasons").text.lower() or \
                    "hai bản quét" in browser.find_element(By.ID, "reasons").text:
                images = browser.find_elements(By.CSS_SELECTOR, "img.page")
                page_ids = [int(i.get_attribute("alt").split()[1]) for i in images]
                value = f"{keys.USE}{page_matching_truth(db, page_ids, truth[serial])}"
            elif kind == "page" and "thiếu trang" in browser.find_element(By.ID, "reasons").text:
                value = keys.NOT_RETURNED
            elif kind == "page":
                value = keys.CONFIRMED
            elif kind == "form":
                value = keys.KEPT
            else:
                value = keys.REJECTED  # stray and forged pages
            digit = browser.find_element(By.CSS_SELECTOR, f'.option[data-value="{value}"]').get_attribute("data-key")
            keys_(digit, Keys.ENTER)
        wait_for_new_page(body)
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
