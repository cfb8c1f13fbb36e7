"""Shared by the benchmarks: a throwaway PostgreSQL server and a lean HTTP/1.1 load client."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server():
    """Yield the URL of a fresh PostgreSQL server (Debian's binaries), removed afterwards.

    Runs the server as the ``postgres`` user when started as root.
    """
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql, or pass --database-url")
    pgbin = bins[-1]
    data = tempfile.mkdtemp(prefix="caravan-bench-pg-")
    port = free_port()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    run = lambda *args: subprocess.run([*as_user, *args], check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    run(f"{pgbin}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(f"{pgbin}/pg_ctl", "-D", data, "-l", f"{data}/server.log", "-w", "start", "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200")
    try:
        run(f"{pgbin}/createdb", "-h", "127.0.0.1", "-p", str(port), "caravan")
        yield f"postgresql://postgres@127.0.0.1:{port}/caravan"
    finally:
        subprocess.run([*as_user, f"{pgbin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found[int(entry)] = (parent, command)
    return found


def cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the API server (its process tree), PostgreSQL, and this load client.

    Dividing the difference over a phase by the requests served gives CPU per
    request for each part: steadier than requests/s on a shared machine.
    """
    table = processes()
    server = {server_pid}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in table.items():
            if parent in server and pid not in server:
                server.add(pid)
                changed = True
    postgres = [pid for pid, (_, command) in table.items()
                if command.split(" ", 1)[0].rsplit("/", 1)[-1].startswith("postgres")]
    return {
        "api": sum(_cpu_seconds(pid) for pid in server),
        "postgres": sum(_cpu_seconds(pid) for pid in postgres),
        "client": _cpu_seconds(os.getpid()),
    }


def wait_for_http(port: int, path: str = "/healthz", timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not come up")


@dataclass
class LoadResult:
    requests: int = 0
    warmup_requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    slowest_ms_by_status: dict[int, float] = field(default_factory=dict)
    connection_means_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def connection_spread(self) -> str:
        """Mean latency of the fastest and the slowest connection: far apart when the server's workers hold unequal shares."""
        if not self.connection_means_ms:
            return "-"
        return f"{min(self.connection_means_ms):.0f}–{max(self.connection_means_ms):.0f}"


async def _one_connection(port, make_request, stop_at, result: LoadResult, measure_from: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    measured_ms: list[float] = []
    try:
        while (now := time.perf_counter()) < stop_at:
            writer.write(make_request())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if now < measure_from:
                result.warmup_requests += 1
            else:
                status = int(status_line.split()[1])
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.requests += 1
                measured_ms.append((time.perf_counter() - now) * 1000)
    finally:
        writer.close()
        result.latencies_ms.extend(measured_ms)
        if measured_ms:
            result.connection_means_ms.append(sum(measured_ms) / len(measured_ms))


async def drive(port: int, make_request, concurrency: int, seconds: float, warmup_s: float = 1.0) -> LoadResult:
    """Keep ``concurrency`` keep-alive connections busy for ``seconds`` after a warm-up."""
    result = LoadResult()
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + seconds
    await asyncio.gather(*(_one_connection(port, make_request, stop_at, result, measure_from) for _ in range(concurrency)))
    result.seconds = seconds
    return result


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PATCH", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connections:
    """Idle keep-alive connections for the open-loop client: one request at a time on each, a new one
    opened when none is idle, at most ``limit`` open (a request past that waits for one: the wait counts).

    A connection idle for longer than ``max_idle_s`` is closed rather than reused: the server closes
    idle keep-alive connections after its own timeout (uvicorn's 5 s), and a request sent on one it has
    just closed would count as broken although the server never saw it."""

    def __init__(self, port: int, limit: int, max_idle_s: float = 3.0) -> None:
        self.port = port
        self.limit = limit
        self.max_idle_s = max_idle_s
        self.opened = 0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.freed = asyncio.Condition()

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while True:
                stale = time.monotonic() - self.max_idle_s
                while self.idle and self.idle[0][2] < stale:  # oldest first: close what the server may have closed
                    self.idle.pop(0)[1].close()
                    self.opened -= 1
                if self.idle or self.opened < self.limit:
                    break
                await self.freed.wait()
            if self.idle:
                reader, writer, _ = self.idle.pop()
                return reader, writer
            self.opened += 1
        try:
            return await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            async with self.freed:
                self.opened -= 1
                self.freed.notify()
            raise

    async def put(self, connection, broken: bool = False) -> None:
        async with self.freed:
            if broken:
                self.opened -= 1
                connection[1].close()
            else:
                self.idle.append((*connection, time.monotonic()))
            self.freed.notify()

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server")
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


async def drive_open(port: int, make_request, rate_per_s: float, seconds: float, max_connections: int = 512,
                     timeout_s: float = 60.0) -> LoadResult:
    """Open loop: start a request every 1/``rate_per_s`` seconds whether or not earlier ones have been
    answered, for ``seconds``. Each latency runs from the request's scheduled start (a request that waits
    for a connection is late, and that counts), so a saturated server shows as growing latencies, not as a
    slower client. A request with no answer within ``timeout_s`` or a broken connection counts as status 0."""
    result = LoadResult()
    pool = _Connections(port, max_connections)
    interval = 1.0 / rate_per_s
    count = int(rate_per_s * seconds)
    tasks = []

    async def one(scheduled: float) -> None:
        status, connection = 0, None
        try:
            async with asyncio.timeout(timeout_s):
                connection = await pool.get()
                status = await _exchange(*connection, make_request())
        except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            status = 0
        finally:
            if connection is not None:
                await pool.put(connection, broken=status == 0)
        latency_ms = (time.perf_counter() - scheduled) * 1000
        result.latencies_ms.append(latency_ms)
        result.slowest_ms_by_status[status] = max(latency_ms, result.slowest_ms_by_status.get(status, 0.0))
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.requests += 1

    start = time.perf_counter() + 0.05
    for n in range(count):
        scheduled = start + n * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    pool.close()
    return result
