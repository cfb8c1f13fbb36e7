"""The documentation pages, served whole by the app: Swagger UI at /docs and ReDoc at /redoc.

FastAPI's own pages load their JavaScript and CSS from a CDN, so without the internet /docs
is a blank page. These are FastAPI's "self-hosting JavaScript and CSS for docs" recipe, with
the assets taken from the ``fastapi-offline`` package (Swagger UI and ReDoc bundles, kept up to
date there) rather than copied into this repository. Every URL the pages load is on this server.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
# Swagger UI would otherwise send the document to validator.swagger.io for a badge.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True, "displayRequestDuration": True}


def swagger_page(openapi_url: str, title: str, oauth2_redirect_url: str | None = None) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        oauth2_redirect_url=oauth2_redirect_url,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )


def redoc_page(openapi_url: str, title: str) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=openapi_url,
        title=title,
        redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )


def install_docs(app: FastAPI) -> None:
    """/docs, /docs/oauth2-redirect and /redoc for the app's /openapi.json, and the assets they
    load under /docs-assets. The app is made with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    oauth2_redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return swagger_page(app.openapi_url or "/openapi.json", f"{app.title} – API docs", oauth2_redirect_url)

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return redoc_page(app.openapi_url or "/openapi.json", f"{app.title} – API reference")
