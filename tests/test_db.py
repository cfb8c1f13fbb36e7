"""DriverStatement: Core statements sent through the driver on PostgreSQL, through the session elsewhere.

On PostgreSQL these exercise the asyncpg path (the suite runs on both databases).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, exc, insert, select

from app.accounts.models import ApiKey, Organization
from app.db import DriverStatement

INSERT_ORG = DriverStatement(
    insert(Organization.__table__).returning(Organization.__table__.c.id), ["name", "role", "created_at"]
)
INSERT_KEY = DriverStatement(
    insert(ApiKey.__table__).returning(ApiKey.__table__.c.id),
    ["organization_id", "name", "key_hash", "prefix", "scopes", "created_at", "revoked_at"],
)
KEYS_OF = DriverStatement(
    select(ApiKey.name, ApiKey.scopes, ApiKey.created_at, ApiKey.revoked_at)
    .where(ApiKey.organization_id == bindparam("organization_id"), ApiKey.prefix.in_(["cvn_a", "cvn_b"]))
    .order_by(ApiKey.name)
)
WHEN = datetime(2026, 11, 26, 22, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))


def _key(organization_id: int, name: str, prefix: str, **extra) -> dict:
    return {"organization_id": organization_id, "name": name, "key_hash": name * 8, "prefix": prefix,
            "scopes": ["bookings:read", "events:write"], "created_at": WHEN, "revoked_at": None, **extra}


@pytest.fixture
def sessionmaker(app):
    return app.state.sessionmaker


async def test_values_pass_through_the_bind_processors_and_read_back(sessionmaker):
    async with sessionmaker() as session:
        (org_id,) = await INSERT_ORG.one(session, {"name": "Han'ou CFS", "role": "operator", "created_at": WHEN})
        await INSERT_KEY.many(session, [_key(org_id, "a", "cvn_a"), _key(org_id, "b", "cvn_b", revoked_at=WHEN),
                                        _key(org_id, "c", "cvn_c")])
        await session.commit()
    async with sessionmaker() as session:
        orm = (await session.scalars(select(ApiKey).where(ApiKey.name == "b"))).one()
        assert orm.scopes == ["bookings:read", "events:write"]  # JSON, not a string of JSON
        assert orm.revoked_at == WHEN and orm.revoked_at.tzinfo is not None  # stored as UTC, the same instant
        rows = await KEYS_OF.rows(session, {"organization_id": org_id})
    # The IN-list of constants is part of the statement: the key with prefix cvn_c is not selected.
    assert [row[0] for row in rows] == ["a", "b"]
    assert rows[0][1] == ["bookings:read", "events:write"]
    assert rows[1][2] == WHEN and rows[1][3] == WHEN


async def test_the_first_statement_of_a_session_runs_inside_its_transaction(sessionmaker):
    async with sessionmaker() as session:
        await INSERT_ORG.one(session, {"name": "Rolled back", "role": "exporter", "created_at": WHEN})
        await session.rollback()
    async with sessionmaker() as session:
        names = list(await session.scalars(select(Organization.name)))
    assert "Rolled back" not in names


async def test_a_violated_constraint_raises_sqlalchemys_integrity_error(sessionmaker):
    async with sessionmaker() as session:
        (org_id,) = await INSERT_ORG.one(session, {"name": "Twice", "role": "exporter", "created_at": WHEN})
        await INSERT_KEY.one(session, _key(org_id, "same", "cvn_a"))
        with pytest.raises(exc.IntegrityError):
            await INSERT_KEY.one(session, _key(org_id, "same", "cvn_a"))  # key_hash is unique
        await session.rollback()
        # The session is usable again after the rollback.
        (again,) = await INSERT_ORG.one(session, {"name": "After", "role": "exporter", "created_at": WHEN})
        await session.commit()
    assert again > 0


async def test_missing_parameters_are_an_error_not_null(sessionmaker):
    async with sessionmaker() as session:
        with pytest.raises(exc.SQLAlchemyError, match="bind parameter 'organization_id'"):
            await KEYS_OF.rows(session, {})
        await session.rollback()
