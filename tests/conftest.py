"""Test fixtures: one migrated database per run (SQLite by default, PostgreSQL when
CARAVAN_TEST_DATABASE_URL says so), emptied after every test; the app driven
through httpx."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.cli import migrate
from app.accounts.schemas import PARTNER_SCOPES
from app.config import Settings, async_database_url
from app.main import create_app
from app.registry import metadata
from tests import factories
from tests.browser import CHROMIUM, chromium_missing

_tmp = tempfile.mkdtemp(prefix="caravan-test-")
DATABASE_URL = os.environ.get("CARAVAN_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{_tmp}/test.db"
IS_POSTGRES = DATABASE_URL.startswith(("postgres", "postgresql"))

def pytest_terminal_summary(terminalreporter) -> None:
    """Said at the end of every run, -q or not: the console's browser tests did not run here."""
    if (why_not := chromium_missing()) is not None:
        terminalreporter.write_line(f"console browser tests SKIPPED: {why_not}", yellow=True, bold=True)


postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL (CARAVAN_TEST_DATABASE_URL)")


def pytest_report_header(config) -> list[str]:
    why_not = chromium_missing()
    return [f"caravan test database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}",
            "console browser tests: " + (f"SKIPPED, {why_not}" if why_not else f"Chromium at {CHROMIUM}")]


async def _postgres_admin(statement: str) -> None:
    engine = create_async_engine(async_database_url(DATABASE_URL), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> str:
    """A database at the latest migration, created fresh for this run.

    On PostgreSQL each run gets its own database beside the one named in
    CARAVAN_TEST_DATABASE_URL, so parallel runs on one server never collide.
    """
    url = DATABASE_URL
    if IS_POSTGRES:
        name = f"caravan_run_{os.getpid()}"
        asyncio.run(_postgres_admin(f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_postgres_admin(f"CREATE DATABASE {name}"))
        url = make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    os.environ["CARAVAN_DATABASE_URL"] = url
    migrate(url)
    yield url
    if IS_POSTGRES:
        asyncio.run(_postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The shared app's settings: rate limits off, since every test of the session shares its
    buckets (tests/test_rate_limit.py builds its own apps with tiny limits)."""
    # The race tests queue 30-50 requests on this one process at once: they wait for a place as long
    # as they need, 15 at once (the pool and a half), and the bound stays there, so that they race that many, however
    # late a busy test machine runs the loop (tests/test_overload.py drives a server of its own past a
    # tight limit, and the adaptive bound on an Admission of its own).
    return Settings(database_url=database_url, rate_limit_per_s=0, rate_limit_auth_failures_per_s=0,
                    webhook_require_https=False,  # the receivers are on http://127.0.0.1 (test_https_callbacks.py: on)
                    admission_wait_s=60, admission_adaptive=False, admission_limit=15,
                    # Tests change keys behind the app's back (expiry, revocation in the database): look each up.
                    # tests/test_api_key_cache.py tests the cache on an app of its own.
                    api_key_cache_s=0)


@pytest.fixture(scope="session")
async def app(settings: Settings):
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(request) -> AsyncIterator[None]:
    """Every test starts on empty tables (the rows a test writes are its own)."""
    yield
    if "database_url" not in request.fixturenames:
        return
    engine = request.getfixturevalue("app").state.engine
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with engine.begin() as conn:
        if IS_POSTGRES:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://caravan.test") as c:
        yield c


@pytest.fixture
async def operator(app) -> dict[str, str]:
    """Headers of the hub operator's all-scopes key (bootstrapped as the CLI does)."""
    return {"Authorization": f"Bearer {await factories.bootstrap_operator(app)}"}


@pytest.fixture
async def exporter(client, operator) -> dict[str, str]:
    return await factories.org_headers(client, operator, "Wuhan Festive Crafts", "exporter")


@pytest.fixture
async def other_exporter(client, operator) -> dict[str, str]:
    return await factories.org_headers(client, operator, "Hubei Fitness Gear", "exporter")


@pytest.fixture
async def partner(client, operator) -> dict[str, str]:
    """A forwarder's key: an exporter-role organisation the operator granted events:write."""
    return await factories.org_headers(
        client, operator, "Rhein Forwarding", "exporter", scopes=[s.value for s in PARTNER_SCOPES]
    )


@pytest.fixture
async def network(client, operator) -> dict:
    """A small network: Wuhan rail terminal, two border crossings, Duisburg, one line, one departure."""
    return await factories.small_network(client, operator)


@pytest.fixture
async def elsewhere(database_url):
    """Another process's engine: its writes reach this app only through the database."""
    engine = create_async_engine(async_database_url(database_url))
    yield engine
    await engine.dispose()
