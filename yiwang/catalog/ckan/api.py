"""The CKAN Action API v3 over HTTP at ``/api/3/action/{name}`` and ``/api/action/{name}``.

Every answer is CKAN's envelope, errors included — ``{"help", "success", "result"}`` or ``{"help", "success":
false, "error": {"__type", "message", ...}}`` — because CKAN clients read ``success`` and ``__type``, not the
status. Unknown parameters are ignored, as CKAN does.
"""

from __future__ import annotations

import json
import logging
import secrets
from contextlib import ExitStack
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import JSONResponse

from yiwang.catalog.ckan.actions import ACTIONS, READ_ACTIONS, ActionContext, Upload
from yiwang.core.errors import (
    AuthenticationRequired,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from yiwang.core.i18n import Translate, translator
from yiwang.web.deps import api_actor, get_analytics, get_database, get_locale, get_settings, optional_api_actor
from yiwang.web.uploads import refuse_if_declared_too_large, saved_upload

router = APIRouter(tags=["ckan"])
logger = logging.getLogger("yiwang.ckan")

# domain error codes -> the package dict field CKAN clients expect a Validation Error to name
FIELD_OF_CODE = {
    "dataset.bad_name": "name",
    "dataset.exists": "name",
    "dataset.bad_title": "title",
    "dataset.bad_share_type": "share_type",
    "dataset.bad_open_type": "open_type",
    "dataset.bad_security_level": "security_level",
    "dataset.core_not_open": "open_type",
    "upload.too_large": "upload",
}


def _help_url(request: Request, name: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"


def _envelope(request: Request, name: str, status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"help": _help_url(request, name), **body}, status_code=status)


def _error_body(error: DomainError, translate: Translate) -> tuple[int, dict[str, Any]]:
    message = error.render(translate)
    if isinstance(error, NotFound):
        return 404, {"__type": "Not Found Error", "message": f"Not found: {message}"}
    if isinstance(error, PermissionDenied | AuthenticationRequired):
        return 403, {"__type": "Authorization Error", "message": f"Access denied: {message}"}
    if error.code.startswith("search."):
        return 400, {"__type": "Search Query Error", "message": f"Search Query is invalid: {message}"}
    field = FIELD_OF_CODE.get(error.code) or (
        error.code.rsplit(".", 1)[-1] if error.code.startswith(("ckan.missing.", "ckan.invalid.")) else None
    )
    body: dict[str, Any] = {"__type": "Validation Error", "message": message}
    if field:
        body[field] = [message]
    return 409, body


def _add(params: dict[str, Any], key: str, value: Any) -> None:
    """A repeated key becomes a list of its values, as CKAN reads query strings and forms."""
    if key not in params:
        params[key] = value
    elif isinstance(params[key], list):
        params[key].append(value)
    else:
        params[key] = [params[key], value]


async def _params(request: Request, stack: ExitStack, max_bytes: int) -> tuple[dict[str, Any], Upload | None]:
    """The call's parameters: the query string for GET (a repeated key is a list), else the JSON or form body."""
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _add(params, key, value)
    if request.method != "POST":
        return params, None
    content_type = request.headers.get("content-type", "")
    upload: Upload | None = None
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        refuse_if_declared_too_large(request, max_bytes)
        form = await request.form(max_part_size=max_bytes)
        try:
            for key, item in form.multi_items():
                if not isinstance(item, UploadFile):
                    _add(params, key, item)
                elif key == "upload" and item.filename:
                    path = stack.enter_context(saved_upload(item, request.app.state.settings.data_dir, max_bytes))
                    upload = Upload(path, item.filename)
        finally:
            await form.close()
        return params, upload
    raw = await request.body()
    if raw.strip():
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InvalidInput("ckan.json", "Bad request - JSON Error: could not read the body as JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("ckan.json", "Bad request - JSON Error: the body must be a JSON object")
        params.update(body)
    return params, None


async def call_action(name: str, request: Request) -> JSONResponse:
    """Run CKAN action `name` (see ``help_show``) and answer in CKAN's envelope."""
    translate = translator(get_locale(request))
    if name not in ACTIONS:
        return _envelope(
            request,
            name,
            400,
            {"success": False, "error": {"__type": "Bad Request", "message": f"Action name not known: {name}"}},
        )
    if request.method == "GET" and name not in READ_ACTIONS:
        return _envelope(
            request,
            name,
            400,
            {
                "success": False,
                "error": {"__type": "Bad Request", "message": f"Bad request - {name} must be called with POST"},
            },
        )
    settings = get_settings(request)
    database = get_database(request)
    try:
        with ExitStack() as stack:
            params, upload = await _params(request, stack, settings.max_upload_mb * 1024 * 1024)
            actor = optional_api_actor(request, database) if name in READ_ACTIONS else api_actor(request, database)
            context = ActionContext(database, settings, actor, str(request.base_url), get_analytics(request), upload)
            result = await run_in_threadpool(ACTIONS[name], context, params)
    except DomainError as error:
        status, body = _error_body(error, translate)
        return _envelope(request, name, status, {"success": False, "error": body})
    except (HTTPException, MultiPartException) as error:  # a body Starlette cannot parse
        reason = error.detail if isinstance(error, HTTPException) else error.message
        return _envelope(
            request,
            name,
            400,
            {"success": False, "error": {"__type": "Bad Request", "message": f"Bad request - {reason}"}},
        )
    except Exception:
        reference = secrets.token_hex(4)
        logger.exception("CKAN action %s failed (reference %s)", name, reference)
        return _envelope(
            request,
            name,
            500,
            {
                "success": False,
                "error": {"__type": "Internal Error", "message": f"Internal error, reference {reference}"},
            },
        )
    return _envelope(request, name, 200, {"success": True, "result": result})


for prefix in ("/api/3/action", "/api/action"):
    for method in ("GET", "POST"):
        router.add_api_route(
            prefix + "/{name}",
            call_action,
            methods=[method],
            operation_id=f"ckan_action_{method.lower()}",
            summary="CKAN Action API v3 (兼容 CKAN 客户端)",
            include_in_schema=prefix == "/api/3/action",
        )
