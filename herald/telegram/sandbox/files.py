"""Files sent through the sandbox: stored on disk under ``SANDBOX_FILES_DIR``, named by Telegram-like ids."""

from __future__ import annotations

import mimetypes
import secrets
import struct
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from herald.telegram.sandbox.errors import bad_request
from herald.telegram.sandbox.models import File

_ID_PREFIX = {"photo": "AgAC", "video": "BAAC", "animation": "CgAC", "document": "BQAC", "audio": "CQAC"}
_DEFAULT_MIME = {"photo": "image/jpeg", "video": "video/mp4", "animation": "video/mp4"}
# Telegram answers a photo with its size; a sandbox photo too small to read keeps a plausible one.
_FALLBACK_PHOTO_SIZE = (320, 320)


def file_storage_path(file: File) -> Path:
    return Path(settings.SANDBOX_FILES_DIR) / file.file_path


def _image_size(head: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG from its first bytes, without an imaging library."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height)
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            length = struct.unpack(">H", head[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", head[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None


def file_store_upload(*, upload: UploadedFile, kind: str) -> File:
    """Keep an uploaded file's bytes and describe it as Telegram would."""
    unique = "AQAD" + secrets.token_urlsafe(12)
    name = PurePosixPath(upload.name or "").name or f"{kind}"
    suffix = PurePosixPath(name).suffix.lower() or mimetypes.guess_extension(upload.content_type or "") or ""
    mime = upload.content_type or mimetypes.guess_type(name)[0] or _DEFAULT_MIME.get(kind, "")
    if mime == "application/octet-stream" and kind in _DEFAULT_MIME:
        mime = mimetypes.guess_type(name)[0] or _DEFAULT_MIME[kind]
    file = File(
        file_id=_ID_PREFIX.get(kind, "BQAC") + secrets.token_urlsafe(36),
        file_unique_id=unique,
        file_path=f"{kind}s/{unique}{suffix}",
        kind=kind,
        file_name="" if kind == "photo" else name,
        mime_type=mime,
    )
    target = file_storage_path(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    head = b""
    with target.open("wb") as out:
        for chunk in upload.chunks():
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            size += len(chunk)
            out.write(chunk)
    file.file_size = size
    if kind in ("photo", "video", "animation"):
        width, height = _image_size(head) or _FALLBACK_PHOTO_SIZE
        file.width, file.height = width, height
    file.save(force_insert=True)
    return file


def file_from_reference(*, reference: str, kind: str) -> File:
    """A file sent again by its ``file_id``, or sent by URL (remembered, never fetched)."""
    if reference.startswith(("http://", "https://")):
        unique = "AQAD" + secrets.token_urlsafe(12)
        name = PurePosixPath(reference.split("?", 1)[0]).name
        width, height = _FALLBACK_PHOTO_SIZE if kind in ("photo", "video", "animation") else (0, 0)
        return File.objects.create(
            file_id=_ID_PREFIX.get(kind, "BQAC") + secrets.token_urlsafe(36),
            file_unique_id=unique,
            file_path=f"{kind}s/{unique}{PurePosixPath(name).suffix.lower()}",
            kind=kind,
            file_name="" if kind == "photo" else name,
            mime_type=mimetypes.guess_type(name)[0] or _DEFAULT_MIME.get(kind, ""),
            width=width,
            height=height,
            source_url=reference,
        )
    file = File.objects.filter(file_id=reference).first()
    if file is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return file


def file_media_json(file: File, kind: str) -> dict | list:
    """The Bot API object for a file sent as ``kind`` (a PhotoSize list for photos)."""
    base = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
    if kind == "photo":
        return [{**base, "width": file.width, "height": file.height, "file_size": file.file_size}]
    body: dict = dict(base)
    if kind in ("video", "animation"):
        body.update(width=file.width, height=file.height, duration=file.duration)
    if file.file_name:
        body["file_name"] = file.file_name
    if file.mime_type:
        body["mime_type"] = file.mime_type
    body["file_size"] = file.file_size
    return body
