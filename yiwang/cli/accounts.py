"""`yiwang user|department|token …`: accounts from the server's command line (acting as the local operator)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from yiwang.cli.context import ErrorReportingGroup, console, state
from yiwang.core import accounts
from yiwang.core.identity import Actor

user_app = typer.Typer(cls=ErrorReportingGroup, help="用户 Users.", no_args_is_help=True)
department_app = typer.Typer(cls=ErrorReportingGroup, help="部门 Departments.", no_args_is_help=True)
token_app = typer.Typer(cls=ErrorReportingGroup, help="API 令牌 API tokens.", no_args_is_help=True)

PasswordOption = Annotated[
    str,
    typer.Option(
        prompt="密码 Password",
        hide_input=True,
        confirmation_prompt=True,
        help="密码 Password (asked for when not given; at least 8 characters).",
    ),
]


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else "—"


@user_app.command("add")
def add_user(
    ctx: typer.Context,
    username: str,
    password: PasswordOption,
    role: Annotated[
        list[str],
        typer.Option("--role", help="角色 Role: admin, dept_staff, auditor, enterprise, citizen (repeatable)."),
    ],
    department: Annotated[str | None, typer.Option(help="所属部门名称 Department name.")] = None,
    display_name: Annotated[str, typer.Option(help="显示名 Display name.")] = "",
) -> None:
    """新增用户 Create a user."""
    with state(ctx).database() as database, database.session() as session:
        user = accounts.create_user(session, Actor.operator(), username, password, role, department, display_name)
        console.print(f"[green]✓[/] 已创建用户 user created: [bold]{user.username}[/] ({', '.join(role)})")


@user_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """用户列表 List users."""
    with state(ctx).database() as database, database.session() as session:
        table = Table(
            "用户名 username", "显示名 name", "角色 roles", "部门 department", "启用 active", "最近登录 last login"
        )
        for user in accounts.list_users(session, Actor.operator()):
            table.add_row(
                user.username,
                user.display_name,
                ", ".join(r.role for r in user.roles),
                user.department.name if user.department else "—",
                "✓" if user.is_active else "✗",
                _when(user.last_login_at),
            )
        console.print(table)


@user_app.command("passwd")
def set_password(ctx: typer.Context, username: str, password: PasswordOption) -> None:
    """修改密码 Set a user's password (also unlocks the account)."""
    with state(ctx).database() as database, database.session() as session:
        accounts.set_password(session, Actor.operator(), username, password)
    console.print(f"[green]✓[/] 密码已更新 password changed for [bold]{username}[/]")


@department_app.command("add")
def add_department(
    ctx: typer.Context,
    name: str,
    division: Annotated[str | None, typer.Option(help="行政区划代码 GB/T 2260 division code, e.g. 460000.")] = None,
) -> None:
    """新增部门 Create a department."""
    with state(ctx).database() as database, database.session() as session:
        department = accounts.create_department(session, Actor.operator(), name, division)
        console.print(f"[green]✓[/] 已创建部门 department created: [bold]{department.name}[/]")


@department_app.command("list")
def list_departments(ctx: typer.Context) -> None:
    """部门列表 List departments."""
    with state(ctx).database() as database, database.session() as session:
        table = Table("部门 department", "区划 division", "用户数 users")
        for department in accounts.list_departments(session, Actor.operator()):
            table.add_row(department.name, department.division_code or "—", str(len(department.users)))
        console.print(table)


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option(help="用途说明 What the token is for.")] = "",
    expires_days: Annotated[int | None, typer.Option(help="有效天数 Days until it expires (none: no expiry).")] = None,
) -> None:
    """创建令牌 Create an API token; it is printed once, alone on the last line."""
    with state(ctx).database() as database, database.session() as session:
        token, plaintext = accounts.create_token(session, Actor.operator(), username, name, expires_days)
        expiry = _when(token.expires_at) if token.expires_at else "不过期 never"
        console.print(
            f"[green]✓[/] 令牌 #{token.id} token for [bold]{username}[/], 到期 expires: {expiry}. "
            "请妥善保存，仅显示一次 Keep it safe: it is shown only once."
        )
    typer.echo(plaintext)


@token_app.command("list")
def list_tokens(ctx: typer.Context, username: str) -> None:
    """令牌列表 List a user's tokens (never the tokens themselves)."""
    with state(ctx).database() as database, database.session() as session:
        table = Table(
            "id", "前缀 prefix", "用途 name", "创建 created", "到期 expires", "吊销 revoked", "最近使用 last used"
        )
        for token in accounts.list_tokens(session, Actor.operator(), username):
            table.add_row(
                str(token.id),
                token.prefix + "…",
                token.name,
                _when(token.created_at),
                _when(token.expires_at),
                _when(token.revoked_at),
                _when(token.last_used_at),
            )
        console.print(table)


@token_app.command("revoke")
def revoke_token(ctx: typer.Context, token_id: int) -> None:
    """吊销令牌 Revoke a token by its id; it stops working at once."""
    with state(ctx).database() as database, database.session() as session:
        accounts.revoke_token(session, Actor.operator(), token_id)
    console.print(f"[green]✓[/] 令牌 #{token_id} 已吊销 revoked")
