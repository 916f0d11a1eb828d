"""Uploaded files: copied to a private temporary file under the data directory, refusing anything over the limit."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile

from yiwang.core.errors import InvalidInput, TooLarge
from yiwang.core.i18n import N_

CHUNK = 1024 * 1024
UPLOADS_DIR = "tmp/uploads"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,15}")


def base_name(filename: str) -> str:
    """The file's own name without any directory: old browsers send whole Windows paths, hostile clients ``../``."""
    return re.split(r"[/\\]", filename)[-1].strip()


def has_control_characters(filename: str) -> bool:
    """Whether a file name holds NUL or another control character (no real file name does; PostgreSQL cannot
    store NUL)."""
    return bool(_CONTROL.search(filename))


def refuse_if_declared_too_large(request: Request, max_bytes: int) -> None:
    """Refuse at once when the client says the body is too large, before anything is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + CHUNK:  # the multipart envelope adds a little
        raise TooLarge(
            "upload.too_large", N_("The file is larger than the limit of {limit} MiB"), limit=max_bytes // (1024 * 1024)
        )


@contextmanager
def saved_upload(upload: UploadFile, data_dir: Path, max_bytes: int) -> Iterator[Path]:
    """The upload as a file on disk for the duration of the block; removed afterwards, whatever happens.

    The upload's file name is reduced to its base name; one with control characters is refused.
    """
    if has_control_characters(upload.filename or ""):
        raise InvalidInput("upload.bad_filename", N_("The file name contains control characters: rename the file"))
    upload.filename = base_name(upload.filename or "")
    directory = data_dir / UPLOADS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename).suffix
    handle, name = tempfile.mkstemp(dir=directory, suffix=suffix if _SAFE_SUFFIX.fullmatch(suffix) else "")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            copied = 0
            while chunk := upload.file.read(CHUNK):
                copied += len(chunk)
                if copied > max_bytes:
                    raise TooLarge(
                        "upload.too_large",
                        N_("The file is larger than the limit of {limit} MiB"),
                        limit=max_bytes // (1024 * 1024),
                    )
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)
