"""Serve the API from several worker processes, each accepting on its own listening socket.

uvicorn's ``--workers`` hands one listening socket to every worker. When a burst of
clients connects, the worker that wakes first accepts until the queue is empty
(asyncio and libuv both do), so it keeps most of the keep-alive connections while
the other worker idles: 27 of 32 connections went to one of two workers in
``bench/api.py``, and those 27 waited 170 ms a request while the other 5 waited
30 ms. Here every worker binds its own socket with ``SO_REUSEPORT`` and the kernel
spreads new connections over them by hashing each connection's addresses, as
nginx's ``reuseport`` does.

The supervisor binds the sockets itself (so a port in use fails at once, in the
foreground), starts one worker per socket, starts a worker again when one dies,
and stops them all on SIGINT or SIGTERM; a worker also stops when the supervisor
dies without that chance (kill -9), so none is left holding the port.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

import uvicorn

logger = logging.getLogger("caravan.server")

APP = "app.main:create_app"
_RESTART_PAUSE_S = 1.0


def _listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux for SIGTERM when the supervisor dies, however it dies (kill -9 included), so no
    orphaned worker keeps the port; and check it did not die before the request took effect."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def _run_worker(sock: socket.socket, log_level: str, access_log: bool, parent_pid: int, app: str = APP) -> None:
    _die_with_parent(parent_pid)
    config = uvicorn.Config(app, factory=True, log_level=log_level, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    host: str, port: int, workers: int, log_level: str = "info", access_log: bool = False, app: str = APP
) -> None:
    """Serve until interrupted; one process when ``workers`` is 1. ``app`` names the app factory
    (bench/bare_app.py is served the same way, to be measured beside Caravan)."""
    # Only Linux spreads connections over SO_REUSEPORT sockets; elsewhere uvicorn's own way.
    if workers <= 1 or not sys.platform.startswith("linux"):
        uvicorn.run(app, factory=True, host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)
        return
    # A plain bind first: it fails when anything already listens on the port, where
    # SO_REUSEPORT alone would quietly share it with another server of the same user.
    _listening_socket(host, port, reuse_port=False).close()
    sockets = [_listening_socket(host, port, reuse_port=True) for _ in range(workers)]
    Supervisor(sockets, log_level, access_log, app).run()


class Supervisor:
    """Keeps one worker process per listening socket until told to stop."""

    def __init__(self, sockets: list[socket.socket], log_level: str, access_log: bool, app: str = APP) -> None:
        self.sockets = sockets
        self.worker_args = (log_level, access_log)
        self.app = app
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.stopping = False

    def _start(self, sock: socket.socket) -> Any:
        process = self.context.Process(target=_run_worker, args=(sock, *self.worker_args, os.getpid(), self.app),
                                            daemon=False)
        process.start()
        return process

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start(sock) for sock in self.sockets]
            while not self.stopping:
                time.sleep(0.2)
                for index, process in enumerate(self.processes):
                    if not process.is_alive() and not self.stopping:
                        logger.warning("worker %s exited with %s; starting it again", process.pid, process.exitcode)
                        time.sleep(_RESTART_PAUSE_S)
                        self.processes[index] = self._start(self.sockets[index])
        finally:
            for process in self.processes:
                if process.is_alive():
                    process.terminate()
            for process in self.processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
            for sock in self.sockets:
                sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
