"""The kiosk pages. They are static: everything they show comes from the API with the device token.

The service worker is served from `/kiosk/sw.js` and allowed to control `/kiosk`, so that the kiosk keeps
answering the day's tapped questions when the network drops. `kiosk_version` changes whenever the
server's code or the kiosk's files change; a kiosk that sees a new version reloads itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from laiban import __version__

STATIC = Path(__file__).with_name("static")
KIOSK = STATIC / "kiosk"

router = APIRouter(prefix="/kiosk", include_in_schema=False)


def kiosk_version() -> str:
    """The package version and a digest of every file the kiosk loads (its code and pictures)."""
    digest = hashlib.sha256(__version__.encode())
    for folder in (KIOSK, STATIC / "pictures"):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file():
                digest.update(path.relative_to(STATIC).as_posix().encode())
                digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


@router.get("")
def kiosk_home() -> FileResponse:
    return FileResponse(KIOSK / "index.html")


@router.get("/pair")
def kiosk_pair() -> FileResponse:
    return FileResponse(KIOSK / "pair.html")


@router.get("/sw.js")
def service_worker() -> FileResponse:
    return FileResponse(
        KIOSK / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/kiosk", "Cache-Control": "no-cache"},
    )
