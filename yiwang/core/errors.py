"""Domain errors: a stable code, an English message template (translated at the edge) and its parameters.

Every layer raises these; only the web and CLI layers turn them into HTTP statuses or exit codes, in one place each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """An error a user may see: `code` is stable (``dataset.not_found``), `message` is an English msgid."""

    http_status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return f"{self.code}: {self.render()}"

    def render(self, translate: Any = None) -> str:
        """The message in the language of `translate` (a gettext callable), English when none is given."""
        template = translate(self.message) if translate is not None else self.message
        try:
            return str(template).format(**self.params)
        except (KeyError, IndexError, ValueError):
            return str(template)


class InvalidInput(DomainError):
    """Input that breaks a rule (a malformed ID number, a bad setting value)."""

    http_status = 422


class AuthenticationRequired(DomainError):
    """No valid credentials were presented."""

    http_status = 401


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    http_status = 403


class NotFound(DomainError):
    """The resource does not exist (or the actor may not know it exists)."""

    http_status = 404


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate name)."""

    http_status = 409


class TooLarge(DomainError):
    """An upload or request over the configured limit."""

    http_status = 413


class TooManyRequests(DomainError):
    """Over a rate limit; `retry_after` seconds until the next call may succeed (sent as ``Retry-After``)."""

    http_status = 429

    def __init__(self, code: str, message: str, *, retry_after: int, **params: Any) -> None:
        super().__init__(code, message, retry_after=retry_after, **params)
        self.retry_after = retry_after


FieldMessage = tuple[str, Mapping[str, Any]]  # an English msgid and its parameters


class FieldErrors(InvalidInput):
    """Input with errors in named fields: each field has its own message, translated at the edge like the rest."""

    def __init__(self, code: str, message: str, fields: Mapping[str, FieldMessage], **params: Any) -> None:
        super().__init__(code, message, count=len(fields), **params)
        self.fields = dict(fields)

    def render_fields(self, translate: Any = None) -> dict[str, str]:
        rendered = {}
        for name, (template, params) in self.fields.items():
            text = translate(template) if translate is not None else template
            try:
                rendered[name] = str(text).format(**params)
            except (KeyError, IndexError, ValueError):
                rendered[name] = str(text)
        return rendered
