"""Reading CKAN action parameters: query-string values are strings, a repeated key a list, JSON bodies typed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

Params = Mapping[str, Any]


def missing(key: str) -> InvalidInput:
    return InvalidInput(f"ckan.missing.{key}", N_("Missing value"))


def text(params: Params, key: str, default: str = "") -> str:
    value = params.get(key, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    if value is None:
        return default
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str):
        raise InvalidInput(f"ckan.invalid.{key}", N_("Expected a text value"))
    return value


def required(params: Params, key: str) -> str:
    value = text(params, key).strip()
    if not value:
        raise missing(key)
    return value


def integer(params: Params, key: str, default: int) -> int:
    raw = params.get(key)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        raise InvalidInput(f"ckan.invalid.{key}", N_("Expected a whole number"))
    if isinstance(raw, int):
        return raw
    try:
        return int(text(params, key))
    except ValueError:
        raise InvalidInput(f"ckan.invalid.{key}", N_("Expected a whole number")) from None


def boolean(params: Params, key: str, default: bool = False) -> bool:
    raw = params.get(key)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    value = text(params, key).strip().lower()
    if value in ("true", "1", "yes", "on", "y", "t"):
        return True
    if value in ("false", "0", "no", "off", "n", "f"):
        return False
    raise InvalidInput(f"ckan.invalid.{key}", N_("Expected true or false"))


def json_value(params: Params, key: str) -> Any:
    """A value that may arrive as JSON text in a query string or form, or already decoded in a JSON body."""
    raw = params.get(key)
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def string_list(params: Params, key: str) -> list[str]:
    """A list of names: a JSON list, a comma-separated string, or a repeated key."""
    raw = json_value(params, key)
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list):
        return [str(item).strip() for item in raw if str(item).strip()]
    raise InvalidInput(f"ckan.invalid.{key}", N_("Expected a list"))


def named_list(params: Params, key: str) -> list[str] | None:
    """CKAN's ``tags``/``groups``: a list of ``{"name": ...}`` dicts (or plain names); None when not given."""
    if key not in params:
        return None
    raw = json_value(params, key)
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, list) else [raw]
    names = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("name") or item.get("id")
            if not isinstance(name, str):
                raise InvalidInput(f"ckan.invalid.{key}", N_("Each item needs a name"))
            names.append(name)
        elif isinstance(item, str):
            names.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            raise InvalidInput(f"ckan.invalid.{key}", N_("Each item needs a name"))
    return names


def extras(params: Params) -> dict[str, str]:
    """CKAN's ``extras``: a list of ``{"key", "value"}`` dicts."""
    raw = json_value(params, "extras")
    if raw in (None, ""):
        return {}
    if not isinstance(raw, list):
        raise InvalidInput("ckan.invalid.extras", N_("Expected a list of key and value pairs"))
    result: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InvalidInput("ckan.invalid.extras", N_("Expected a list of key and value pairs"))
        result[item["key"]] = "" if item.get("value") is None else str(item.get("value"))
    return result
