"""The app factory: `create_app(settings)` builds a FastAPI app with no global state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from yiwang import __version__
from yiwang.catalog import api as catalog_api
from yiwang.catalog import dcat_api, download_api, publish_pages, sql_api
from yiwang.catalog import pages as catalog_pages
from yiwang.catalog.ckan import api as ckan_api
from yiwang.core.analytics import Analytics
from yiwang.core.installation import open_installation
from yiwang.core.settings import Settings
from yiwang.sandbox import api as sandbox_api
from yiwang.sandbox import pages as sandbox_pages
from yiwang.services import admin_pages as services_admin_pages
from yiwang.services import api as services_api
from yiwang.services import outcomes_api as services_outcomes_api
from yiwang.services import pages as services_pages
from yiwang.sharing import api as sharing_api
from yiwang.sharing import pages as sharing_pages
from yiwang.web import account_api, account_pages, audit_api, audit_pages, errors, health
from yiwang.web.middleware import LocaleAndSecurityMiddleware
from yiwang.web.templating import make_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "yiwang_session"
ANALYTICS_TEMP_DIR = "tmp/analytics"  # where row reads spill past the analytics memory limit

DESCRIPTION = """一网 yiwang — 数字政府数据底座 the data foundation of digital government.

认证 Authentication: send an API token (`yiwang token create USERNAME`, or the account page) in the
`Authorization` header, bare as CKAN clients do or as `Bearer <token>`.
错误 Errors: a 4xx status with `{"error": {"code": "...", "message": "..."}}`, the message in the request's
language (`?lang=en`, the `Accept-Language` header, zh-CN by default).
"""


def create_app(settings: Settings) -> FastAPI:
    """Build the web app for `settings`; the database opens when the app starts and closes when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = open_installation(settings)
        app.state.analytics = Analytics(temp_directory=settings.data_dir / ANALYTICS_TEMP_DIR)
        try:
            yield
        finally:
            app.state.analytics.close()
            app.state.database.dispose()

    app = FastAPI(
        title="一网 yiwang",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN; the spec stays at /openapi.json
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = make_templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        LocaleAndSecurityMiddleware, default_locale=settings.default_locale, secure_cookies=settings.secure_cookies
    )
    errors.install(app)
    for module in (
        health,
        account_api,
        audit_api,
        catalog_api,
        sql_api,
        download_api,
        ckan_api,
        dcat_api,
        sharing_api,
        sandbox_api,
        services_api,
        services_outcomes_api,
        account_pages,
        audit_pages,
        publish_pages,  # before catalog_pages: /datasets/new is not a dataset's name
        catalog_pages,
        sharing_pages,
        sandbox_pages,
        services_admin_pages,  # before services_pages: /services/new is not an item's code
        services_pages,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
