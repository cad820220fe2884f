"""The kiosk pages. They are static: everything they show comes from the API with the device token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

KIOSK = Path(__file__).with_name("static") / "kiosk"

router = APIRouter(prefix="/kiosk", include_in_schema=False)


@router.get("")
def kiosk_home() -> FileResponse:
    return FileResponse(KIOSK / "index.html")


@router.get("/pair")
def kiosk_pair() -> FileResponse:
    return FileResponse(KIOSK / "pair.html")
