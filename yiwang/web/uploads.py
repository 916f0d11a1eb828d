"""Uploaded files: copied to a private temporary file under the data directory, refusing anything over the limit."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile

from yiwang.core.errors import TooLarge
from yiwang.core.i18n import N_

CHUNK = 1024 * 1024
UPLOADS_DIR = "tmp/uploads"


def refuse_if_declared_too_large(request: Request, max_bytes: int) -> None:
    """Refuse at once when the client says the body is too large, before anything is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + CHUNK:  # the multipart envelope adds a little
        raise TooLarge(
            "upload.too_large", N_("The file is larger than the limit of {limit} MiB"), limit=max_bytes // (1024 * 1024)
        )


@contextmanager
def saved_upload(upload: UploadFile, data_dir: Path, max_bytes: int) -> Iterator[Path]:
    """The upload as a file on disk for the duration of the block; removed afterwards, whatever happens."""
    directory = data_dir / UPLOADS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, suffix=Path(upload.filename or "").suffix[:16])
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
