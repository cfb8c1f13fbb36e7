"""The per-key rate limit's cost: buckets in process memory against buckets shared in PostgreSQL, side by side.

    .venv/bin/python bench/ratelimit.py [--takes 2000] [--concurrency 32] [--database-url postgresql://…]

Starts a throwaway PostgreSQL (or uses --database-url, an empty database), migrates it, then
times ``RateLimiter.admit`` (what every authenticated request pays) with the in-memory
buckets and with the shared ones (``rate_limit_shared``: one atomic statement per request on a
connection of its own): one at a time, then --concurrency at once on one key (all on one row)
and on as many keys. Prints the time per admission and what it costs in CPU (this process and
PostgreSQL). Figures only: nothing here asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.ratelimit import RateLimiter  # noqa: E402
from bench._support import cpu_by_role, postgres_server  # noqa: E402


async def time_admissions(limiter: RateLimiter, takes: int, concurrency: int, keys: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, wall ms per admission) for ``takes`` admissions, ``concurrency`` at a time over ``keys`` keys."""
    latencies: list[float] = []
    queue = iter(range(takes))

    async def worker() -> None:
        for n in queue:
            started = time.perf_counter()
            await limiter.admit({}, n % keys)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall_ms = (time.perf_counter() - started) * 1000 / takes
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], wall_ms


async def main(url: str, args: argparse.Namespace) -> None:
    # Tokens enough for every take: the figures are the cost of counting, not of refusing.
    settings = Settings(database_url=url, rate_limit_per_s=1e6, rate_limit_burst=10**9)
    engine = make_engine(settings.async_database_url, pool_size=args.concurrency)
    limiters = {"in memory": RateLimiter(settings), "shared (PostgreSQL)": RateLimiter(settings, engine=engine)}
    await time_admissions(limiters["shared (PostgreSQL)"], 200, 4, 4)  # warm the pool and the statement
    print(f"{args.takes} admissions per row; CPU per admission: this process (asyncio, SQLAlchemy) and PostgreSQL")
    print(f"{'buckets':<22}{'clients':>8}{'keys':>6}{'p50 ms':>9}{'p99 ms':>9}{'wall ms':>9}{'CPU ms':>8}{'PG ms':>7}")
    for name, limiter in limiters.items():
        for concurrency, keys in ((1, 1), (args.concurrency, 1), (args.concurrency, args.concurrency)):
            before = cpu_by_role(0)
            p50, p99, wall = await time_admissions(limiter, args.takes, concurrency, keys)
            after = cpu_by_role(0)
            client, pg = ((after[r] - before[r]) * 1000 / args.takes for r in ("client", "postgres"))
            print(f"{name:<22}{concurrency:>8}{keys:>6}{p50:>9.3f}{p99:>9.3f}{wall:>9.3f}{client:>8.3f}{pg:>7.3f}")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: start a throwaway server")
    arguments = parser.parse_args()
    if arguments.database_url:
        migrate(arguments.database_url)
        asyncio.run(main(arguments.database_url, arguments))
    else:
        with postgres_server() as database_url:
            migrate(database_url)
            asyncio.run(main(database_url, arguments))
