"""Engine, the per-request session, and the declarative Base.

One transaction per request: ``get_session`` commits when the handler and the
response model succeed and rolls back on any error. Services flush, never commit.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from sqlalchemy import JSON, DateTime, MetaData, event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware UTC datetime (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same everywhere."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, pool_timeout_s: float = 30.0) -> AsyncEngine:
    """Create the async engine; on SQLite every transaction is BEGIN IMMEDIATE.

    SQLite has no row locks. Taking the write lock at BEGIN serialises writers
    up front, so two bookings cannot both read the old capacity and then
    deadlock (or oversell) when they upgrade to a write.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=False, pool_timeout=pool_timeout_s
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# Writes that must commit with a request's work or not at all, kept in its ASGI scope: a list
# of ``async (session) -> None`` run in order just before the commit (the Idempotency-Key
# middleware marks its claim carried out there).
BEFORE_COMMIT = "caravan.before_commit"


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: commit on success, roll back on error."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            for write in request.scope.get(BEFORE_COMMIT, ()):
                await write(session)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


_DRIVER_KEY = "caravan.driver_connection"


class DriverStatement:
    """A Core statement that PostgreSQL runs through asyncpg directly, inside the session's transaction.

    SQLAlchemy's execution layer costs about 0.3 ms of CPU per statement, ten times
    what asyncpg itself needs; on the booking path that overhead, not PostgreSQL, set
    the throughput. Statements on such a path are built once as Core constructs and
    wrapped here: compiled once per dialect (IN-lists of constants expanded), their
    parameters passed through the same bind processors SQLAlchemy would apply (JSON,
    UTC datetimes), and sent on the session's own connection, after the transaction
    has begun. Rows come back as tuples in the order of the statement's columns, as
    asyncpg decodes them (aware datetimes, Decimal, JSON as Python values). On SQLite
    the statement simply goes through ``session.execute``.

    Only named ``bindparam``s (and, for INSERTs, the listed ``column_keys``) are
    parameters; every other bound value is fixed when the statement is compiled.
    """

    def __init__(self, statement: Any, column_keys: list[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = column_keys
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any], tuple[Any, ...]]] = {}
        self._row_type: Any = None

    def _compile(self, dialect: Any) -> tuple[str, tuple[str, ...], dict[str, Any], tuple[Any, ...]]:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        required = {name for name, bind in compiled.binds.items() if bind.required}
        expanded = compiled.construct_expanded_state({name: None for name in required})
        fixed = {name: value for name, value in expanded.parameters.items() if name not in required}
        processors = compiled._bind_processors  # the processors SQLAlchemy applies to these parameters
        order = tuple(expanded.positiontup or ())
        result = (expanded.statement, order, fixed, tuple(processors.get(name) for name in order))
        self._compiled[dialect.name] = result
        return result

    def _arguments(self, compiled: tuple, params: dict[str, Any]) -> list[Any]:
        _, order, fixed, processors = compiled
        arguments = []
        for name, process in zip(order, processors):
            if name in params:
                value = params[name]
            elif name in fixed:
                value = fixed[name]
            else:
                raise exc.InvalidRequestError(f"A value is required for bind parameter {name!r}")
            arguments.append(process(value) if process is not None and value is not None else value)
        return arguments

    async def _driver(self, session: AsyncSession) -> tuple[Any, tuple] | None:
        """The asyncpg adapter of the session's connection (its transaction begun) and the compiled statement.

        Remembered for the session's current transaction: asking the session for its
        connection costs a greenlet switch per statement otherwise.
        """
        remembered = session.info.get(_DRIVER_KEY)
        transaction = session.sync_session.get_transaction()
        if remembered is not None and transaction is not None and remembered[0] is transaction:
            adapted, dialect = remembered[1], remembered[2]
        else:
            connection = await session.connection()
            dialect = connection.dialect
            adapted = None
            if dialect.name == "postgresql":
                adapted = (await connection.get_raw_connection()).dbapi_connection
            session.info[_DRIVER_KEY] = (session.sync_session.get_transaction(), adapted, dialect)
        if adapted is None:
            return None
        if adapted._transaction is None:  # SQLAlchemy's asyncpg adapter begins lazily, at the first statement
            async with adapted._execute_mutex:
                if adapted._transaction is None:
                    await adapted._start_transaction()
        return adapted, self._compiled.get("postgresql") or self._compile(dialect)

    @staticmethod
    async def _run(adapted: Any, compiled: tuple, call: Any, *arguments: Any) -> Any:
        async with adapted._execute_mutex:
            try:
                return await call(compiled[0], *arguments)
            except Exception as error:  # raised as SQLAlchemy would raise it (IntegrityError…)
                try:
                    adapted._handle_exception(error)
                except Exception as dbapi_error:
                    raise exc.DBAPIError.instance(compiled[0], None, dbapi_error, adapted.dbapi.Error) from error
                raise

    async def rows(self, session: AsyncSession, params: dict[str, Any] | None = None) -> list[tuple]:
        params = params or {}
        driver = await self._driver(session)
        if driver is None:
            return [tuple(row) for row in await session.execute(self.statement, params)]
        adapted, compiled = driver
        records = await self._run(adapted, compiled, adapted._connection.fetch, *self._arguments(compiled, params))
        return [tuple(record) for record in records]

    async def named_rows(self, session: AsyncSession, params: dict[str, Any] | None = None) -> list[Any]:
        """``rows`` of a SELECT as named tuples (fields named like the statement's columns)."""
        if self._row_type is None:
            names = [column.key for column in self.statement.selected_columns]
            self._row_type = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        make = self._row_type._make
        return [make(row) for row in await self.rows(session, params)]

    async def one(self, session: AsyncSession, params: dict[str, Any] | None = None) -> tuple:
        (row,) = await self.rows(session, params)
        return row

    async def many(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Run the statement once per parameter set (an INSERT of many rows): one pipelined round trip."""
        if not rows:
            return
        driver = await self._driver(session)
        if driver is None:
            await session.execute(self.statement, rows)
            return
        adapted, compiled = driver
        await self._run(adapted, compiled, adapted._connection.executemany,
                        [self._arguments(compiled, row) for row in rows])
