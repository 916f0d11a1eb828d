"""Who is acting: roles and the `Actor` every service function receives."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from enum import StrEnum

from yiwang.core.i18n import N_


class Role(StrEnum):
    """角色. `admin` runs the platform; `auditor` reads the audit trail (separation of duties, 三员分立)."""

    ADMIN = "admin"
    DEPT_STAFF = "dept_staff"
    AUDITOR = "auditor"
    ENTERPRISE = "enterprise"
    CITIZEN = "citizen"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: N_("Data administrator"),
    Role.DEPT_STAFF: N_("Department staff"),
    Role.AUDITOR: N_("Auditor"),
    Role.ENTERPRISE: N_("Enterprise"),
    Role.CITIZEN: N_("Citizen"),
}


@dataclass(frozen=True)
class Actor:
    """操作者: the user (or the local operator at the command line) on whose behalf something is done."""

    user_id: int | None
    username: str
    display_name: str = ""
    roles: frozenset[Role] = field(default_factory=frozenset)
    department_id: int | None = None
    department_name: str = ""
    via: str = "web"

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, username="anonymous", via="web")

    @classmethod
    def operator(cls) -> Actor:
        """The person at the server's command line: full rights, since they already hold the files and keys."""
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = "unknown"
        return cls(user_id=None, username=f"cli:{login}", roles=frozenset({Role.ADMIN}), via="cli")

    @property
    def is_operator(self) -> bool:
        return self.user_id is None and self.via == "cli"

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.is_operator

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def role_names(self) -> str:
        """Roles as stored in the audit trail, sorted so the same set always reads the same."""
        return ",".join(sorted(self.roles)) or "anonymous"
