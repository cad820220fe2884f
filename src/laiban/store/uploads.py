"""Pictures staff upload (for activities): checked by their content, cleaned and stored by content hash.

Only the pixels are kept: every upload is decoded with Pillow (PNG, JPEG, GIF or WebP, whatever its name or
content type says), turned upright, shrunk to fit 800×800 (never enlarged) and written again as a new PNG
without any metadata (EXIF, GPS, comments, ICC …). The file is `<data_dir>/uploads/<sha256>.png`, the
sha256 of the cleaned PNG; its picture key is `upload/<sha256>`. Problems raise `UploadError` with one
Swedish sentence, for staff.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

MAX_BYTES = 10 * 1024 * 1024  # the upload as sent
MAX_PIXELS = 40_000_000  # width × height before decoding; more is refused as a decompression bomb
MAX_SIDE = 800  # the stored picture fits in MAX_SIDE × MAX_SIDE
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
UPLOAD_KEY = re.compile(r"upload/([0-9a-f]{64})")
FOLDER = "uploads"

# Image.MAX_IMAGE_PIXELS is process-wide: it is set only while holding this lock, around one decode.
_DECODING = threading.Lock()


class UploadError(ValueError):
    """An upload that cannot be used; the message is one Swedish sentence for staff."""


@dataclass(frozen=True)
class CleanPicture:
    """A checked picture, re-encoded from its pixels only, not yet written."""

    png: bytes
    sha256: str

    @property
    def key(self) -> str:
        return f"upload/{self.sha256}"


def is_upload_key(key: str) -> bool:
    return UPLOAD_KEY.fullmatch(key) is not None


def _decode(raw: bytes) -> Image.Image:
    """The first frame, upright, as RGB or RGBA pixels; raises UploadError."""
    with _DECODING, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            with Image.open(io.BytesIO(raw), formats=FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise UploadError("Bilden är för stor (för många bildpunkter).")
                image.seek(0)  # an animation: its first frame
                image.load()
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                return upright.convert("RGBA" if has_alpha else "RGB")
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadError("Bilden är för stor (för många bildpunkter).") from exc
        except Image.UnidentifiedImageError as exc:
            raise UploadError("Filen är ingen bild i formatet PNG, JPEG, GIF eller WebP.") from exc
        except Exception as exc:  # a damaged or cut-off file: Pillow raises many kinds of errors
            raise UploadError("Bilden kunde inte läsas; den kan vara skadad.") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def clean_picture(raw: bytes) -> CleanPicture:
    """Checks and cleans an upload in memory (nothing is written); raises UploadError."""
    if not raw:
        raise UploadError("Filen är tom.")
    if len(raw) > MAX_BYTES:
        raise UploadError("Bilden får vara högst 10 MB.")
    pixels = _decode(raw)
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # only ever shrinks
    # A new image from the raw pixels carries no info dict at all: no EXIF, GPS, text chunks or profile.
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    bare.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return CleanPicture(png, hashlib.sha256(png).hexdigest())


def store_picture(data_dir: Path, picture: CleanPicture) -> str:
    """Writes a cleaned picture (atomically; the same picture twice is one file) and returns its key."""
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{picture.sha256}.png"
    if not target.exists():
        temporary = folder / f".{picture.sha256}.{secrets.token_hex(4)}.tmp"
        try:
            temporary.write_bytes(picture.png)
            os.replace(temporary, target)
        except OSError as exc:
            raise UploadError("Bilden kunde inte sparas på servern.") from exc
        finally:
            temporary.unlink(missing_ok=True)
    return picture.key


def save_picture(data_dir: Path, raw: bytes) -> str:
    """Checks, cleans and stores an upload; returns its picture key `upload/<sha256>`."""
    return store_picture(data_dir, clean_picture(raw))


def picture_path(data_dir: Path, key: str) -> Path | None:
    """The stored file of an upload key, or None for any other key or a missing file."""
    match = UPLOAD_KEY.fullmatch(key)
    if match is None:
        return None
    path = data_dir / FOLDER / f"{match[1]}.png"
    return path if path.is_file() else None
