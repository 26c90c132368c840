"""Receiving one uploaded file: the multipart body is parsed as it streams in, the file is
written to the spool folder under a generated name, and the size limit is enforced while
streaming — a body over the limit is never held in memory nor kept on disk."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

MiB = 1 << 20
_OVERHEAD = 64 * 1024  # multipart headers and the small form fields around the file
_MAX_FIELDS = 8
_MAX_FIELD_SIZE = 4096
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class UploadError(Exception):
    """The request is not one file upload as expected (a bad form, no file)."""


class UploadTooLarge(UploadError):
    """The body is over the limit; ``drained`` when it was read to its end (the connection
    can answer normally), False when it was left unread (the server closes the connection)."""

    def __init__(self, limit: int, drained: bool) -> None:
        super().__init__(f"upload over {limit} bytes")
        self.limit = limit
        self.drained = drained


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the spooled file, under a generated name
    filename: str = ""  # the name the client gave, made safe for display and the ledger
    size: int = 0

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def safe_filename(name: str) -> str:
    """The last component of a client's file name, without control characters, at most 200
    characters; it is only ever shown and recorded, never used as a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("", base).strip()
    return base[:200] or "file"


def _extension(filename: str) -> str:
    """The client's extension when it is a plain short one (the validator compares it with the
    content), else ``.bin``."""
    match = re.search(r"\.[A-Za-z0-9]{1,5}$", filename)
    return match.group(0).lower() if match else ".bin"


async def receive_upload(request: Request, spool: Path, *, limit: int,
                         file_field: str = "file", drain_up_to: int = 64 * MiB) -> Upload:
    """The form's small fields and its one file, spooled to ``spool``. UploadTooLarge once
    the file passes ``limit`` bytes (the rest of the body is read and dropped, up to
    ``drain_up_to``, so that a browser gets the answer); UploadError for anything else that is
    not a proper upload."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError("ожидается multipart/form-data с файлом")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + _OVERHEAD:
        if int(declared) > drain_up_to:
            raise UploadTooLarge(limit, drained=False)
        raise UploadTooLarge(limit, drained=await _drain(request.stream(), drain_up_to))

    upload = Upload()
    state = _PartState()
    spool.mkdir(parents=True, exist_ok=True)
    handle = None
    over = False

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_name.decode("latin-1").lower()] = state.header_value
        state.header_name, state.header_value = b"", b""

    def on_headers_finished() -> None:
        nonlocal handle
        _, disposition = parse_options_header(state.headers.get("content-disposition", b""))
        state.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        state.is_file = filename is not None
        if state.is_file and state.name == file_field and upload.path is None:
            upload.filename = safe_filename(filename.decode("utf-8", "replace"))
            upload.path = spool / f"{uuid.uuid4().hex}{_extension(upload.filename)}"
            descriptor = os.open(upload.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            handle = os.fdopen(descriptor, "wb")
            state.writing = True
        elif not state.is_file and len(upload.fields) >= _MAX_FIELDS:
            raise UploadError("слишком много полей формы")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal over
        if state.writing:
            upload.size += end - start
            if upload.size > limit:
                over = True
                raise _Stop
            handle.write(data[start:end])
        elif not state.is_file:
            state.value += data[start:end]
            if len(state.value) > _MAX_FIELD_SIZE:
                raise UploadError("слишком длинное поле формы")

    def on_part_end() -> None:
        nonlocal handle
        if state.writing:
            handle.close()
            handle = None
        elif not state.is_file:
            upload.fields[state.name] = state.value.decode("utf-8", "replace")
        state.reset()

    parser = MultipartParser(boundary, {
        "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data, "on_part_end": on_part_end})
    received = 0
    stream = request.stream()
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > limit + _OVERHEAD:
                over = True
            if over:
                break
            parser.write(chunk)
        if over:
            raise _Stop
        parser.finalize()
    except _Stop:
        if handle is not None:
            handle.close()
        upload.discard()
        drained = await _drain(stream, drain_up_to - received)
        raise UploadTooLarge(limit, drained=drained) from None
    except ClientDisconnect:
        if handle is not None:
            handle.close()
        upload.discard()
        raise UploadError("передача файла прервана") from None
    except UploadError:
        if handle is not None:
            handle.close()
        upload.discard()
        raise
    except Exception as exc:  # the parser's own errors: a malformed body
        if handle is not None:
            handle.close()
        upload.discard()
        raise UploadError(f"неверное тело запроса multipart ({type(exc).__name__})") from exc
    if upload.path is None:
        raise UploadError(f"в форме нет файла (поле {file_field!r})")
    return upload


class _Stop(Exception):
    pass


class _PartState:
    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.reset()

    def reset(self) -> None:
        self.headers = {}
        self.header_name = b""
        self.header_value = b""
        self.name = ""
        self.is_file = False
        self.writing = False
        self.value = b""


async def _drain(stream: AsyncIterator[bytes], budget: int) -> bool:
    """Read and drop the rest of the body, up to ``budget`` bytes; whether it was all read."""
    try:
        async for chunk in stream:
            budget -= len(chunk)
            if budget < 0:
                return False
    except ClientDisconnect:
        return False
    return True
