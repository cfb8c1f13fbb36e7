"""FastAPI dependencies: the request's session and its authenticated caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.schemas import Scope
from app.accounts.service import Caller, caller_for_key
from app.db import get_session
from app.errors import Unauthorized

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def current_caller(request: Request, session: Session) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise Unauthorized("send Authorization: Bearer <key>")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    caller = await caller_for_key(session, key.strip())
    if caller is None:
        raise Unauthorized("unknown or revoked API key")
    request.state.caller = caller
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


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
