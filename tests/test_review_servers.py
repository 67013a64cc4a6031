"""Two review app processes behind one address, on one PostgreSQL database:
every request may land on either (a round-robin proxy hands each new
connection to the next process), and a reviewer neither notices nor loses
work. The login, its CSRF token and the session cookie made by one process
are honoured by the other (one session key, sessions in the database);
leases taken through one keep an item from a reviewer on the other; a
decision taken through either derives its form at once."""

from __future__ import annotations

import html
import http.client
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlencode

import pytest
from roundrobin import RoundRobin
from test_cli import cli_env

from conftest import TEST_SECRET
from sipas_scan.review import accounts
from sipas_scan.store.copy import copy_database
from sipas_scan.store.db import Store
from sipas_scan.store.engine import dispose_engines

PASSWORD = "mật-khẩu-thử-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """One reviewer's browser; a new connection per request, so that the
    proxy sends consecutive requests to different processes."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Connection": "close", **({"Cookie": self.cookie} if self.cookie else {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data

    def login(self, name: str) -> str:
        token = TOKEN.search(self.request("GET", "/login")[2]).group(1)
        status, headers, _ = self.request("POST", "/login", {"name": name, "password": PASSWORD, "csrf_token": token})
        assert status == 302 and "/login" not in headers["Location"], (status, headers)
        return TOKEN.search(self.request("GET", "/")[2]).group(1)

    def next_item(self) -> tuple[str, str]:
        status, headers, _ = self.request("GET", "/next")
        assert status == 302, status
        status, _, page = self.request("GET", headers["Location"])
        assert status == 200
        return html.unescape(re.search(r'data-ident="([^"]+)"', page).group(1)), page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def servers(office_scan, postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"r{uuid.uuid4().hex[:12]}")
    copy_database(office_scan / "results.sqlite", url)
    with Store(url) as store:
        for name in ("lan", "minh"):
            accounts.add_user(store, name, "reviewer", PASSWORD)
    key = tmp_path / "session.key"
    key.write_bytes(secrets.token_bytes(32))
    ports = [_free_port(), _free_port()]
    logs = [(tmp_path / f"server-{port}.log").open("wb") for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "sipas_scan", "review", "--db", url, "--port", str(port), "--session-key-file", str(key)],
            env=cli_env(TEST_SECRET),
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=tmp_path,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert process.poll() is None, (tmp_path / f"server-{port}.log").read_text()
                    assert time.time() < deadline, "the review app did not start"
                    time.sleep(0.2)
        with RoundRobin(ports) as proxy:
            yield proxy, url
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        for log in logs:
            log.close()
        dispose_engines()


def test_two_app_processes_behind_one_address_serve_one_team(servers):
    proxy, url = servers
    lan, minh = Browser(proxy.port), Browser(proxy.port)
    lan_token, minh_token = lan.login("lan"), minh.login("minh")
    # Each item a reviewer holds is leased in the database: the other, served
    # by either process, is given another one.
    held_by_lan, page = lan.next_item()
    held_by_minh, _ = minh.next_item()
    assert held_by_lan != held_by_minh
    for _ in range(2):  # through each process in turn
        assert minh.request("GET", "/item?" + urlencode({"id": held_by_lan}))[0] == 409
        assert minh.request("POST", "/lease", {"id": held_by_lan, "csrf_token": minh_token})[0] == 409
    # The decision may land on either process; its form is derived at once.
    options = [html.unescape(v) for v in re.findall(r'class="option[^"]*"[^>]*data-value="([^"]*)"', page)]
    value = next((v for v in options if v), "")
    status, headers, _ = lan.request("POST", "/decide", {"id": held_by_lan, "value": value, "csrf_token": lan_token})
    assert status == 302 and "error=" not in headers["Location"], headers
    with Store(url) as store:
        survey, serial, key = held_by_lan.split("|", 2)
        assert store.decisions([(survey, serial)])[(survey, serial, key)] == value
        assert store.pending_count() == 0
        assert store.db.query("SELECT reviewer FROM decisions ORDER BY id DESC LIMIT 1").scalar() == "lan"
    # Minh's token, made by whichever process served his login, works on both.
    for _ in range(2):
        assert minh.request("POST", "/lease", {"id": held_by_minh, "csrf_token": minh_token})[0] == 204
    assert min(proxy.served.values()) >= 4 and len(proxy.served) == 2  # both processes served this team
