"""Laiban's own pictures (src/laiban/web/static/pictures): every picture key an answer can carry has its
SVG, and every SVG is safe and fits the kiosk (square 128 viewBox, no text, no scripts, nothing external).

The keys come from the code's own data (the garment catalogue, the dish data, the schedule kinds…), so a
new garment, dish picture, holiday or avatar without a drawing fails here."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import laiban
from laiban.model.garments import GARMENTS
from laiban.model.weather import Symbol
from laiban.skills import activities, calendar, dishes
from laiban.skills.conversation import MODULE_PICTURES
from laiban.skills.outdoors import State
from laiban.skills.pickup import RELATIONS
from laiban.sources.holidays import FIXED, NAME_KEYS
from laiban.store.calendar import ACTIVITY_PICTURES, EVENT_PICTURES
from laiban.store.children import AVATAR_LABELS
from laiban.store.schedule import KINDS

PACKAGE = Path(laiban.__file__).parent
PICTURES = PACKAGE / "web" / "static" / "pictures"
SVG_NS = "{http://www.w3.org/2000/svg}"
MAX_TOTAL_BYTES = 250_000
# Scripts, text (children cannot read; no emoji fonts), embedded or referenced pictures, CSS.
FORBIDDEN = {"script", "text", "tspan", "textPath", "image", "foreignObject", "use", "style", "a"}

# The folders whose keys are files. clock/, thermometer/, week/, language/, face/ and upload/ keys are
# drawn (or fetched) by the kiosk's JavaScript.
FOLDERS = (
    *("laiban", "module", "weather", "garment", "food", "event"),
    *("calendar", "activity", "avatar", "person", "pickup"),
)
LITERAL_KEY = re.compile(rf"^(?:{'|'.join(FOLDERS)})/[a-z0-9_]+$")
# The character's moods the kiosk shows around the answers (kiosk issue: idle, listening, thinking,
# speaking, happy, sleepy; sorry when Laiban cannot answer).
KIOSK_MOODS = ("idle", "listening", "thinking", "speaking", "happy", "sleepy", "sorry")


def _literal_keys() -> set[str]:
    """Every string in the package's Python code that is a whole picture key ("laiban/thinking",
    "food/plate", "pickup/who"…): the fixed keys the skills answer with."""
    keys: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and LITERAL_KEY.match(value):
                keys.add(value)
    return keys


def _food_keys() -> set[str]:
    keys = {dishes.FALLBACK_PICTURE}
    for data in sorted(dishes.DATA.glob("*.yaml")):
        keys |= {food.picture for food in dishes.load_rules(data.stem).foods}
    return keys


def expected_keys() -> set[str]:
    keys = _literal_keys()
    keys |= {f"laiban/{mood}" for mood in KIOSK_MOODS}
    keys |= set(MODULE_PICTURES.values())
    keys |= {f"weather/{state}" for state in State.ORDER}
    keys |= {f"weather/{symbol.value}" for symbol in Symbol}
    keys |= {f"garment/{garment}" for garment in GARMENTS}
    keys |= _food_keys()
    keys |= {f"event/{kind}" for kind in KINDS}
    holidays = {*calendar.NAMES, *NAME_KEYS.values(), *FIXED.values(), "flag_day"}
    keys |= {f"calendar/{key}" for key in holidays}
    keys |= {key for key in EVENT_PICTURES if key}
    keys |= {key for key in ACTIVITY_PICTURES if key} | {activities.DEFAULT_PICTURE}
    keys |= {f"avatar/{animal}" for animal in AVATAR_LABELS}
    keys |= {f"person/{relation}" for relation in RELATIONS} | {"person/someone"}
    keys |= {"pickup/who", "pickup/home"}
    return keys


def all_svgs() -> list[Path]:
    return sorted(PICTURES.rglob("*.svg"))


def test_every_picture_key_has_its_svg() -> None:
    keys = expected_keys()
    assert len(keys) > 120  # the data above was found (a broken import would not pass silently)
    missing = sorted(key for key in keys if not (PICTURES / f"{key}.svg").is_file())
    assert not missing, f"pictures without an SVG: {missing}"


def test_the_literal_keys_are_found() -> None:
    """The code scan sees the fixed keys the skills use (so that it would see a new one)."""
    fixed = {"laiban/thinking", "laiban/window", "food/plate", "pickup/who", "pickup/home", "calendar/closed"}
    assert fixed <= _literal_keys()


def test_every_folder_has_a_default() -> None:
    folders = sorted({path.parent for path in all_svgs()})
    assert {folder.name for folder in folders} >= set(FOLDERS)
    for folder in folders:
        assert (folder / "default.svg").is_file(), f"{folder.relative_to(PICTURES)} has no default.svg"


def test_the_set_stays_small() -> None:
    total = sum(path.stat().st_size for path in all_svgs())
    assert total < MAX_TOTAL_BYTES, f"the pictures weigh {total} bytes"


@pytest.mark.parametrize("path", all_svgs(), ids=lambda path: str(path.relative_to(PICTURES).with_suffix("")))
def test_svg_is_safe_and_fits_the_kiosk(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    root = ET.fromstring(raw)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == "0 0 128 128"
    assert root.get("width") is None and root.get("height") is None, "the kiosk sizes pictures"
    title = root.find(f"{SVG_NS}title")
    assert title is not None and (title.text or "").strip(), "a <title> (the Swedish word) is needed"
    for element in root.iter():
        tag = element.tag.removeprefix(SVG_NS)
        assert tag not in FORBIDDEN, tag
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            assert not local.startswith("on"), f"event handler {name}"
            if local == "href":
                assert value.startswith("#"), f"external reference {value}"
            assert "url(" not in value or re.fullmatch(r"url\(#[\w-]+\)", value.strip()), value
    assert "<!ENTITY" not in raw and "javascript:" not in raw.lower()
    assert path.stat().st_size < 4_000, "keep each picture small"


def test_the_server_serves_a_picture(client: TestClient) -> None:
    response = client.get("/static/pictures/weather/rain.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<title>Regn</title>" in response.content
