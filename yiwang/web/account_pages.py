"""Pages: home, sign-in, sign-out, and the account page with the user's API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yiwang.catalog.models import Dataset, OpenType
from yiwang.core import accounts
from yiwang.core.errors import DomainError, InvalidInput, TooManyRequests
from yiwang.core.i18n import N_
from yiwang.core.models import Department
from yiwang.web.deps import (
    CsrfChecked,
    DatabaseDep,
    PageActor,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TranslateDep,
    start_web_session,
)
from yiwang.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect to another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def show_home(request: Request, actor: PageActor, session: ReadSessionDep) -> Response:
    """The portal's front page."""
    counts = {
        "departments": session.scalar(select(func.count()).select_from(Department)) or 0,
        "open_datasets": session.scalar(
            select(func.count())
            .select_from(Dataset)
            .where(Dataset.open_type == OpenType.UNCONDITIONAL.value, Dataset.deleted_at.is_(None))
        )
        or 0,
    }
    return render(request, "home.html", actor, counts=counts)


@router.get("/login", response_class=HTMLResponse)
def show_login(request: Request, actor: PageActor, next: str | None = None) -> Response:
    return render(request, "login.html", actor, next=safe_next(next), error=None, username="")


@router.post("/login", dependencies=[CsrfChecked])
def submit_login(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    translate: TranslateDep,
    actor: PageActor,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the password; on success start a fresh session (new CSRF token) and go where the user was heading."""
    with database.session() as session:
        outcome = accounts.login(
            session,
            username.strip(),
            password,
            max_failures=settings.login_max_failures,
            lock_minutes=settings.login_lock_minutes,
            address=request.client.host if request.client else None,
            address_limit=accounts.AddressLimit(
                settings.login_address_max_failures, settings.login_address_window_minutes
            ),
        )
    if outcome.actor is None or outcome.actor.user_id is None:
        error = outcome.error.render(translate) if isinstance(outcome.error, DomainError) else ""
        limited = outcome.error if isinstance(outcome.error, TooManyRequests) else None
        page = render(
            request,
            "login.html",
            actor,
            status_code=401 if limited is None else 429,
            next=safe_next(next),
            error=error,
            username=username,
        )
        if limited is not None:
            page.headers["Retry-After"] = str(limited.retry_after)
        return page
    start_web_session(request, database, outcome.actor.user_id)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def submit_logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def show_account(request: Request, actor: PageActor, session: SessionDep) -> Response:
    """The signed-in user's profile and API tokens."""
    tokens = accounts.list_tokens(session, actor, actor.username)
    return render(request, "account.html", actor, tokens=tokens, new_token=None)


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[CsrfChecked])
def create_token_from_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)] = "",
    expires_in_days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Make a token and show it once on the page that answers the form."""
    days = None
    if expires_in_days.strip():
        if not expires_in_days.strip().isdigit():
            raise InvalidInput(
                "token.bad_expiry", N_("A token expires after 1 to {max} days"), max=accounts.MAX_TOKEN_DAYS
            )
        days = int(expires_in_days)
    token, plaintext = accounts.create_token(session, actor, actor.username, name, days)
    tokens = accounts.list_tokens(session, actor, actor.username)
    return render(request, "account.html", actor, tokens=tokens, new_token=plaintext, status_code=201)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke_token_from_page(token_id: int, actor: PageActor, session: SessionDep) -> Response:
    accounts.revoke_token(session, actor, token_id)
    return RedirectResponse("/account", status_code=303)
