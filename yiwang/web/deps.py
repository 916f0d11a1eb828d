"""Request dependencies as `Annotated` aliases: sessions, analytics, the current actor, the language, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from yiwang.core import accounts, credentials
from yiwang.core.analytics import Analytics
from yiwang.core.db import Database
from yiwang.core.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from yiwang.core.i18n import N_, Translate, translator
from yiwang.core.identity import Actor
from yiwang.core.models import User
from yiwang.core.settings import Settings
from yiwang.web.bodies import nul_refusal

SESSION_USER = "uid"
SESSION_CREDENTIAL = "cred"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_analytics(request: Request) -> Analytics:
    """The app's analytics database (DuckDB over published Parquet files), opened once for the app's life."""
    analytics: Analytics = request.app.state.analytics
    return analytics


def write_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A unit of work that commits when the handler returns (governed reads too: they append to the audit chain)."""
    with database.session() as session:
        yield session


def read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.read_session() as session:
        yield session


def get_locale(request: Request) -> str:
    return str(getattr(request.state, "locale", get_settings(request).default_locale))


def get_translate(locale: Annotated[str, Depends(get_locale)]) -> Translate:
    return translator(locale)


def _presented_token(request: Request) -> str | None:
    return accounts.token_from_header(request.headers.get("authorization")) or accounts.token_from_header(
        request.headers.get("x-ckan-api-key")
    )


def optional_api_actor(request: Request, database: Annotated[Database, Depends(get_database)]) -> Actor:
    """The token's actor, or the anonymous actor when no token is sent (a wrong token is still a 401)."""
    if _presented_token(request) is None:
        return Actor.anonymous()
    return api_actor(request, database)


def api_actor(request: Request, database: Annotated[Database, Depends(get_database)]) -> Actor:
    """The actor behind an API call: a token in ``Authorization`` (CKAN style, bare or Bearer) or X-CKAN-API-Key."""
    plaintext = _presented_token(request)
    if plaintext is None:
        raise AuthenticationRequired("token.missing", N_("Send your API token in the Authorization header"))
    with database.read_session() as session:
        check = accounts.check_token(session, plaintext)
    if check.needs_touch:
        with database.session() as session:
            accounts.touch_token(session, check.token_id)
    return check.actor


def page_actor(request: Request, database: Annotated[Database, Depends(get_database)]) -> Actor:
    """The signed-in web user, or the anonymous actor.

    A session ends when the user's password changes or the account is disabled: the cookie carries a fingerprint
    of the password hash, compared on every request.
    """
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return Actor.anonymous()
    with database.read_session() as session:
        user = session.get(User, user_id)
        if (
            user is None
            or not user.is_active
            or request.session.get(SESSION_CREDENTIAL) != credentials.fingerprint(user.password_hash)
        ):
            request.session.clear()
            return Actor.anonymous()
        return accounts.actor_for(user)


def request_actor(request: Request, database: Annotated[Database, Depends(get_database)]) -> Actor:
    """Whoever asks: the token's actor when one is sent (scripts, curl), else the signed-in web user or anonymous."""
    if _presented_token(request) is not None:
        return api_actor(request, database)
    return page_actor(request, database)


def start_web_session(request: Request, database: Database, user_id: int) -> None:
    """Begin a fresh signed-in session: nothing planted in the cookie before sign-in survives."""
    with database.read_session() as session:
        user = session.get(User, user_id)
        password_hash = user.password_hash if user is not None else ""
    request.session.clear()
    request.session[SESSION_USER] = user_id
    request.session[SESSION_CREDENTIAL] = credentials.fingerprint(password_hash)


def csrf_token(request: Request) -> str:
    """This browser session's CSRF token, made on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


async def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every form post carries the session's CSRF token (a cross-site post does not know it), and text that can be
    stored: no NUL, no bytes that were not UTF-8 (the form parser turned them into U+FFFD)."""
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not hmac.compare_digest(expected, csrf_token):
        raise PermissionDenied("csrf.invalid", N_("The form expired or came from another site: reload and try again"))
    form = await request.form()  # parsed already for the route's own fields: Starlette keeps it
    texts = [text for key, value in form.multi_items() for text in (key, value) if isinstance(text, str)]
    if any("\x00" in text for text in texts):
        raise nul_refusal()
    if any("\ufffd" in text for text in texts):
        raise InvalidInput("request.invalid_text", N_("Some text in the form is not valid UTF-8: retype it"))


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
# scope="function": the unit of work commits when the handler returns, before the response is sent, so a client is
# never told "created" about work a crash or a failed commit then loses (FastAPI's default closes it afterwards).
SessionDep = Annotated[Session, Depends(write_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(read_session, scope="function")]
ApiActor = Annotated[Actor, Depends(api_actor)]
OptionalApiActor = Annotated[Actor, Depends(optional_api_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]
RequestActor = Annotated[Actor, Depends(request_actor)]
LocaleDep = Annotated[str, Depends(get_locale)]
TranslateDep = Annotated[Translate, Depends(get_translate)]
CsrfChecked = Depends(check_csrf)
