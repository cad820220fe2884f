"""Serves uploaded pictures (`/uploads/<sha256>.png`) to signed-in staff and paired kiosks.

A picture is not personal data by itself, but only staff (session cookie) and kiosks (device token) see
them. The name is the content hash, so a response never changes and may be cached for a year.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from laiban.store import accounts
from laiban.store.uploads import picture_path
from laiban.web.errors import ApiError
from laiban.web.security import Db, Staff, optional_staff, settings_of

router = APIRouter(include_in_schema=False)

_NAME = re.compile(r"([0-9a-f]{64})\.png")
HEADERS = {"Cache-Control": "private, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


def _is_paired_kiosk(request: Request, db: Db) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(token.strip())
        and (accounts.device_for_token(db, token.strip()) is not None)
    )


@router.get("/uploads/{name}")
def uploaded_picture(
    request: Request, name: str, db: Db, staff: Annotated[Staff | None, Depends(optional_staff)]
) -> FileResponse:
    if staff is None and not _is_paired_kiosk(request, db):
        raise ApiError(401, "Sign in first, or send a kiosk device token (Authorization: Bearer …).")
    match = _NAME.fullmatch(name)
    path = picture_path(settings_of(request).data_dir, f"upload/{match[1]}") if match else None
    if path is None:
        raise ApiError(404, "There is no such picture.")
    return FileResponse(path, media_type="image/png", headers=HEADERS)
