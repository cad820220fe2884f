"""The day: what time it is (in clock words), when things happen, and what day it is."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from laiban.i18n import render
from laiban.model.intent import Intent
from laiban.model.today import ClockEvent, Today
from laiban.skills import clock

STOCKHOLM = ZoneInfo("Europe/Stockholm")
THURSDAY = dt.date(2026, 11, 26)
SCHEDULE = tuple(
    ClockEvent(dt.time.fromisoformat(at), kind, title)
    for at, kind, title in (
        ("08:00", "breakfast", "Frukost"),
        ("09:30", "fruit", "Fruktstund"),
        ("10:00", "outdoor", "Utevistelse"),
        ("11:15", "lunch", "Lunch"),
        ("12:00", "rest", "Vila"),
        ("13:00", "music", "Sångstund"),
        ("14:30", "snack", "Mellanmål"),
    )
)


def today_at(day: dt.date, hour: int, minute: int = 0, events: tuple[ClockEvent, ...] = SCHEDULE) -> Today:
    now = dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)
    return Today(now=now, preschool_name="X", modules=("clock",), languages=("sv", "en"), events=events)


def say(skill, intent: Intent, today: Today, lang: str = "sv") -> str:  # type: ignore[no-untyped-def]
    return render(skill(intent, today), lang).text


class TestTime:
    def test_the_issues_example_and_what_comes_soon(self) -> None:
        today = today_at(THURSDAY, 14, 25)
        assert say(clock.time, Intent("time"), today) == "Klockan är fem i halv tre. Snart är det mellanmål."
        assert say(clock.time, Intent("time"), today, "en") == "It is twenty-five past two. Soon it is snack."
        assert clock.time(Intent("time"), today).pictures == ("clock/14:25",)

    def test_an_event_underway_and_a_quiet_moment(self) -> None:
        assert say(clock.time, Intent("time"), today_at(THURSDAY, 11, 20)) == (
            "Klockan är tjugo över elva. Nu är det lunch!"
        )
        assert say(clock.time, Intent("time"), today_at(THURSDAY, 16, 2)) == "Klockan är fyra."

    def test_midnight_a_day_without_schedule_and_daylight_saving(self) -> None:
        assert say(clock.time, Intent("time"), today_at(THURSDAY, 0, 0, events=())) == "Klockan är tolv."
        # 2026-10-25 02:30 happens twice in Stockholm; the clock on the wall says "halv tre" both times.
        assert say(clock.time, Intent("time"), today_at(dt.date(2026, 10, 25), 2, 30, events=())) == (
            "Klockan är halv tre."
        )


class TestSchedule:
    def test_when_is_lunch_before_during_and_after(self) -> None:
        lunch = Intent("schedule", {"event": "lunch"})
        assert say(clock.schedule, lunch, today_at(THURSDAY, 10, 50)) == (
            "Det är lunch klockan kvart över elva. Det är om 25 minuter."
        )
        assert say(clock.schedule, lunch, today_at(THURSDAY, 8, 0), "en") == (
            "There is lunch at quarter past eleven. That is in about 3 hours."
        )
        assert say(clock.schedule, lunch, today_at(THURSDAY, 11, 20)) == "Nu är det lunch!"
        assert say(clock.schedule, lunch, today_at(THURSDAY, 14, 0)) == (
            "Det var lunch klockan kvart över elva idag."
        )

    def test_one_minute_and_yes_no(self) -> None:
        snack = Intent("schedule", {"event": "snack"}, yes_no=True)
        assert say(clock.schedule, snack, today_at(THURSDAY, 14, 29)) == (
            "Ja. Det är mellanmål klockan halv tre. Det är om 1 minut."
        )
        assert say(clock.schedule, snack, today_at(THURSDAY, 12, 0)).startswith("Nej. Det är mellanmål")

    def test_what_happens_next_and_the_end_of_the_day(self) -> None:
        assert say(clock.schedule, Intent("schedule"), today_at(THURSDAY, 12, 30)) == (
            "Sen är det Sångstund klockan ett. Det är om 30 minuter."
        )
        assert say(clock.schedule, Intent("schedule"), today_at(THURSDAY, 15, 0)) == (
            "Det finns inget mer på schemat idag."
        )

    def test_events_that_are_not_in_todays_schedule(self) -> None:
        answer = say(clock.schedule, Intent("schedule", {"event": "gathering"}), today_at(THURSDAY, 9))
        assert answer == "Jag vet inte när det är samling idag. Fråga en pedagog!"
        assert say(
            clock.schedule, Intent("schedule", {"event": "lunch"}), today_at(THURSDAY, 9, events=())
        ) == ("Jag vet inte när det är lunch idag. Fråga en pedagog!")
        other_day = Intent("schedule", {"event": "lunch", "day": "tomorrow"})
        assert say(clock.schedule, other_day, today_at(THURSDAY, 9)) == "Jag kan berätta om schemat för idag."

    def test_the_preschools_own_event_titles(self) -> None:
        assert say(clock.schedule, Intent("schedule", {"event": "Sångstund"}), today_at(THURSDAY, 12)) == (
            "Det är Sångstund klockan ett. Det är om 60 minuter."
        )


class TestDate:
    @pytest.mark.parametrize(
        ("slot", "sv", "en"),
        [
            (None, "Idag är det torsdag den 26 november.", "Today is Thursday, November 26."),
            ("tomorrow", "Imorgon är det fredag den 27 november.", "Tomorrow is Friday, November 27."),
            ("yesterday", "Igår var det onsdag den 25 november.", "Yesterday was Wednesday, November 25."),
            ("monday", "På måndag är det den 30 november.", "Monday is November 30."),
        ],
    )
    def test_days(self, slot: str | None, sv: str, en: str) -> None:
        intent = Intent("date", {"day": slot} if slot else {})
        assert say(clock.date, intent, today_at(THURSDAY, 9)) == sv
        assert say(clock.date, intent, today_at(THURSDAY, 9), "en") == en

    def test_yes_no(self) -> None:
        assert say(clock.date, Intent("date", {"day": "friday"}, yes_no=True), today_at(THURSDAY, 9)) == (
            "Nej. Idag är det torsdag den 26 november."
        )
        assert say(
            clock.date, Intent("date", {"day": "thursday"}, yes_no=True), today_at(THURSDAY, 9)
        ).startswith("Ja.")
        assert say(clock.date, Intent("date", {"day": "weekend"}), today_at(THURSDAY, 9)) == (
            "Nej, det är inte helg idag."
        )
        assert say(clock.date, Intent("date", {"day": "weekend"}), today_at(dt.date(2026, 11, 28), 9)) == (
            "Ja, det är helg!"
        )

    def test_week_number(self) -> None:
        assert say(clock.date, Intent("date", {"day": "this_week"}), today_at(THURSDAY, 9)) == (
            "Det är vecka 48. Idag är det torsdag den 26 november."
        )
        # ISO weeks: 1 January 2027 is a Friday in week 53 of 2026.
        assert say(
            clock.date, Intent("date", {"day": "this_week"}), today_at(dt.date(2027, 1, 1), 9), "en"
        ) == ("It is week 53. Today is Friday, January 1.")

    def test_leap_day(self) -> None:
        assert say(clock.date, Intent("date"), today_at(dt.date(2028, 2, 29), 9)) == (
            "Idag är det tisdag den 29 februari."
        )


def test_demo_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")} | {
        "LAIBAN_DATA_DIR": str(tmp_path)
    }

    def ask(*args: str) -> dict[str, object]:
        run = subprocess.run(
            [sys.executable, "-m", "laiban.cli", "ask", "--json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    subprocess.run([sys.executable, "-m", "laiban.cli", "demo"], env=env, check=True, capture_output=True)
    told = ask("--at", "2026-11-26T14:25", "vad är klockan?")
    assert told["intent"] == "time" and "fem i halv tre" in str(told["speech"])
    lunch = ask("--at", "2026-11-26T10:45", "när är det lunch?")
    assert lunch["text"] == "Det är lunch klockan kvart över elva. Det är om 30 minuter."


class TestCalendar:
    @staticmethod
    def at(day: dt.date) -> Today:
        from laiban.sources.holidays import special_days_between

        now = dt.datetime.combine(day, dt.time(9), STOCKHOLM)
        days = special_days_between(day - dt.timedelta(days=1), day + dt.timedelta(days=400))
        return Today(
            now=now, preschool_name="X", modules=("calendar",), languages=("sv", "en"), special_days=days
        )

    def test_days_until_christmas_means_christmas_eve(self) -> None:
        from laiban.skills import calendar

        ask = Intent("calendar", {"holiday": "christmas"})
        assert say(calendar.answer, ask, self.at(dt.date(2026, 12, 23))) == "Det är 1 dag kvar till julafton."
        assert say(calendar.answer, ask, self.at(dt.date(2026, 12, 23)), "en") == (
            "There is 1 day left until Christmas Eve."
        )
        assert say(calendar.answer, ask, self.at(dt.date(2026, 12, 24))) == "Idag är det julafton!"
        assert (
            say(calendar.answer, ask, self.at(dt.date(2026, 12, 25)))
            == "Det är 364 dagar kvar till julafton."
        )
        soon = Intent("calendar", {"holiday": "christmas"}, yes_no=True)
        assert say(calendar.answer, soon, self.at(dt.date(2026, 11, 26))).startswith("Nej. Det är 28 dagar")

    def test_moving_holidays_and_leap_years(self) -> None:
        from laiban.skills import calendar

        midsummer = Intent("calendar", {"holiday": "midsummer"})
        assert say(calendar.answer, midsummer, self.at(dt.date(2026, 6, 1))) == (
            "Det är 18 dagar kvar till midsommarafton."  # Friday 19 June 2026
        )
        easter = Intent("calendar", {"holiday": "easter"})
        assert say(calendar.answer, easter, self.at(dt.date(2028, 2, 28))) == (
            "Det är 47 dagar kvar till påskafton."  # 15 April 2028, across a 29 February
        )

    def test_special_days_also_on_weekends_and_the_next_one(self) -> None:
        from laiban.skills import calendar

        assert say(calendar.answer, Intent("calendar"), self.at(dt.date(2026, 6, 6))) == (
            "Idag är det Sveriges nationaldag!"  # a Saturday
        )
        assert say(calendar.answer, Intent("calendar"), self.at(dt.date(2026, 11, 26))) == (
            "Idag är det ingen speciell dag. Nästa speciella dag är lucia. Det är 17 dagar kvar till lucia."
        )

    def test_what_laiban_cannot_know(self) -> None:
        from laiban.skills import calendar

        assert say(
            calendar.answer, Intent("calendar", {"holiday": "birthday"}), self.at(dt.date(2026, 11, 26))
        ) == ("Jag vet inte när det är din födelsedag. Fråga en pedagog!")


def test_christmas_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")} | {
        "LAIBAN_DATA_DIR": str(tmp_path)
    }
    subprocess.run([sys.executable, "-m", "laiban.cli", "demo"], env=env, check=True, capture_output=True)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "laiban.cli",
            "ask",
            "--at",
            "2026-12-23T09:00",
            "hur många dagar är det kvar till jul?",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip() == "Det är 1 dag kvar till julafton."


def test_weekday_colours_and_the_kiosks_today(client, world, browser_for, db) -> None:  # type: ignore[no-untyped-def]
    from laiban.store.tables import Preschool, ScheduleEvent
    from tests.world import PASSWORD

    db.add(ScheduleEvent(preschool_id=world.ekorren, at=dt.time(11, 15), kind="lunch", title="Lunch"))
    db.commit()
    admin = browser_for(world.admin_ekorren, PASSWORD)
    form = {
        "name": "Förskolan Ekorren",
        "timezone": "Europe/Stockholm",
        "day_starts_at": "06:30",
        "day_ends_at": "17:30",
        "groups": "Svamp",
        **{f"colour_{i}": "#123456" for i in range(7)},
    }
    assert admin.post("/admin/p/ekorren/settings", {**form, "colour_3": "brown"}).status_code == 400
    assert admin.post("/admin/p/ekorren/settings", {**form, "colour_0": "#FF0000"}).status_code == 200
    db.expire_all()
    assert db.get_one(Preschool, world.ekorren).weekday_colours == ["#ff0000", *["#123456"] * 6]
    body = client.get("/api/v1/today", headers={"Authorization": f"Bearer {world.device_ekorren}"}).json()
    assert [d["colour"] for d in body["week"]] == ["#ff0000", *["#123456"] * 6]
    assert sum(d["today"] for d in body["week"]) == 1
    assert body["events"] == [{"at": "11:15:00", "kind": "lunch", "title": "Lunch"}]
    assert client.get("/api/v1/today").status_code == 401


def test_the_next_closed_day_is_mentioned() -> None:
    from laiban.skills import calendar

    now = dt.datetime.combine(THURSDAY, dt.time(9), STOCKHOLM)
    today = Today(
        now=now,
        preschool_name="X",
        modules=("calendar",),
        languages=("sv", "en"),
        closed_days={dt.date(2026, 12, 7): "Planeringsdag", dt.date(2027, 3, 1): "Långt bort"},
    )
    assert say(calendar.answer, Intent("calendar"), today) == (
        "Idag är det ingen speciell dag. Nästa gång förskolan är stängd är den 7 december."
    )
