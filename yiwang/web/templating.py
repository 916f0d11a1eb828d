"""Jinja2 rendering with the request's language, the signed-in actor and the CSRF token in every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from yiwang.core.i18n import LOCALES, translator
from yiwang.core.identity import ROLE_LABELS, Actor
from yiwang.web.deps import CSRF_FIELD, csrf_token

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Each domain package keeps its pages' templates beside its code, under templates/<package>/.
DOMAIN_TEMPLATE_DIRS = [
    Path(__file__).resolve().parent.parent / package / "templates"
    for package in ("catalog", "sharing", "sandbox", "services")
]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=[str(TEMPLATE_DIR), *map(str, DOMAIN_TEMPLATE_DIRS)])
    templates.env.globals["role_labels"] = ROLE_LABELS
    templates.env.globals["csrf_field"] = CSRF_FIELD
    return templates


def render(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` for this request; `_` translates into the request's language."""
    templates: Jinja2Templates = request.app.state.templates
    locale = str(getattr(request.state, "locale", "zh_CN"))
    # Switching language keeps the rest of the address (a login's `next`, the audit filters).
    lang_urls = {code: f"{request.url.path}?{urlencode({**request.query_params, 'lang': code})}" for code in LOCALES}
    return templates.TemplateResponse(
        request,
        template,
        {
            "_": translator(locale),
            "locale": locale,
            "lang_tag": locale.replace("_", "-"),
            "actor": actor,
            "csrf_token": csrf_token(request),
            "lang_urls": lang_urls,
            **context,
        },
        status_code=status_code,
    )
