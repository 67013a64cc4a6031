"""A round-robin TCP proxy: one address in front of several review app
processes, each new connection handed to the next one, as a load balancer
(nginx's upstream, HAProxy) does. For tests and benches only.

    with RoundRobin([port_a, port_b]) as proxy:
        urlopen(f"http://127.0.0.1:{proxy.port}/")
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections import Counter

CHUNK = 65536


class RoundRobin:
    def __init__(self, backends: list[int], host: str = "127.0.0.1"):
        self.backends = backends
        self.host = host
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.served: Counter = Counter()  # backend port -> connections handed to it
        self._next = itertools.cycle(backends)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RoundRobin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                backend = next(self._next)
                self.served[backend] += 1
            try:
                upstream = socket.create_connection((self.host, backend))
            except OSError:
                client.close()
                continue
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
