"""What every console page shares: the templates, the signed-in user, forms and their CSRF
tokens, the session cookie, and the headers that keep the pages to themselves.

A page is signed in by the ``caravan_session`` cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS): a random token whose hash ``app.accounts.sessions`` keeps with the API key it stands for.
The key itself is sent once, in the sign-in form's body, and never shown again. Every form
carries a CSRF token: an HMAC of the session token (before sign-in, of a random pre-session
cookie), checked on every POST together with the Origin header when the browser sends one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.accounts.dependencies import Session
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.accounts.sessions import caller_for_session
from app.console.i18n import LANGUAGE_NAMES, Formats, negotiate

SESSION_COOKIE = "caravan_session"
PRESESSION_COOKIE = "caravan_presession"
LANG_COOKIE = "caravan_lang"
COOKIE_PATH = "/console"
MAX_FIELDS = 2000
MAX_VALUE_CHARS = 20_000

# Scripts only from this app's own files; no inline script, no plug-ins, no framing, forms post here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(enabled_extensions=("html", "svg"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class NotSignedIn(Exception):
    """The page needs a signed-in user: answered by a redirect to the sign-in page."""


class FormRefused(Exception):
    """A POST without a valid CSRF token (or from another origin), or a body that is not a form: 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class User:
    """Who is signed in to this request: the caller their key stands for, and the session token."""

    caller: Caller
    token: str

    @property
    def is_operator(self) -> bool:
        return self.caller.is_operator

    def may(self, scope: str) -> bool:
        return scope in self.caller.scopes


def formats(request: Request) -> Formats:
    if (cached := getattr(request.state, "console_formats", None)) is not None:
        return cached
    lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))
    fmt = Formats(lang, ZoneInfo(request.app.state.settings.console_timezone))
    request.state.console_formats = fmt
    return fmt


def _csrf_key(request: Request) -> bytes:
    return hmac.new(request.app.state.settings.cursor_key, b"caravan console csrf v1", hashlib.sha256).digest()


def csrf_for(request: Request, secret: str) -> str:
    return hmac.new(_csrf_key(request), secret.encode(), hashlib.sha256).hexdigest()


def _csrf_secret(request: Request) -> str:
    """What this request's CSRF token is made from: the session token when signed in, else the
    pre-session cookie (a new one is made, and set on the response, when there is none)."""
    user: User | None = getattr(request.state, "console_user", None)
    if user is not None:
        return user.token
    presession = request.cookies.get(PRESESSION_COOKIE, "")
    if not (16 <= len(presession) <= 64):
        presession = getattr(request.state, "new_presession", None) or secrets.token_urlsafe(24)
        request.state.new_presession = presession
    return presession


class Form:
    """An ``application/x-www-form-urlencoded`` body: every value a string, trimmed."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in pairs:
            self.values.setdefault(name, []).append(value.strip())

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, [default])[0]

    def getlist(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def flag(self, name: str) -> bool:
        return self.get(name) in ("on", "true", "1", "yes")


async def read_form(request: Request) -> Form:
    """The POSTed form, its CSRF token checked; FormRefused for anything else."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise FormRefused("not a form")
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise FormRefused("the form was sent from another site")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FormRefused("the form could not be read") from None
    if any(len(value) > MAX_VALUE_CHARS for _, value in pairs):
        raise FormRefused("a field of the form is too long")
    form = Form(pairs)
    sent = form.get("csrf_token")
    if not sent or not hmac.compare_digest(sent, csrf_for(request, _csrf_secret(request))):
        raise FormRefused("the form's security token is missing or out of date")
    return form


def set_cookie(request: Request, response: Any, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def secure_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    fmt = formats(request)
    user: User | None = getattr(request.state, "console_user", None)
    html = TEMPLATES.get_template(template).render(
        request=request, _=fmt.gettext, ngettext=fmt.ngettext, fmt=fmt, user=user, Scope=Scope,
        csrf_token=csrf_for(request, _csrf_secret(request)), languages=LANGUAGE_NAMES,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), **context,
    )
    response = secure_headers(HTMLResponse(html, status_code=status))
    if (presession := getattr(request.state, "new_presession", None)) is not None:
        set_cookie(request, response, PRESESSION_COOKIE, presession, None)
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    """After a POST that worked: see the result with a GET (303)."""
    return secure_headers(RedirectResponse(url, status_code=303))


def sign_in_url(next_path: str) -> str:
    return f"/console/sign-in?next={quote(next_path, safe='')}"


def safe_next(value: str | None) -> str:
    """Where to go after signing in or switching language: a console path, never another site."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value \
            and all(ch.isprintable() for ch in value):
        return value
    return "/console/"


async def signed_in(request: Request, session: Session) -> User:
    """The signed-in user, counted against their key's rate limit like an API request."""
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await caller_for_session(session, token) if token else None
    if found is None:
        raise NotSignedIn()
    caller, _row = found
    await request.app.state.rate_limiter.admit(request.scope, caller.api_key_id)
    request.state.caller = caller
    user = User(caller, token)
    request.state.console_user = user
    return user


SignedIn = Annotated[User, Depends(signed_in)]


def needs(scope: Scope, *, operator: bool = False) -> Any:
    """A signed-in user whose key holds ``scope`` (and the operator role when asked); else 403."""

    async def scoped(user: SignedIn) -> User:
        user.caller.require(scope, operator=operator)
        return user

    return Depends(scoped)
