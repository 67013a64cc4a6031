"""A throw-away PostgreSQL server for tests and benches.

Debian's own server binaries (package ``postgresql``) run a fresh cluster in
a temporary folder: its own data directory, a Unix socket in that folder and
a free TCP port on loopback, trust authentication (only this machine's users
reach it). The server refuses to run as root, so as root the cluster is
started as the unprivileged ``postgres`` user (created by the package).

    with Cluster.start(folder) as cluster:
        url = cluster.create_database("sipas")   # postgresql+psycopg://...

    with Cluster.temporary() as cluster:         # in a new folder under /tmp, removed after
        ...

Also a command, for benches and trying things by hand:

    python tests/pgcluster.py DIR      # starts, prints the URL, stops on Enter
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # Debian's package creates it; used when we are root
START_TIMEOUT_S = 60


def server_bin() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def why_unavailable() -> str | None:
    """None when a cluster can be started here, else why not (for a skip)."""
    if server_bin() is None:
        return "PostgreSQL server not installed (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _as_server_user(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *command]
        return list(command)

    def _run(self, *command: str) -> None:
        subprocess.run(self._as_server_user(*command), check=True, capture_output=True, text=True, cwd=self.folder)

    @classmethod
    def start(cls, folder: Path) -> Cluster:
        bin_dir = server_bin()
        if bin_dir is None:
            raise RuntimeError(why_unavailable())
        folder.mkdir(parents=True, exist_ok=True)
        cluster = cls(folder, _free_port(), bin_dir)
        if os.geteuid() == 0:
            # Its parents must let the server user through: a folder made
            # by tempfile.mkdtemp() under /tmp does.
            shutil.chown(folder, SERVER_USER)
        cluster._run(
            str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", SERVER_USER, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"
        )
        options = f"-k {folder} -p {cluster.port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        cluster._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(cluster.data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER, name)
        return self.url(name)

    def psql(self, database: str, sql: str) -> str:
        """One statement through psql; its rows, unaligned."""
        psql = str(self.bin / "psql") if (self.bin / "psql").exists() else "psql"
        command = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER, "-d", database, "-At", "-c", sql]
        return subprocess.run(self._as_server_user(*command), check=True, capture_output=True, text=True, cwd=self.folder).stdout

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @classmethod
    @contextlib.contextmanager
    def temporary(cls) -> Iterator[Cluster]:
        """A cluster in a folder of its own under /tmp (the server's user
        must reach it: not inside another temporary folder), removed after."""
        folder = Path(tempfile.mkdtemp(prefix="sipas-pg-"))
        try:
            with cls.start(folder) as cluster:
                yield cluster
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else f"/tmp/sipas-pg-{int(time.time())}").resolve()
    with Cluster.start(folder) as cluster:
        print(cluster.create_database("sipas"), flush=True)
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            input()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
