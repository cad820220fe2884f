"""Sweden's public calendar: public holidays and eves (the `holidays` package, computed offline), Lucia,
Halloween and the official flag days (SFS 1982:270; no package has them, so they are a small table)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

# The package's Swedish names → our stable keys (the `holiday` slot's values where one exists).
NAME_KEYS = {
    "Nyårsdagen": "new_year",
    "Trettondedag jul": "epiphany",
    "Långfredagen": "good_friday",
    "Påskafton": "easter",
    "Påskdagen": "easter_day",
    "Annandag påsk": "easter_monday",
    "Valborgsmässoafton": "walpurgis",
    "Första maj": "may_day",
    "Kristi himmelsfärdsdag": "ascension",
    "Pingstdagen": "pentecost",
    "Nationaldagen": "national_day",
    "Midsommarafton": "midsummer",
    "Midsommardagen": "midsummer_day",
    "Alla helgons dag": "all_saints",
    "Julafton": "christmas_eve",
    "Juldagen": "christmas",
    "Annandag jul": "boxing_day",
    "Nyårsafton": "new_years_eve",
}
FIXED = {(12, 13): "lucia", (10, 31): "halloween"}
# Official flag days on fixed dates that are not already a holiday above.
FLAG_DAYS = {(1, 28), (3, 12), (4, 30), (5, 29), (7, 14), (8, 8), (10, 24), (11, 6), (12, 10), (12, 23)}


@cache
def special_days(year: int) -> dict[dt.date, tuple[str, ...]]:
    """date → keys of what is special about it, in one year."""
    found: dict[dt.date, list[str]] = {}
    calendar = holidays.country_holidays(
        "SE", years=year, language="sv", categories=("public", "de_facto", "optional")
    )
    for day, names in calendar.items():
        for name in names.split("; "):
            key = NAME_KEYS.get(name.split(" (")[0])
            if key:
                found.setdefault(day, []).append(key)
    for (month, day), key in FIXED.items():
        found.setdefault(dt.date(year, month, day), []).append(key)
    for month, day in FLAG_DAYS:
        found.setdefault(dt.date(year, month, day), []).append("flag_day")
    return {day: tuple(keys) for day, keys in sorted(found.items())}


def special_days_between(first: dt.date, last: dt.date) -> dict[dt.date, tuple[str, ...]]:
    days: dict[dt.date, tuple[str, ...]] = {}
    for year in range(first.year, last.year + 1):
        days.update({d: keys for d, keys in special_days(year).items() if first <= d <= last})
    return days
