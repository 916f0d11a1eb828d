"""CSV: encoding detection (UTF-8, GB18030, UTF-16), transcoding to UTF-8, delimiter sniffing, DuckDB's reader."""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import duckdb

from yiwang.catalog.ingest.common import CHUNK_BYTES, Job, check_width, literal, unique_names
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

SAMPLE_BYTES = 1 << 20  # the head of a CSV that its delimiter and header are read from
HEAD_BYTES = 1 << 20  # the head of a CSV that Python decodes to choose between UTF-8 and GB18030
CSV_SAMPLE_ROWS = 20_480  # rows DuckDB reads to infer column types; a type clash later triggers a full-file retry
DELIMITERS = (",", ";", "\t", "|")
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t\r\f\v]*\n)*")


@dataclass(frozen=True)
class _DecodeFailure:
    encoding: str
    offset: int
    line: int


def ingest_csv(job: Job, target: Path, source_format: str) -> tuple[str | None, str | None]:
    """Convert a CSV whose bytes Python decodes in full only when DuckDB cannot judge them (see `_utf8_source`)."""
    job.progress.stage(0.0, 0.35)
    path, encoding, decoded = _utf8_source(job)
    if decoded:
        job.progress.stage(0.35, 1.0)
        return encoding, _convert(job, target, path, source_format)
    job.progress.stage(0.0, 1.0)
    try:
        with job.hashing():
            return encoding, _convert(job, target, path, source_format)
    except (InvalidInput, duckdb.Error) as exc:
        error = exc
    # DuckDB rejects bytes that are not UTF-8 without saying where: decode the whole file in Python to name the line
    # and byte, or to find GB18030 text whose first MiB happened to be ASCII. Any other error stands.
    target.unlink(missing_ok=True)
    _digest, failure = _decode_pass(job, encoding, None)
    if failure is None:
        raise error
    path, encoding = _decoded_source(job, _candidates(job)[1:], first=failure)
    return encoding, _convert(job, target, path, source_format)


def _convert(job: Job, target: Path, path: Path, source_format: str) -> str:
    """Read the UTF-8 CSV at `path` into `target` with DuckDB; its delimiter."""
    text, truncated = _text_sample(path)
    skip = _LEADING_BLANK_LINES.match(text)
    blank_lines = skip.group().count("\n") if skip else 0
    text = text[skip.end() if skip else 0 :]
    if not text.strip():
        raise InvalidInput("ingest.empty", N_("The file has no header row"))
    delimiter = _sniff_delimiter(text, truncated)
    try:  # newline="": the csv module's own line ends, so old Mac files (a bare CR) read as they are written
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as exc:
        raise job.malformed(source_format, exc) from None
    names = unique_names(header)
    check_width(len(names))  # before DuckDB reads a file far too wide
    job.progress.stage(0.35, 1.0)
    options = [
        f"delim = {literal(delimiter)}",
        "header = true",
        f"skip = {blank_lines}",
        "quote = '\"'",
        "escape = '\"'",
        "comment = ''",
        "encoding = 'utf-8'",
        "strict_mode = true",
        f"names = [{', '.join(literal(name) for name in names)}]",
    ]
    reader = f"read_csv({literal(path)}, {', '.join(options)}"
    try:
        try:
            job.copy(f"SELECT * FROM {reader}, sample_size = {CSV_SAMPLE_ROWS})", target)
        except duckdb.ConversionException:
            job.copy(f"SELECT * FROM {reader}, sample_size = -1)", target)  # a value past the sample broke a type
    except duckdb.InvalidInputException as exc:
        ragged = _first_ragged_record(text, delimiter, truncated)
        if ragged is None:
            raise job.malformed(source_format, exc) from None
        line, found, expected = ragged
        raise InvalidInput(
            "ingest.malformed",
            N_("Line {line} has {found} fields but the header has {expected}"),
            line=line + blank_lines,
            found=found,
            expected=expected,
        ) from None
    found_names = [field.name for field in job.describe(target)]
    if found_names != names:
        raise InvalidInput(
            "ingest.malformed",
            N_("The header has {expected} fields but the rows have {found}"),
            expected=len(names),
            found=len(found_names),
        )
    return delimiter


def _candidates(job: Job) -> list[tuple[str, bool]]:
    """The encodings the source may be in, by its byte-order mark, each with whether it needs transcoding."""
    with job.source.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return [("utf-8-sig", False)]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [("utf-16", True)]
    return [("utf-8", False), ("gb18030", True)]


def _utf8_source(job: Job) -> tuple[Path, str, bool]:
    """The source as UTF-8 (itself, or a transcoded temp copy), its encoding, and whether Python decoded it all.

    A source that may be UTF-8 is decoded in Python for its first `HEAD_BYTES` only: when they are valid, DuckDB
    reads the source itself and rejects any invalid byte further on (`ingest_csv` then decodes the whole file to say
    where), and the source is hashed while DuckDB reads it. Otherwise the whole file is decoded and hashed here.
    """
    candidates = _candidates(job)
    encoding, transcode = candidates[0]
    if transcode:
        return *_decoded_source(job, candidates), True
    failure = _decode_head(job, encoding)
    if failure is None and job.size > HEAD_BYTES:
        return job.source, encoding, False
    if failure is None:
        return *_decoded_source(job, candidates[:1]), True  # small: decoding it all costs nothing
    path, encoding = _decoded_source(job, candidates[1:], first=failure)
    return path, encoding, True


def _decoded_source(
    job: Job, candidates: list[tuple[str, bool]], *, first: _DecodeFailure | None = None
) -> tuple[Path, str]:
    """The source decoded whole in the first of `candidates` that fits (transcoded to a temp file when needed), and
    hashed; an ``ingest.encoding`` error naming the furthest failure when none fits (`first` failed already)."""
    failures = [first] if first is not None else []
    for encoding, transcode in candidates:
        output = job.workspace / "source.utf8.csv" if transcode else None
        digest, failure = _decode_pass(job, encoding, output)
        if failure is None:
            job.sha256 = digest
            return output or job.source, encoding
        failures.append(failure)
    furthest = max(failures, key=lambda failure: failure.offset)
    raise InvalidInput(
        "ingest.encoding",
        N_("The file is neither UTF-8 nor GB18030 (GBK) text: {encoding} fails at line {line}, byte {offset}"),
        encoding=furthest.encoding.upper().removesuffix("-SIG"),
        line=furthest.line,
        offset=furthest.offset,
    )


def _decode_head(job: Job, encoding: str) -> _DecodeFailure | None:
    """Where the first `HEAD_BYTES` of the source fail to decode, if they do."""
    with job.source.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) == job.size)
    except UnicodeDecodeError as exc:
        offset = exc.start - (len(exc.object) - len(head))  # utf-8-sig decodes the bytes after its BOM
        return _DecodeFailure(encoding, offset, head[:offset].count(b"\n") + 1)
    return None


def _decode_pass(job: Job, encoding: str, output: Path | None) -> tuple[str, _DecodeFailure | None]:
    """Decode the whole source in fixed-size chunks (writing UTF-8 to `output` if given), hashing it on the way."""
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    offset = lines = 0
    started = False
    with job.source.open("rb") as handle, output.open("wb") if output else contextlib.nullcontext() as sink:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                local = exc.start - (len(exc.object) - len(chunk))  # the decoder may hold bytes of the last chunk
                line = lines + chunk[: max(local, 0)].count(b"\n") + 1
                return "", _DecodeFailure(encoding, offset + local, line)
            if sink is not None and text:
                if not started:
                    text, started = text.removeprefix("\ufeff"), True
                sink.write(text.encode("utf-8"))
            if not chunk:
                return digest.hexdigest(), None
            digest.update(chunk)
            offset += len(chunk)
            lines += chunk.count(b"\n")
            job.progress.update(offset / job.size)


def _text_sample(path: Path) -> tuple[str, bool]:
    """The first MiB of a UTF-8 file as whole lines, and whether the file goes on."""
    with path.open("rb") as handle:
        raw = handle.read(SAMPLE_BYTES + 1)
    truncated = len(raw) > SAMPLE_BYTES
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(raw[:SAMPLE_BYTES], final=not truncated)
    text = text.removeprefix("\ufeff")
    if truncated and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    return text, truncated


def _records(text: str, delimiter: str, truncated: bool, limit: int = 200) -> list[tuple[int, list[str]]]:
    """Up to `limit` non-blank records of the sample, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        for row in islice(reader, limit + 1):
            records.append((reader.line_num - sum(field.count("\n") for field in row), row))
    except csv.Error:
        return []
    if truncated and len(records) <= limit:
        records = records[:-1]  # the sample may end inside a quoted field
    return [(line, row) for line, row in records[:limit] if row]


def _sniff_delimiter(text: str, truncated: bool) -> str:
    """The candidate delimiter that splits the sample's records most consistently into the most fields."""
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for _line, row in _records(text, delimiter, truncated)]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_ragged_record(text: str, delimiter: str, truncated: bool) -> tuple[int, int, int] | None:
    records = _records(text, delimiter, truncated, limit=100_000)
    for line, row in records[1:]:
        if len(row) != len(records[0][1]):
            return line, len(row), len(records[0][1])
    return None
