"""`make run` / `caravan serve --demo` on a database seeded before (issue 12, item 15): no new
keys on every start; fresh demo keys only when asked for, and then the old ones are revoked."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.accounts.models import ApiKey
from app.accounts.service import caller_for_key
from app.demo import DEMO_ORGS, seed_demo

REPO = Path(__file__).resolve().parent.parent


async def test_a_later_seed_mints_no_keys_and_fresh_keys_revoke_the_earlier_ones(app):
    async with app.state.sessionmaker() as session:
        first = await seed_demo(session)
        await session.commit()
    assert set(first) == {label for label, *_ in DEMO_ORGS}
    async with app.state.sessionmaker() as session:
        assert await seed_demo(session) == {}  # already seeded: nothing minted
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == len(DEMO_ORGS)
        assert all([await caller_for_key(session, key) for key in first.values()])
    async with app.state.sessionmaker() as session:
        fresh = await seed_demo(session, fresh_keys=True)
        await session.commit()
    assert set(fresh) == set(first) and not set(fresh.values()) & set(first.values())
    async with app.state.sessionmaker() as session:
        assert [await caller_for_key(session, key) for key in first.values()] == [None] * len(first)
        assert all([await caller_for_key(session, key) for key in fresh.values()])


def test_the_cli_says_the_demo_is_seeded_and_how_to_get_fresh_keys(tmp_path):
    env = {**os.environ, "CARAVAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/demo.db"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "app.cli", "seed-demo", *args], env=env, cwd=REPO, capture_output=True, text=True,
        check=True, timeout=300,
    ).stdout
    assert run().count("cvn_") == len(DEMO_ORGS)
    again = run()
    assert "cvn_" not in again and "already seeded" in again and "--fresh-keys" in again
    fresh = run("--fresh-keys")
    assert fresh.count("cvn_") == len(DEMO_ORGS) and "revoked" in fresh


def test_make_run_takes_a_port():
    dry = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "--port 8123" in dry.stdout
