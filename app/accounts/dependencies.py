"""FastAPI dependencies: the request's session and its authenticated caller."""

from __future__ import annotations

import sys
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.schemas import Scope
from app.accounts.service import Caller, caller_for_key
from app.db import get_session
from app.errors import AppError, Unauthorized
from app.ratelimit import RateLimiter

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def current_caller(request: Request, session: Session) -> Caller:
    """The caller the bearer key stands for, counted against the key's rate limit before any work.

    An address that has failed to authenticate too often is refused (429) before its key
    is looked up; every 401 counts against it. A request the Idempotency-Key middleware
    already authenticated and counted is neither refused for its address nor counted again.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    admitted = limiter.admitted(request.scope)
    if not admitted:
        limiter.check_address(request.scope)
    try:
        caller = await _authenticate(request, session)
    except Unauthorized:
        limiter.authentication_failed(request.scope)
        raise
    if not admitted:
        await limiter.admit(request.scope, caller.api_key_id)
    request.state.caller = caller
    return caller


async def _authenticate(request: Request, session: AsyncSession) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise Unauthorized("send Authorization: Bearer <key>")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    caller = await caller_for_key(session, key.strip(), request.app.state.settings.api_key_cache_s)
    if caller is None:
        raise Unauthorized("unknown, revoked or expired API key")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def authenticate_first(request: Request) -> AppError | None:
    """For a request refused before its dependencies ran (a body FastAPI could not parse): who is
    asking comes first, as for any other request. The authentication error (401, or 429 for an
    address that failed too often) to answer instead, or None when the key is good. A 401 here
    counts against the address like any other."""
    if hasattr(request.state, "caller"):
        return None
    try:
        async with request.app.state.sessionmaker() as session:
            await current_caller(request, session)
    except AppError as error:
        return error
    return None


def unparseable_body(error: Exception) -> str | None:
    """Why FastAPI could not parse a request body, when ``error`` is its bare 400 for that (a
    body nested too deeply for the parser, not UTF-8, or a number over Python's digit limit);
    else None. Malformed JSON is not this: FastAPI reports it as a validation error."""
    if not isinstance(error, StarletteHTTPException) or error.status_code != 400:
        return None
    cause = error.__cause__
    if isinstance(cause, RecursionError):
        return "the JSON is nested too deeply to read"
    if isinstance(cause, UnicodeError):
        return "the body is not UTF-8 text"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    if cause is not None:
        return "the body cannot be read as JSON"
    return None


def requires(scope: Scope, *, operator: bool = False) -> Any:
    """The authenticated caller holding ``scope`` (and the operator role when asked), as a dependency.

    Declared in a route's signature (``caller: Annotated[Caller, requires(Scope.X)]``) it
    runs before FastAPI validates the path, query and body, so a key that may not call the
    route is answered 403 whatever it sent, never told how its input would have been judged.
    """

    async def scoped_caller(caller: CurrentCaller) -> Caller:
        caller.require(scope, operator=operator)
        return caller

    return Depends(scoped_caller)
