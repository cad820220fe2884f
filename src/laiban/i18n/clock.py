"""The spoken clock: "what time is it?" as a child hears it, in words, per language.

The words are data (`clock/<lang>.yaml`): the names of the hours 1–12 and one pattern per five-minute
step, with `{hour}` for the hour just begun and `{next}` for the hour to come. The code only rounds the
time and picks the pattern, so a new language is added by adding its YAML file.
"""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("clock")
STEP = 5  # minutes
MINUTES = tuple(range(0, 60, STEP))
HOURS = tuple(range(1, 13))
PLACEHOLDERS = frozenset({"hour", "next"})


@dataclass(frozen=True, slots=True)
class ClockRules:
    hours: dict[int, str]  # 1..12 -> name
    patterns: dict[int, str]  # 0, 5, ..., 55 -> pattern with {hour} / {next}


def rounded(t: datetime.time) -> datetime.time:
    """`t` to the nearest five minutes (x:02 → x:00, x:03 → x:05, 23:58 → 00:00).

    Seconds are ignored, as on the clock the child sees: 14:02:59 is 14:02 and rounds to 14:00.
    """
    total = t.hour * 60 + t.minute
    total = (total + STEP // 2) // STEP * STEP % (24 * 60)
    return datetime.time(total // 60, total % 60, tzinfo=t.tzinfo)


@cache
def available_languages() -> frozenset[str]:
    return frozenset(path.stem for path in DATA.glob("*.yaml"))


def supported(lang: str) -> bool:
    return lang in available_languages()


def clock_words(t: datetime.time, lang: str) -> str | None:
    """The time in words on the 12-hour clock, rounded to five minutes; None without rules for `lang`."""
    if not supported(lang):
        return None
    rules = load_rules(lang)
    near = rounded(t)
    hour = near.hour % 12 or 12
    following = hour % 12 + 1
    return rules.patterns[near.minute].format(hour=rules.hours[hour], next=rules.hours[following])


def _load_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _table(data: dict[object, object], key: str, wanted: tuple[int, ...], path: Path) -> dict[int, str]:
    table = data.get(key)
    if not isinstance(table, dict) or set(table) != set(wanted):
        raise ValueError(f"{path}: {key!r} must map exactly {wanted[0]}..{wanted[-1]} to words.")
    if not all(isinstance(v, str) and v.strip() for v in table.values()):
        raise ValueError(f"{path}: every entry of {key!r} must be non-empty text.")
    return {int(k): str(v).strip() for k, v in table.items()}


@cache
def load_rules(lang: str) -> ClockRules:
    if not supported(lang):
        raise LookupError(f"Laiban has no spoken clock for the language {lang!r}.")
    path = DATA / f"{lang}.yaml"
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} must be a mapping with 'hours' and 'patterns'.")
    hours = _table(data, "hours", HOURS, path)
    patterns = _table(data, "patterns", MINUTES, path)
    for minute, pattern in patterns.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
        if not fields <= PLACEHOLDERS:
            raise ValueError(f"{path}: pattern {minute} may use only {{hour}} and {{next}}, not {fields}.")
    return ClockRules(hours=hours, patterns=patterns)
