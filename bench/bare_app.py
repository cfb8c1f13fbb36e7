"""The peer bench/api.py measures Caravan against: a bare FastAPI endpoint that inserts one row.

    POST /insert  {"reference": "...", "weight_kg": 72.0}  -> 201 {"id": ...}

Async SQLAlchemy on asyncpg, one transaction and one INSERT ... RETURNING per request, a
Pydantic body: what any FastAPI service pays for a write, and nothing of Caravan's
(no key, no idempotency, no space control). Served by Caravan's own server
(``app.server.serve(..., app="bench.bare_app:create_app")``: the same worker processes,
SO_REUSEPORT sockets, uvloop and httptools) on the same PostgreSQL, with the pool sized
by the same CARAVAN_DB_POOL_SIZE.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, DateTime, Float, MetaData, String, Table, func, insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import async_database_url

metadata = MetaData()
inserts = Table(
    "bench_bare_inserts", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("reference", String(32), nullable=False),
    Column("weight_kg", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)


class InsertIn(BaseModel):
    reference: str = Field(min_length=1, max_length=32)
    weight_kg: float = Field(gt=0, le=100_000)


async def create_table(database_url: str) -> None:
    """Create the table (once, before the workers start: two workers racing to create it would clash)."""
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


def create_app() -> FastAPI:
    pool_size = int(os.environ.get("CARAVAN_DB_POOL_SIZE", "10"))
    engine = create_async_engine(async_database_url(os.environ["CARAVAN_DATABASE_URL"]),
                                 pool_size=pool_size, max_overflow=pool_size * 2)
    statement = insert(inserts).returning(inserts.c.id)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/insert", status_code=201)
    async def insert_one(body: InsertIn) -> dict:
        async with engine.begin() as connection:
            row_id = (await connection.execute(statement, body.model_dump())).scalar_one()
        return {"id": row_id}

    return app
