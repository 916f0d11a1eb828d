"""Requests no handler should see: NUL (U+0000) in the path, the query string or a JSON body, refused before any
route runs.

No text a person types holds NUL, PostgreSQL cannot store or even compare it (SQLite would, silently), and it cuts
strings short in C libraries downstream: one check here keeps it out of every route on both databases. Form posts
get the same check with their CSRF check (`yiwang.web.deps.check_csrf`), where the parsed form is at hand.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_, translator

# a \u0000 escape that is not itself escaped (preceded by an even number of backslashes), or a raw NUL byte
_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000|\x00")


def nul_refusal() -> InvalidInput:
    return InvalidInput("request.nul", N_("Some text contains a NUL character (U+0000), which cannot be stored"))


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _nul_in_address(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class RefuseNul:
    """Pure-ASGI middleware: refuse a path or query string holding NUL; buffer a JSON body (its route reads it whole
    anyway), refuse it if it holds NUL, else hand it on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _nul_in_address(scope):
            await self._refuse(scope, receive, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _NUL.search(body):
            from yiwang.web.errors import error_response  # noqa: PLC0415 - errors installs this middleware

            request = Request(scope)
            locale = str(scope.get("state", {}).get("locale", "zh_CN"))
            refusal = nul_refusal()
            response = error_response(request, refusal.http_status, refusal.code, refusal.render(translator(locale)))
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        from yiwang.web.errors import error_response  # noqa: PLC0415 - errors installs this middleware

        locale = str(scope.get("state", {}).get("locale", "zh_CN"))
        refusal = nul_refusal()
        response = error_response(Request(scope), refusal.http_status, refusal.code, refusal.render(translator(locale)))
        await response(scope, receive, send)
