"""Serves uploaded pictures (`/uploads/<sha256>.png`) to the staff and kiosks of the preschools using them.

A child's photo is personal data: a picture is served only to staff with a role at a preschool where a
child or an activity uses it (an org admin: any of their organisation's) and to the kiosks of such a
preschool; anyone else signed in gets 404, as for a picture that does not exist. The name is the content
hash, so a response never changes and may be cached for a year.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy import select

from laiban.store import accounts
from laiban.store.tables import Activity, Child, Device
from laiban.store.uploads import picture_path
from laiban.web.errors import ApiError
from laiban.web.security import Db, Staff, optional_staff, settings_of

router = APIRouter(include_in_schema=False)

_NAME = re.compile(r"([0-9a-f]{64})\.png")
HEADERS = {"Cache-Control": "private, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


def _paired_kiosk(request: Request, db: Db) -> Device | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return accounts.device_for_token(db, token.strip())


def _used_at(db: Db, key: str, preschool_ids: list[int]) -> bool:
    """Whether a child or an activity of one of these preschools uses the picture."""
    for column, owner in ((Child.avatar, Child.preschool_id), (Activity.picture, Activity.preschool_id)):
        if db.scalar(select(owner).where(column == key, owner.in_(preschool_ids)).limit(1)) is not None:
            return True
    return False


@router.get("/uploads/{name}")
def uploaded_picture(
    request: Request, name: str, db: Db, staff: Annotated[Staff | None, Depends(optional_staff)]
) -> FileResponse:
    if staff is not None:
        preschool_ids = [preschool.id for preschool in accounts.visible_preschools(db, staff.access)]
    elif (device := _paired_kiosk(request, db)) is not None:
        preschool_ids = [device.preschool_id]
    else:
        raise ApiError(401, "Sign in first, or send a kiosk device token (Authorization: Bearer …).")
    match = _NAME.fullmatch(name)
    key = f"upload/{match[1]}" if match else ""
    path = picture_path(settings_of(request).data_dir, key) if match else None
    if path is None or not _used_at(db, key, preschool_ids):
        raise ApiError(404, "There is no such picture.")
    return FileResponse(path, media_type="image/png", headers=HEADERS)
