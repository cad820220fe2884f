"""Uploaded activity pictures: checked by content with Pillow, cleaned of all metadata, shrunk, stored by
hash; served only to staff and paired kiosks; and the upload on the admin calendar page."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.store.tables import Activity
from laiban.store.uploads import MAX_BYTES, UploadError, picture_path, save_picture
from laiban.web.admin.calendar import router as calendar_router
from laiban.web.uploads import router as uploads_router

from .conftest import Browser, SignIn
from .world import PASSWORD, World


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Kamerabolaget"
    exif[ExifTags.Base.Model] = "Hemlig modell"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 46.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 7.0)
    return exif


def photo(fmt: str, size: tuple[int, int] = (1600, 1200), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, "red" if mode == "RGB" else (255, 0, 0, 128))
    for x in range(0, size[0], 7):  # some detail, so that shrinking has something to do
        image.putpixel((x, x % size[1]), (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    out = io.BytesIO()
    extra: dict[str, object] = {"exif": exif_with_gps()}
    if fmt == "PNG":
        info = PngInfo()
        info.add_text("Comment", "Alva på Ekorrens gård")
        extra["pnginfo"] = info
    image.save(out, format=fmt, **extra)
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width × height, all black: tiny on disk, huge in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    step = 1000  # rows at a time
    body = b"".join(packer.compress(row * min(step, height - start)) for start in range(0, height, step))
    body += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def stored(settings: Settings) -> list[Path]:
    folder = settings.data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- cleaning and storing --------------------------------------------------------------------------


def test_a_png_with_exif_comes_back_small_and_without_any_metadata(tmp_path: Path) -> None:
    raw = photo("PNG")
    with Image.open(io.BytesIO(raw)) as original:  # the test picture really carries what must go
        assert original.getexif()[ExifTags.Base.Make] == "Kamerabolaget"
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "Comment" in original.info
    key = save_picture(tmp_path, raw)
    assert key.startswith("upload/") and len(key) == len("upload/") + 64
    path = picture_path(tmp_path, key)
    assert path == tmp_path / "uploads" / f"{key.removeprefix('upload/')}.png"
    data = path.read_bytes()
    assert b"Kamerabolaget" not in data and b"eXIf" not in data and b"Ekorrens" not in data
    with Image.open(path) as cleaned:
        assert cleaned.format == "PNG" and cleaned.size == (800, 600)
        assert not cleaned.getexif() and "exif" not in cleaned.info and "Comment" not in cleaned.info
    assert save_picture(tmp_path, raw) == key  # the same picture is the same file
    assert len(list((tmp_path / "uploads").iterdir())) == 1


def test_a_jpeg_and_transparent_pictures_work_and_are_never_enlarged(tmp_path: Path) -> None:
    key = save_picture(tmp_path, photo("JPEG", (300, 200)))
    path = picture_path(tmp_path, key)
    assert path is not None
    with Image.open(path) as cleaned:
        assert (cleaned.format, cleaned.mode, cleaned.size) == ("PNG", "RGB", (300, 200))
        assert not cleaned.getexif()
    for fmt in ("PNG", "WEBP", "GIF"):
        raw = photo(fmt, (400, 1000), mode="RGBA" if fmt != "GIF" else "RGB")
        path = picture_path(tmp_path, save_picture(tmp_path, raw))
        assert path is not None
        with Image.open(path) as cleaned:
            assert cleaned.size == (320, 800)
            assert cleaned.mode == ("RGBA" if fmt != "GIF" else "RGB")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Detta \xe4r ingen bild.\n", "ingen bild i formatet"),
        (b"", "tom"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "ingen bild i formatet"),  # a PNG signature, then nothing
        (photo("PNG", (50, 50))[:200], "kunde inte läsas"),  # cut off
        (b"BM" + b"\0" * 100, "ingen bild i formatet"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_BYTES, "högst 10 MB"),
        (huge_png(20000, 20000), "för stor"),  # beyond Pillow's own limit
        (huge_png(7000, 7000), "för stor"),  # 49 million pixels: beyond ours
    ],
    ids=["text", "empty", "bad-png", "truncated", "bmp", "too-big", "bomb", "too-many-pixels"],
)
def test_what_is_not_a_usable_picture_is_refused(tmp_path: Path, raw: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message):
        save_picture(tmp_path, raw)
    assert not (tmp_path / "uploads").exists() or not list((tmp_path / "uploads").iterdir())
    assert Image.MAX_IMAGE_PIXELS != 40_000_000  # the process-wide limit is restored


def test_picture_path_only_resolves_upload_keys(tmp_path: Path) -> None:
    key = save_picture(tmp_path, photo("PNG", (20, 20)))
    sha = key.removeprefix("upload/")
    for bad in (
        "../secret_key",
        "upload/../../secret_key",
        f"upload/{sha}/../x",
        f"upload/{sha.upper()}",
        f"upload/{sha}.png",
        f"upload/{sha}\n",
        "activity/forest",
        "upload/" + "0" * 64,  # well-formed, but no such file
    ):
        assert picture_path(tmp_path, bad) is None, bad


# --- serving ---------------------------------------------------------------------------------------


@pytest.fixture
def admin(app: FastAPI, browser_for: SignIn) -> Iterator[SignIn]:
    """browser_for, with the calendar page and /uploads in the app (until app.py includes them)."""
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/uploads/{name}" not in paths:
        app.include_router(uploads_router)
    if "/admin/p/{slug}/calendar" not in paths:
        app.include_router(calendar_router)
    yield browser_for


def test_uploads_are_served_to_staff_and_kiosks_only(
    admin: SignIn, client: TestClient, world: World, settings: Settings, db: Session
) -> None:
    key = save_picture(settings.data_dir, photo("PNG", (40, 30)))
    url = f"/uploads/{key.removeprefix('upload/')}.png"
    # Served only where a child or an activity uses it: here Ekorren's activity (tests/access_matrix.py).
    db.add(
        Activity(
            preschool_id=world.ekorren,
            day=dt.date(2030, 1, 7),
            title="Måla",
            future_text="Måla",
            past_text="Måla",
            picture=key,
        )
    )
    db.commit()
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith("application/json")
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic eDp5"}).status_code == 401

    pedagogue: Browser = admin(world.pedagogue_ekorren, PASSWORD)
    seen = pedagogue.get(url)
    assert seen.status_code == 200 and seen.content == (settings.data_dir / "uploads" / url[9:]).read_bytes()
    assert seen.headers["content-type"] == "image/png"
    assert seen.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert seen.headers["x-content-type-options"] == "nosniff"
    kiosk = client.get(url, headers={"Authorization": f"Bearer {world.device_ekorren}"})
    assert kiosk.status_code == 200 and kiosk.content == seen.content
    assert client.get(url, headers={"Authorization": f"Bearer {world.device_myran}"}).status_code == 404

    (settings.data_dir / "secret.png").write_bytes(b"x")
    for bad in (
        "/uploads/../x",
        "/uploads/%2e%2e",
        "/uploads/%2e%2e%2fsecret.png",
        "/uploads/..%2fsecret.png",
        "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        url.upper().replace("/UPLOADS/", "/uploads/"),
        url.removesuffix(".png"),
        url + ".png",
        "/uploads/" + "0" * 64 + ".png",
    ):
        assert pedagogue.get(bad).status_code == 404, bad


# --- the admin calendar page -----------------------------------------------------------------------


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Activity)) or 0


def test_uploading_a_picture_for_an_activity(
    admin: SignIn, world: World, db: Session, settings: Settings
) -> None:
    pedagogue = admin(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.get("/admin/p/ekorren/calendar")
    assert 'enctype="multipart/form-data"' in page.text and 'name="picture_file"' in page.text
    soon = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    form = {"day": soon, "title": "Skogen", "picture": "activity/forest"}

    text_file = ("skogen.png", b"<?php echo 'hej'; ?>", "image/png")
    bad = pedagogue.post("/admin/p/ekorren/calendar/activities", form, files={"picture_file": text_file})
    assert bad.status_code == 400 and "Inget sparades." in bad.text
    assert "Filen är ingen bild i formatet PNG, JPEG, GIF eller WebP." in bad.text
    assert 'value="Skogen"' in bad.text  # what staff typed stays in the form
    # A bad picture and bad fields: every problem at once.
    both = pedagogue.post(
        "/admin/p/ekorren/calendar/activities",
        {**form, "starts_at": "12:00", "ends_at": "11:00"},
        files={"picture_file": ("bomb.png", huge_png(20000, 20000), "image/png")},
    )
    assert both.status_code == 400 and "för stor" in both.text and "sluta efter" in both.text
    # Good picture, bad fields: neither the activity nor the picture is stored.
    good = ("skogen.jpg", photo("JPEG"), "image/jpeg")
    wrong = pedagogue.post(
        "/admin/p/ekorren/calendar/activities", {**form, "title": ""}, files={"picture_file": good}
    )
    assert wrong.status_code == 400 and "Ange en rubrik" in wrong.text
    db.expire_all()
    assert _count(db) == 0 and stored(settings) == []

    saved = pedagogue.post("/admin/p/ekorren/calendar/activities", form, files={"picture_file": good})
    assert saved.status_code == 200 and "Sparat." in saved.text
    db.expire_all()
    row = db.scalars(select(Activity)).one()
    assert row.picture.startswith("upload/") and len(row.picture) == 71
    sha = row.picture.removeprefix("upload/")
    assert stored(settings) == [settings.data_dir / "uploads" / f"{sha}.png"]
    assert f'<img src="/uploads/{sha}.png" alt="" width="64">' in saved.text
    assert pedagogue.get(f"/uploads/{sha}.png").status_code == 200

    # No file chosen (a browser sends an empty file part): the picture from the list is used.
    listed = pedagogue.post(
        "/admin/p/ekorren/calendar/activities",
        {**form, "title": "Lekplatsen", "picture": "activity/playground"},
        files={"picture_file": ("", b"", "application/octet-stream")},
    )
    assert listed.status_code == 200
    db.expire_all()
    pictures = set(db.scalars(select(Activity.picture)))
    assert pictures == {row.picture, "activity/playground"}
    # A forged upload key for a file that does not match the pattern is refused by the store.
    forged = pedagogue.post(
        "/admin/p/ekorren/calendar/activities", {**form, "picture": "upload/../../secret_key"}
    )
    assert forged.status_code == 400 and "Välj en bild i listan." in forged.text


# --- content, not names: what only looks like a picture ---------------------------------------------


def tiny_gif(width: int, height: int) -> bytes:
    """A GIF whose screen claims width × height, holding a single 1×1 frame: a few dozen bytes."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b";"


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
    b'onload="alert(1)"><script>alert(2)</script><rect width="10" height="10"/></svg>'
)


@pytest.mark.parametrize(
    "raw",
    [
        SVG,
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"GIF89a<script>alert(1)</script>",  # a GIF signature in front of a script (a polyglot)
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>" * 4,  # a JPEG's first bytes, then a script
    ],
    ids=["svg", "html", "gif-polyglot", "png-polyglot", "pdf", "jpeg-polyglot"],
)
def test_what_only_looks_like_a_picture_by_its_name_or_first_bytes_is_refused(
    tmp_path: Path, raw: bytes
) -> None:
    with pytest.raises(UploadError, match=r"ingen bild|kunde inte läsas"):
        save_picture(tmp_path, raw)
    assert not (tmp_path / "uploads").exists()


def test_a_real_picture_with_a_script_after_it_is_stored_as_its_pixels_only(tmp_path: Path) -> None:
    raw = photo("PNG", (30, 20)) + b"<html><script>alert(1)</script></html>"
    with Image.open(io.BytesIO(raw)) as accepted:  # Pillow reads the picture and ignores the tail
        assert accepted.size == (30, 20)
    path = picture_path(tmp_path, save_picture(tmp_path, raw))
    assert path is not None
    data = path.read_bytes()
    assert b"<script>" not in data and b"<html>" not in data and data.endswith(b"IEND\xaeB`\x82")


def test_a_gif_claiming_a_huge_screen_is_refused_before_decoding(tmp_path: Path) -> None:
    raw = tiny_gif(30000, 30000)  # 900 million pixels in 40 bytes
    assert len(raw) < 100
    with pytest.raises(UploadError, match="för stor"):
        save_picture(tmp_path, raw)
    assert save_picture(tmp_path, tiny_gif(8, 8)).startswith("upload/")  # the same file, sized sanely


def test_a_jpeg_loses_its_gps_position_and_camera_but_keeps_its_orientation(tmp_path: Path) -> None:
    image = Image.new("RGB", (60, 30), "red")
    image.paste((0, 0, 255), (0, 0, 12, 30))  # a blue left edge, to see which way is up
    exif = exif_with_gps()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to view"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    raw = out.getvalue()
    with Image.open(io.BytesIO(raw)) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    path = picture_path(tmp_path, save_picture(tmp_path, raw))
    assert path is not None
    data = path.read_bytes()
    assert b"Kamerabolaget" not in data and b"Hemlig" not in data and b"Exif" not in data
    with Image.open(path) as cleaned:
        assert cleaned.format == "PNG" and not cleaned.getexif() and not cleaned.info.get("exif")
        assert cleaned.size == (30, 60)  # turned upright: the orientation is applied, then dropped
        red, _, blue = cleaned.convert("RGB").getpixel((15, 3))
        assert blue > 200 and red < 60  # the blue edge is now on top


def test_an_animated_gif_becomes_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(io.BytesIO(out.getvalue())) as animated:
        assert animated.n_frames == 3
    path = picture_path(tmp_path, save_picture(tmp_path, out.getvalue()))
    assert path is not None
    with Image.open(path) as cleaned:
        assert cleaned.format == "PNG" and not getattr(cleaned, "is_animated", False)
        assert b"acTL" not in path.read_bytes()  # not an animated PNG either
        red, green, blue = cleaned.convert("RGB").getpixel((20, 20))
        assert red > 200 and green < 60 and blue < 60
