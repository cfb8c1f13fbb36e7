"""`caravan serve --workers N`: one listening socket per worker, connections spread over them, workers kept alive."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.main import create_app
from bench._support import processes

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    """The worker processes the supervisor ``pid`` started (not multiprocessing's resource tracker)."""
    return {child for child, (parent, command) in processes().items() if parent == pid and "spawn_main" in command}


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp_sockets(port: int) -> tuple[set[str], set[str]]:
    """Inodes of (listening sockets on ``port``, accepted connections on ``port``)."""
    listening, accepted = set(), set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port:
                    (listening if fields[3] == "0A" else accepted).add(fields[9])
    return listening, accepted


def _get(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: caravan\r\n\r\n")
    return sock.recv(4096)


def _wait_until(condition, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            return _get(sock).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.fixture
def server(app, database_url):  # app: so the per-test table emptying has its engine ready
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--workers", "2", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "CARAVAN_DATABASE_URL": database_url}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until(lambda: _answers(port) and len(_children(process.pid)) == 2)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=40)


def test_each_worker_accepts_on_its_own_socket_and_a_burst_of_connections_is_shared(server):
    process, port = server
    workers = _children(process.pid)
    listening, _ = _tcp_sockets(port)
    held = {pid: _socket_inodes(pid) for pid in workers}
    # One listening socket per worker (uvicorn's --workers shares a single one).
    assert all(len(inodes & listening) == 1 for inodes in held.values())
    assert len(set.union(*(inodes & listening for inodes in held.values()))) == 2

    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for connection in connections:
            assert _get(connection).startswith(b"HTTP/1.1 200")
        _, accepted = _tcp_sockets(port)
        per_worker = [len(_socket_inodes(pid) & accepted) for pid in workers]
        assert sum(per_worker) == 32
        # Spread by the kernel's hash: a split worse than 28/4 has odds of about 1 in 400,000.
        assert min(per_worker) >= 4, per_worker
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_that_dies_is_started_again_and_terminate_stops_them_all(server):
    process, port = server
    workers = _children(process.pid)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    _wait_until(lambda: len(_children(process.pid)) == 2 and victim not in _children(process.pid))
    _wait_until(lambda: all(_answers(port) for _ in range(8)))

    current = _children(process.pid)
    process.terminate()
    assert process.wait(timeout=40) == 0
    for pid in current:
        _wait_until(lambda: not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2])


def test_a_port_already_in_use_fails_at_once(app, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--workers", "2", "--port", str(port)],
            env={**os.environ, "CARAVAN_DATABASE_URL": database_url}, cwd=ROOT,
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0
    assert "in use" in result.stderr


async def test_startup_freezes_what_it_built_out_of_full_collections(app, settings):
    gc.unfreeze()
    served = create_app(settings)
    async with served.router.lifespan_context(served):
        # The modules, mappers, schemas and routes: tens of thousands of objects a full
        # collection no longer walks while requests wait.
        assert gc.get_freeze_count() > 10_000


def test_workers_stop_when_the_supervisor_is_killed_outright(server):
    process, port = server
    workers = _children(process.pid)
    process.kill()
    process.wait(timeout=10)
    for pid in workers:
        _wait_until(lambda: not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2])
    assert not _answers(port)
