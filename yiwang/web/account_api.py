"""JSON API of accounts: who am I, my API tokens, departments, users."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from yiwang.core import accounts
from yiwang.core.authz import Action, authorize
from yiwang.core.models import ApiToken
from yiwang.web.deps import ApiActor, SessionDep
from yiwang.web.openapi_links import from_body, linked, token_links

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class Profile(BaseModel):
    username: str
    display_name: str
    department: str | None = Field(description="部门名称 Department name, null for enterprises and citizens.")
    roles: list[str]


class TokenIn(BaseModel):
    name: str = Field("", max_length=100, description="用途说明 What the token is for.")
    expires_in_days: int | None = Field(
        None, ge=1, le=accounts.MAX_TOKEN_DAYS, description="有效天数 Days until expiry; null for none."
    )


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenPublic:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )


class TokenCreated(TokenPublic):
    token: str = Field(description="令牌本身，仅此一次 The token itself, shown this once only.")


class DepartmentPublic(BaseModel):
    name: str
    division_code: str | None


class UserPublic(BaseModel):
    username: str
    display_name: str
    department: str | None
    roles: list[str]
    is_active: bool
    last_login_at: datetime | None


@router.get("/me", response_model=Profile, summary="当前用户 Who am I")
def read_me(actor: ApiActor) -> Profile:
    """The user behind the token: name, department and roles."""
    authorize(actor, Action.PROFILE_READ)
    return Profile(
        username=actor.username,
        display_name=actor.display_name,
        department=actor.department_name or None,
        roles=sorted(actor.roles),
    )


@router.get("/tokens", response_model=list[TokenPublic], summary="我的令牌 My API tokens")
def list_my_tokens(actor: ApiActor, session: SessionDep) -> list[TokenPublic]:
    """The caller's tokens (never the tokens themselves)."""
    return [TokenPublic.of(t) for t in accounts.list_tokens(session, actor, actor.username)]


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="创建令牌 Create an API token",
    responses=linked(201, **token_links(from_body("/id"))),
)
def create_my_token(body: TokenIn, actor: ApiActor, session: SessionDep) -> TokenCreated:
    """A new token for the caller; the response is the only time it is shown."""
    token, plaintext = accounts.create_token(session, actor, actor.username, body.name, body.expires_in_days)
    return TokenCreated(**TokenPublic.of(token).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, summary="吊销令牌 Revoke an API token")
def revoke_my_token(token_id: int, actor: ApiActor, session: SessionDep) -> TokenPublic:
    """Revoke a token at once (the caller's own; admins may revoke anyone's)."""
    return TokenPublic.of(accounts.revoke_token(session, actor, token_id))


@router.get("/departments", response_model=list[DepartmentPublic], summary="部门列表 Departments")
def list_departments(actor: ApiActor, session: SessionDep) -> list[DepartmentPublic]:
    """Every department with its division code."""
    return [
        DepartmentPublic(name=d.name, division_code=d.division_code) for d in accounts.list_departments(session, actor)
    ]


@router.get("/users", response_model=list[UserPublic], summary="用户列表 Users (admin)")
def list_users(actor: ApiActor, session: SessionDep) -> list[UserPublic]:
    """Every user account; data administrators only."""
    return [
        UserPublic(
            username=u.username,
            display_name=u.display_name,
            department=u.department.name if u.department else None,
            roles=sorted(r.role for r in u.roles),
            is_active=u.is_active,
            last_login_at=u.last_login_at,
        )
        for u in accounts.list_users(session, actor)
    ]
