"""The spoken clock: every five minutes of the day in Swedish and English, the rounding to them, and the
digits of every other language."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from laiban import i18n
from laiban.i18n import clock
from laiban.i18n.clock import clock_words, rounded, supported
from laiban.model.intent import ClockWords
from laiban.model.preschool import LANGUAGES

T = datetime.time

# An independent generator of the expected words: counts minutes to and from the hour (and the half
# hour in Swedish) instead of looking a pattern up per step.

SV_HOURS = ["tolv", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva"]
EN_HOURS = ["twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"]
SV_AMOUNT = {5: "fem", 10: "tio", 15: "kvart", 20: "tjugo"}
EN_AMOUNT = {5: "five", 10: "ten", 15: "quarter", 20: "twenty", 25: "twenty-five", 30: "half"}


def expected_sv(hour24: int, minute: int) -> str:
    this, coming = SV_HOURS[hour24 % 12], SV_HOURS[(hour24 + 1) % 12]
    if minute == 0:
        return this
    if minute <= 20:
        return f"{SV_AMOUNT[minute]} över {this}"
    if minute == 30:
        return f"halv {coming}"
    if abs(minute - 30) == 5:  # five either side of the half hour
        return f"fem {'i' if minute < 30 else 'över'} halv {coming}"
    return f"{SV_AMOUNT[60 - minute]} i {coming}"


def expected_en(hour24: int, minute: int) -> str:
    this, coming = EN_HOURS[hour24 % 12], EN_HOURS[(hour24 + 1) % 12]
    if minute == 0:
        return f"{this} o'clock"
    if minute <= 30:
        return f"{EN_AMOUNT[minute]} past {this}"
    return f"{EN_AMOUNT[60 - minute]} to {coming}"


EXPECTED = {"sv": expected_sv, "en": expected_en}


def every_five_minutes() -> Iterator[T]:
    start = datetime.datetime(2024, 1, 1)
    for step in range(24 * 12):
        yield (start + datetime.timedelta(minutes=5 * step)).time()


def test_the_day_has_288_five_minute_steps() -> None:
    times = list(every_five_minutes())
    assert len(times) == len(set(times)) == 288
    assert times[0] == T(0, 0) and times[-1] == T(23, 55)


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("t", list(every_five_minutes()), ids=lambda t: t.strftime("%H%M"))
def test_every_five_minutes_of_the_day(lang: str, t: T) -> None:
    assert clock_words(t, lang) == EXPECTED[lang](t.hour, t.minute)


# The issue's table, written out by hand (two o'clock in the afternoon).

SV_TWO = [
    "två",
    "fem över två",
    "tio över två",
    "kvart över två",
    "tjugo över två",
    "fem i halv tre",
    "halv tre",
    "fem över halv tre",
    "tjugo i tre",
    "kvart i tre",
    "tio i tre",
    "fem i tre",
]
EN_TWO = [
    "two o'clock",
    "five past two",
    "ten past two",
    "quarter past two",
    "twenty past two",
    "twenty-five past two",
    "half past two",
    "twenty-five to three",
    "twenty to three",
    "quarter to three",
    "ten to three",
    "five to three",
]


@pytest.mark.parametrize(("lang", "words"), [("sv", SV_TWO), ("en", EN_TWO)])
def test_the_hour_after_two_by_hand(lang: str, words: list[str]) -> None:
    assert [clock_words(T(14, minute), lang) for minute in range(0, 60, 5)] == words
    assert [clock_words(T(2, minute), lang) for minute in range(0, 60, 5)] == words


def test_the_issue_example() -> None:
    assert clock_words(T(14, 25), "sv") == "fem i halv tre"
    assert clock_words(T(14, 25), "en") == "twenty-five past two"


@pytest.mark.parametrize(
    ("t", "sv", "en"),
    [
        (T(0, 0), "tolv", "twelve o'clock"),
        (T(12, 0), "tolv", "twelve o'clock"),
        (T(23, 58), "tolv", "twelve o'clock"),
        (T(11, 58), "tolv", "twelve o'clock"),
        (T(12, 30), "halv ett", "half past twelve"),
        (T(0, 30), "halv ett", "half past twelve"),
        (T(13, 0), "ett", "one o'clock"),
        (T(1, 5), "fem över ett", "five past one"),
        (T(0, 25), "fem i halv ett", "twenty-five past twelve"),
        (T(11, 55), "fem i tolv", "five to twelve"),
        (T(23, 55), "fem i tolv", "five to twelve"),
        (T(12, 5), "fem över tolv", "five past twelve"),
        (T(12, 35), "fem över halv ett", "twenty-five to one"),
        (T(23, 45), "kvart i tolv", "quarter to twelve"),
        (T(10, 40), "tjugo i elva", "twenty to eleven"),
        (T(8, 15), "kvart över åtta", "quarter past eight"),
        (T(18, 30), "halv sju", "half past six"),
    ],
    ids=lambda v: v.strftime("%H%M") if isinstance(v, T) else "",
)
def test_noon_midnight_and_one(t: T, sv: str, en: str) -> None:
    assert clock_words(t, "sv") == sv
    assert clock_words(t, "en") == en


# Rounding.


def expected_rounding(t: T) -> T:
    """Down for 0–2 minutes past a five, up for 3–4 (through midnight), by datetime arithmetic."""
    moment = datetime.datetime(2024, 1, 1, t.hour, t.minute)
    down = moment - datetime.timedelta(minutes=t.minute % 5)
    return (down if t.minute % 5 <= 2 else down + datetime.timedelta(minutes=5)).time()


def test_rounding_of_every_minute_of_the_day() -> None:
    for hour in range(24):
        for minute in range(60):
            t = T(hour, minute)
            assert rounded(t) == expected_rounding(t), t


@pytest.mark.parametrize(
    ("t", "near"),
    [
        (T(14, 0), T(14, 0)),
        (T(14, 1), T(14, 0)),
        (T(14, 2), T(14, 0)),
        (T(14, 3), T(14, 5)),
        (T(14, 4), T(14, 5)),
        (T(14, 7), T(14, 5)),
        (T(14, 8), T(14, 10)),
        (T(14, 22), T(14, 20)),
        (T(14, 23), T(14, 25)),
        (T(14, 27), T(14, 25)),
        (T(14, 28), T(14, 30)),
        (T(14, 52), T(14, 50)),
        (T(14, 53), T(14, 55)),
        (T(14, 56), T(14, 55)),
        (T(14, 57), T(14, 55)),  # nearest: 2 minutes to :55, 3 to the hour
        (T(14, 58), T(15, 0)),
        (T(14, 59), T(15, 0)),
        (T(23, 57), T(23, 55)),
        (T(23, 58), T(0, 0)),
        (T(23, 59), T(0, 0)),
        (T(0, 2), T(0, 0)),
        (T(0, 3), T(0, 5)),
    ],
    ids=lambda v: v.strftime("%H%M"),
)
def test_rounding_boundaries(t: T, near: T) -> None:
    assert rounded(t) == near


def test_rounding_ignores_seconds_and_keeps_the_timezone() -> None:
    assert rounded(T(14, 2, 59, 999999)) == T(14, 0)
    assert rounded(T(14, 7, 59)) == T(14, 5)
    zone = datetime.timezone(datetime.timedelta(hours=1))
    assert rounded(T(23, 58, tzinfo=zone)) == T(0, 0, tzinfo=zone)
    assert rounded(T(23, 58, tzinfo=zone)).tzinfo is zone


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_words_at_every_minute_follow_the_rounding(lang: str) -> None:
    for hour in range(24):
        for minute in range(60):
            near = expected_rounding(T(hour, minute))
            assert clock_words(T(hour, minute), lang) == EXPECTED[lang](near.hour, near.minute)


@pytest.mark.parametrize(
    ("t", "sv", "en"),
    [
        (T(14, 2), "två", "two o'clock"),
        (T(14, 3), "fem över två", "five past two"),
        (T(14, 22), "tjugo över två", "twenty past two"),
        (T(14, 23), "fem i halv tre", "twenty-five past two"),
        (T(14, 27), "fem i halv tre", "twenty-five past two"),
        (T(14, 28), "halv tre", "half past two"),
        (T(14, 57), "fem i tre", "five to three"),
        (T(14, 58), "tre", "three o'clock"),
        (T(11, 58), "tolv", "twelve o'clock"),
        (T(12, 58), "ett", "one o'clock"),
        (T(23, 57), "fem i tolv", "five to twelve"),
        (T(23, 58), "tolv", "twelve o'clock"),
    ],
    ids=lambda v: v.strftime("%H%M") if isinstance(v, T) else "",
)
def test_words_round_to_five_minutes(t: T, sv: str, en: str) -> None:
    assert clock_words(t, "sv") == sv
    assert clock_words(t, "en") == en


# Languages.


@pytest.mark.parametrize("lang", ["de", "xx", "", "SV", "sv-SE", "../clock/sv", "clock"])
def test_unknown_language_has_no_words(lang: str) -> None:
    assert not supported(lang)
    assert clock_words(T(14, 25), lang) is None
    with pytest.raises(LookupError):
        clock.load_rules(lang)


def test_swedish_and_english_are_supported() -> None:
    assert supported("sv") and supported("en")


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - clock.available_languages()))
def test_a_language_without_clock_words_says_the_time_in_digits(lang: str) -> None:
    """Until its clock YAML exists, a preschool language hears the time as Babel writes it (rounded)."""
    assert clock_words(T(14, 23), lang) is None
    said = str(i18n._param(ClockWords(T(14, 23)), lang))
    assert re.search(r"\b(14|2)[:.]25\b", said), (lang, said)


def test_every_shipped_language_is_complete() -> None:
    files = sorted(clock.DATA.glob("*.yaml"))
    assert {p.stem for p in files} >= {"sv", "en"}
    for path in files:
        rules = clock.load_rules(path.stem)
        assert sorted(rules.hours) == list(range(1, 13))
        assert sorted(rules.patterns) == list(range(0, 60, 5))
        words = {clock_words(t, path.stem) for t in every_five_minutes()}
        assert len(words) == 144, path  # 12 hours x 12 steps, all different; am and pm alike


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private clock data folder, with the caches cleared before and after."""
    monkeypatch.setattr(clock, "DATA", tmp_path)
    clock.available_languages.cache_clear()
    clock.load_rules.cache_clear()
    yield tmp_path
    clock.available_languages.cache_clear()
    clock.load_rules.cache_clear()


def _write(path: Path, hours: dict[int, str], patterns: dict[int, str]) -> None:
    lines = ["hours:"] + [f'  {k}: "{v}"' for k, v in hours.items()]
    lines += ["patterns:"] + [f'  {k}: "{v}"' for k, v in patterns.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


HOURS_XX = {h: f"h{h}" for h in range(1, 13)}
PATTERNS_XX = {m: f"{m} after {{hour}}" if m < 30 else f"{60 - m} before {{next}}" for m in range(0, 60, 5)}


def test_a_new_language_is_data_only(data_dir: Path) -> None:
    _write(data_dir / "xx.yaml", HOURS_XX, PATTERNS_XX)
    assert supported("xx") and not supported("sv")
    assert clock_words(T(23, 58), "xx") == "0 after h12"
    assert clock_words(T(14, 24), "xx") == "25 after h2"
    assert clock_words(T(14, 40), "xx") == "20 before h3"


@pytest.mark.parametrize(
    "broken",
    [
        ({h: v for h, v in HOURS_XX.items() if h != 12}, PATTERNS_XX),
        ({**HOURS_XX, 0: "h0"}, PATTERNS_XX),
        (HOURS_XX, {m: v for m, v in PATTERNS_XX.items() if m != 55}),
        (HOURS_XX, {**PATTERNS_XX, 3: "x"}),
        (HOURS_XX, {**PATTERNS_XX, 5: "{hours} and five"}),
        (HOURS_XX, {**PATTERNS_XX, 5: "{} and five"}),
        ({**HOURS_XX, 3: ""}, PATTERNS_XX),
    ],
)
def test_broken_data_is_refused_clearly(
    data_dir: Path, broken: tuple[dict[int, str], dict[int, str]]
) -> None:
    _write(data_dir / "xx.yaml", *broken)
    with pytest.raises(ValueError, match=r"xx\.yaml"):
        clock.load_rules("xx")
