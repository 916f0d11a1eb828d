"""Pure-ASGI middleware: the request's language, and security headers on every response."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang.core.i18n import LOCALES, normalize_locale

LANG_COOKIE = "yiwang_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    # Scripts only from our own static folder (no CDN, no inline script); ECharts sets inline styles.
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def choose_locale(scope: Scope, default: str) -> tuple[str, str | None]:
    """The locale for this request and, when the user just picked one with ``?lang=``, that choice to remember."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = query.get("lang", [""])[0]
    if asked:
        chosen = normalize_locale(asked)
        return chosen, chosen
    cookie = SimpleCookie(_header(scope, b"cookie"))
    if LANG_COOKIE in cookie and cookie[LANG_COOKIE].value in LOCALES:
        return cookie[LANG_COOKIE].value, None
    accept = _header(scope, b"accept-language")
    if accept:
        return normalize_locale(accept.split(",")[0].split(";")[0]), None
    return default, None


class LocaleAndSecurityMiddleware:
    def __init__(self, app: ASGIApp, default_locale: str, secure_cookies: bool) -> None:
        self.app = app
        self.default_locale = default_locale
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale, remember = choose_locale(scope, self.default_locale)
        scope.setdefault("state", {})["locale"] = locale

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-language", locale.replace("_", "-"))
                if remember:
                    secure = "; Secure" if self.secure_cookies else ""
                    headers.append(
                        "set-cookie",
                        f"{LANG_COOKIE}={remember}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
