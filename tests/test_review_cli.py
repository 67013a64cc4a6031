"""`sipas-scan users` and `sipas-scan review` from the command line: accounts
with hashed passwords, and a server that listens on loopback and shows
nothing without a login."""

import ipaddress
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from test_cli import run

from conftest import copy_database

CLI = [sys.executable, "-m", "sipas_scan"]
PASSWORD = "a-long-password\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """The addresses a TCP socket listens on at ``port``, from the kernel's
    own tables (Linux), so the check needs no tool that might be missing."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state != "0A" or int(local_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)  # each 32-bit word in host (little-endian) order
            found.add(str(ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))))
    return found


def test_listening_addresses_are_read_from_the_kernel():
    for address in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as s:
            s.bind((address, 0))
            assert listening_addresses(s.getsockname()[1]) == set()  # bound, not yet listening
            s.listen()
            assert listening_addresses(s.getsockname()[1]) == {address}


def test_users_are_stored_with_hashed_passwords(tmp_path):
    db = tmp_path / "results.sqlite"
    added = run("users", "add", "lan", "--role", "reviewer", "--db", str(db), "--password-stdin", cwd=tmp_path, stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert "a-long-password" not in added.stdout + added.stderr
    stored = sqlite3.connect(db).execute("SELECT name, role, password_hash FROM users").fetchall()
    assert stored[0][:2] == ("lan", "reviewer") and stored[0][2].startswith("scrypt:")
    listed = run("users", "list", "--db", str(db), cwd=tmp_path)
    assert listed.stdout.startswith("lan\treviewer")
    short = run("users", "add", "x", "--db", str(db), "--password-stdin", cwd=tmp_path, stdin="short\n")
    assert short.returncode == 2 and len(short.stderr.strip().splitlines()) == 1
    bad_role = run("users", "add", "y", "--role", "boss", "--db", str(db), "--password-stdin", cwd=tmp_path, stdin=PASSWORD)
    assert bad_role.returncode == 2 and "role must be one of" in bad_role.stderr


def test_review_needs_an_account_first(office_scan, tmp_path):
    db = copy_database(office_scan / "results.sqlite", tmp_path)
    result = run("review", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 2 and "users add" in result.stderr
    missing = run("review", "--db", str(tmp_path / "none.sqlite"), cwd=tmp_path)
    assert missing.returncode == 3 and "no such database" in missing.stderr


def test_review_serves_on_loopback_behind_a_login(office_scan, tmp_path):
    db = copy_database(office_scan / "results.sqlite", tmp_path)
    assert run("users", "add", "lan", "--db", str(db), "--password-stdin", cwd=tmp_path, stdin=PASSWORD).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "review", "--db", str(db), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    assert response.status == 200 and "Đăng nhập" in response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and server.poll() is None, "the review app did not start"
                time.sleep(0.3)
        # Anonymous: the overview and a page image both send to the login page.
        for path in ("/", "/image/page/1.jpg"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                assert response.url.startswith(f"http://127.0.0.1:{port}/login")
        assert listening_addresses(port) == {"127.0.0.1"}  # bound to loopback only
    finally:
        server.terminate()
        server.wait(timeout=10)
