"""Signing in and out of the console, and the language switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.accounts.dependencies import Session
from app.accounts.service import caller_for_key
from app.accounts.sessions import caller_for_session, open_session, revoke_session
from app.console.i18n import LANGUAGES
from app.console.web import (
    LANG_COOKIE,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    SignedIn,
    read_form,
    redirect,
    render,
    safe_next,
    set_cookie,
)
from app.errors import TooManyRequests

router = APIRouter(prefix="/console", include_in_schema=False)

MAX_KEY_CHARS = 128


def home_of(is_operator: bool) -> str:
    return "/console/departures" if is_operator else "/console/quote"


@router.get("")
@router.get("/")
async def home(request: Request, session: Session) -> Response:
    found = await caller_for_session(session, request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        return redirect(request, "/console/sign-in")
    return redirect(request, home_of(found[0].is_operator))


@router.get("/sign-in")
async def sign_in_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    return render(request, "sign_in.html", next=safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request, session: Session) -> Response:
    """The key is taken from the form's body once; the browser keeps only a session cookie.
    A wrong key counts against the address's brake, as a failed API authentication does."""
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    limiter = request.app.state.rate_limiter
    try:
        limiter.check_address(request.scope)
    except TooManyRequests as error:
        response = render(request, "sign_in.html", status=429, next=next_path,
                          error="Too many failed sign-ins from this address; wait a little and try again.")
        response.headers["Retry-After"] = error.headers.get("Retry-After", "1")
        return response
    key = form.get("api_key")
    caller = await caller_for_key(session, key) if 0 < len(key) <= MAX_KEY_CHARS else None
    if caller is None:
        limiter.authentication_failed(request.scope)
        return render(request, "sign_in.html", status=401, next=next_path,
                      error="That key is unknown, revoked or expired.")
    settings = request.app.state.settings
    lifetime = timedelta(hours=settings.console_session_hours)
    _row, token = await open_session(session, caller, lifetime)
    response = redirect(request, next_path if next_path != "/console/" else home_of(caller.is_operator))
    set_cookie(request, response, SESSION_COOKIE, token, int(lifetime.total_seconds()))
    response.delete_cookie(PRESESSION_COOKIE, path="/console")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, user: SignedIn, session: Session) -> Response:
    await read_form(request)
    await revoke_session(session, user.token)
    response = redirect(request, "/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/language/{lang}")
async def switch_language(
    request: Request,
    lang: Annotated[str, Path(max_length=8)],
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The switch: remembered in a cookie, before Accept-Language."""
    response = redirect(request, safe_next(next))
    if lang in LANGUAGES:
        set_cookie(request, response, LANG_COOKIE, lang, 365 * 24 * 3600)
    return response
