"""The console: server-rendered pages under ``/console`` for the hub operator and the exporter,
in Simplified Chinese and English (an entry point, beside the routers).

Every page calls the same services as the API, as the signed-in key, under its scopes and
its organisation's isolation. ``install_console`` adds the pages, their static files (the
app's own CSS and JavaScript: no CDN, no build step) and their error pages to the app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.console import auth_pages, booking_pages, operator_pages, partner_pages, quote_pages
from app.console.errors import console_error, is_console
from app.console.web import FormRefused, NotSignedIn

__all__ = ["console_error", "install_console", "is_console"]

STATIC = Path(__file__).with_name("static")


def install_console(app: FastAPI) -> None:
    for router in (auth_pages.router, quote_pages.router, booking_pages.router, operator_pages.router,
                   partner_pages.router):
        app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(NotSignedIn, console_error)
    app.add_exception_handler(FormRefused, console_error)
