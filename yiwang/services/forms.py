"""Online forms of service items: a JSON Schema subset, checked on the server with yiwang's own validators.

The subset is what a government form needs and what can be rendered as an accessible HTML form: an object of
named fields, each text, whole number, number or yes/no, with a title (and ``x-title-en``), an optional list of
choices, lengths, bounds, a pattern and a format. Formats use the core validators: ``id-number`` (GB 11643),
``credit-code`` (GB 32100), ``phone`` (mainland mobile), ``division-code`` (GB/T 2260), ``date``, ``email``.
Errors come per field, in the user's language; unknown fields are refused so nothing unexpected is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from yiwang.core import validators
from yiwang.core.errors import FieldErrors, FieldMessage, InvalidInput
from yiwang.core.i18n import N_

TYPES = ("string", "integer", "number", "boolean")
FORMATS = ("id-number", "credit-code", "phone", "division-code", "date", "email")
FIELD_KEYWORDS = frozenset(
    {
        "type",
        "title",
        "x-title-en",
        "description",
        "enum",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "pattern",
        "default",
    }
)
MAX_TEXT = 2000  # longest text in any field, whatever the schema says
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}")


def check_schema(schema: Mapping[str, Any]) -> None:
    """Refuse a form schema outside the subset (when an item is created or edited)."""

    def bad(message: str, **params: object) -> InvalidInput:
        return InvalidInput("form_schema.invalid", message, **params)

    if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping):
        raise bad(N_("A form schema is an object with properties"))
    properties: Mapping[str, Any] = schema["properties"]
    for name, spec in properties.items():
        if not _FIELD_NAME.fullmatch(str(name)):
            raise bad(N_("Field name {name} must be lower-case letters, digits and underscores"), name=name)
        if not isinstance(spec, Mapping):
            raise bad(N_("Field {name} must be described by an object"), name=name)
        unknown = sorted(set(spec) - FIELD_KEYWORDS)
        if unknown:
            raise bad(N_("Field {name} uses unsupported keywords: {keywords}"), name=name, keywords=", ".join(unknown))
        if spec.get("type") not in TYPES:
            raise bad(N_("Field {name} must have a type: string, integer, number or boolean"), name=name)
        if "format" in spec and spec["format"] not in FORMATS:
            raise bad(N_("Field {name} has an unknown format {format}"), name=name, format=spec["format"])
        if "pattern" in spec:
            try:
                re.compile(str(spec["pattern"]))
            except re.error:
                raise bad(N_("Field {name} has a pattern that is not a regular expression"), name=name) from None
        if "enum" in spec and not (isinstance(spec["enum"], list) and spec["enum"]):
            raise bad(N_("Field {name} must list its choices"), name=name)
    required = schema.get("required", [])
    if not isinstance(required, list) or any(name not in properties for name in required):
        raise bad(N_("Every required field must be one of the form's fields"))


def _message(template: str, **params: object) -> FieldMessage:
    return (template, params)


def _check_format(kind: str, value: str) -> tuple[str, FieldMessage | None]:
    """The normalised value, or the validator's own message."""
    try:
        if kind == "id-number":
            return validators.validate_citizen_id(value).number, None
        if kind == "credit-code":
            return validators.validate_credit_code(value).number, None
        if kind == "phone":
            return validators.normalize_mobile_phone(value), None
        if kind == "division-code":
            return validators.validate_division_code(value).code, None
    except InvalidInput as error:
        return value, (error.message, error.params)
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return value, _message(N_("Not a date: write it as YYYY-MM-DD"))
    if kind == "email" and not _EMAIL.fullmatch(value):
        return value, _message(N_("Not an e-mail address"))
    return value, None


def _check_field(spec: Mapping[str, Any], value: Any) -> tuple[Any, FieldMessage | None]:
    kind = spec["type"]
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (value, _message(N_("Must be yes or no")))
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, _message(N_("Must be a number"))
        if kind == "integer" and not float(value).is_integer():
            return value, _message(N_("Must be a whole number"))
        if "minimum" in spec and value < spec["minimum"]:
            return value, _message(N_("Must be at least {minimum}"), minimum=spec["minimum"])
        if "maximum" in spec and value > spec["maximum"]:
            return value, _message(N_("Must be at most {maximum}"), maximum=spec["maximum"])
        return (int(value) if kind == "integer" else value), _choice(spec, value)
    if not isinstance(value, str):
        return value, _message(N_("Must be text"))
    value = value.strip()
    if len(value) > min(int(spec.get("maxLength", MAX_TEXT)), MAX_TEXT):
        return value, _message(
            N_("At most {count} characters"), count=min(int(spec.get("maxLength", MAX_TEXT)), MAX_TEXT)
        )
    if len(value) < int(spec.get("minLength", 0)):
        return value, _message(N_("At least {count} characters"), count=spec["minLength"])
    if "pattern" in spec and not re.fullmatch(str(spec["pattern"]), value):
        return value, _message(N_("Not in the expected form"))
    if "format" in spec:
        value, problem = _check_format(str(spec["format"]), value)
        if problem is not None:
            return value, problem
    return value, _choice(spec, value)


def _choice(spec: Mapping[str, Any], value: Any) -> FieldMessage | None:
    if "enum" in spec and value not in spec["enum"]:
        return _message(N_("Choose one of: {choices}"), choices="、".join(map(str, spec["enum"])))
    return None


def field_problems(
    schema: Mapping[str, Any], form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, FieldMessage]]:
    """The cleaned form (values normalised, empty optional fields left out) and a message per bad field."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    cleaned: dict[str, Any] = {}
    problems: dict[str, FieldMessage] = {}
    for name in form:
        if name not in properties:
            problems[str(name)[:64]] = _message(N_("This form has no such field"))
    for name, spec in properties.items():
        value = form.get(name)
        if value is None or value == "":
            if name in required:
                problems[name] = _message(N_("This field is required"))
            continue
        value, problem = _check_field(spec, value)
        if problem is None:
            cleaned[name] = value
        else:
            problems[name] = problem
    return cleaned, problems


def validate(schema: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """The cleaned form, or `FieldErrors` (``form.invalid``) naming every bad field at once."""
    if not isinstance(form, Mapping):
        raise InvalidInput("form.not_object", N_("The form must be an object of field values"))
    cleaned, problems = field_problems(schema, form)
    if problems:
        raise form_errors(problems)
    return cleaned


def form_errors(problems: Mapping[str, FieldMessage]) -> FieldErrors:
    return FieldErrors("form.invalid", N_("{count} fields of the form need correcting"), problems)


def from_html(schema: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """Typed values from an HTML form's strings (numbers parsed, checkboxes read); bad numbers stay text so
    `validate` names the field."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    typed: dict[str, Any] = {}
    parsers: dict[str, Callable[[str], Any]] = {"integer": int, "number": float}
    for name, spec in properties.items():
        raw = values.get(name, "")
        kind = spec.get("type")
        if kind == "boolean":
            typed[name] = raw in ("on", "true", "1", "yes")
        elif kind in parsers and raw.strip():
            try:
                typed[name] = parsers[kind](raw.strip())
            except ValueError:
                typed[name] = raw
        else:
            typed[name] = raw
    return typed


def title(spec: Mapping[str, Any], name: str, locale: str) -> str:
    """A field's label in `locale`."""
    if locale.startswith("en") and spec.get("x-title-en"):
        return str(spec["x-title-en"])
    return str(spec.get("title") or name)
