"""The pickup skill ("Vem hämtar mig?"): which child (the one who asks, a name, several with that name, a
name from another group), "du" or the name, today's variants (unknown, gone home, not here, who and when,
changed time, told by the day's schedule, not yet arrived), tomorrow, other days, privacy between children,
and the question path with the "Vem är du?" follow-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from laiban import assistant
from laiban.i18n import render
from laiban.model.intent import Answer, Context, Intent
from laiban.model.pickup import ChildDay, PickupChild
from laiban.model.today import ClockEvent, Today
from laiban.skills import pickup

STOCKHOLM = ZoneInfo("Europe/Stockholm")
THURSDAY = dt.date(2026, 11, 26)
FRIDAY = THURSDAY + dt.timedelta(days=1)
MONDAY = dt.date(2026, 11, 30)
ELLA, NOAH, OTHER_ELLA = 1, 2, 3


def on(day: dt.date, coming: bool | None = True, **details: object) -> ChildDay:
    return ChildDay(day, coming, **details)  # type: ignore[arg-type]


def ella(today: ChildDay | None = None, tomorrow: ChildDay | None = None, **changes: object) -> PickupChild:
    values: dict[str, object] = {
        "id": ELLA,
        "name": "Ella",
        "avatar": "fox",
        "today": today or on(THURSDAY, leaves_at=dt.time(15, 30), pickup_by="mormor"),
        "tomorrow": tomorrow or on(FRIDAY, leaves_at=dt.time(16, 0), pickup_by="pappa"),
        "next_day": FRIDAY,
    }
    values.update(changes)
    return PickupChild(**values)  # type: ignore[arg-type]


# Another child of the group, with data that must never show up in an answer about Ella.
NOAH_CHILD = PickupChild(
    id=NOAH,
    name="Noah",
    avatar="bear",
    today=on(THURSDAY, leaves_at=dt.time(14, 0), pickup_by="Ali", usual_leaves_at=dt.time(16, 0)),
    tomorrow=on(FRIDAY, coming=False),
    next_day=MONDAY,
)


def today_at(
    hour: int = 13, minute: int = 0, *, children: tuple[PickupChild, ...] | None = None, **changes: object
) -> Today:
    values: dict[str, object] = {
        "now": dt.datetime.combine(THURSDAY, dt.time(hour, minute), STOCKHOLM),
        "preschool_name": "Förskolan Ekorren",
        "modules": ("clock", "lunch", "pickup"),
        "languages": ("sv", "en"),
        "children": (ella(), NOAH_CHILD) if children is None else children,
    }
    values.update(changes)
    return Today(**values)  # type: ignore[arg-type]


def reply(today: Today, **slots: str) -> Answer:
    return pickup.answer(Intent("pickup", slots), today)


def say(today: Today, lang: str = "sv", **slots: str) -> str:
    return render(reply(today, **slots), lang).text


def with_ella(today: ChildDay | None = None, tomorrow: ChildDay | None = None, **changes: object) -> Today:
    """Today with Ella (changed as given) and Noah, Ella asking unless `asking_child` says otherwise."""
    asking = changes.pop("asking_child", ELLA)
    of_today = {k: changes.pop(k) for k in ("events", "now") if k in changes}
    return today_at(children=(ella(today, tomorrow, **changes), NOAH_CHILD), asking_child=asking, **of_today)


# --- which child ------------------------------------------------------------------------------------


def test_laiban_asks_who_is_asking_when_it_cannot_tell() -> None:
    answer = reply(today_at())
    assert answer.asks_for == "child"
    assert answer.pictures == ("pickup/who",)
    assert render(answer, "sv").text == "Vem är du? Tryck på din bild eller säg ditt namn."
    assert render(answer, "en").text == "Who are you? Tap your picture or say your name."
    # A child who tapped a picture that is not (or no longer) in the group is not known either.
    assert reply(today_at(asking_child=99)).asks_for == "child"


def test_the_child_who_tapped_their_picture_hears_du() -> None:
    today = today_at(asking_child=ELLA)
    answer = reply(today)
    assert answer.asks_for is None
    assert answer.pictures == ("avatar/fox", "person/mormor", "clock/15:30")
    assert render(answer, "sv").text == "Idag hämtar mormor dig ungefär halv fyra."
    assert render(answer, "en").text == "Today Grandma picks you up at about half past three."
    # Asking with one's own name is still "du" (names are matched without regard to case).
    assert say(today, child="ella") == "Idag hämtar mormor dig ungefär halv fyra."


def test_a_named_child_is_told_about_by_name() -> None:
    assert say(today_at(), child="Ella") == "Idag hämtar mormor Ella ungefär halv fyra."
    assert say(today_at(), "en", child="Ella") == "Today Grandma picks Ella up at about half past three."
    # Ella asks about Noah: Noah's answer, by name.
    assert say(today_at(asking_child=ELLA), child="Noah") == (
        "Idag hämtar Ali Noah ungefär två. Det är lite tidigare än vanligt."
    )


def test_several_children_with_the_name_are_asked_to_tap_their_picture() -> None:
    other = ella(
        id=OTHER_ELLA, avatar="owl", today=on(THURSDAY, leaves_at=dt.time(17, 0), pickup_by="farfar")
    )
    today = today_at(children=(ella(), other, NOAH_CHILD))
    answer = reply(today, child="Ella")
    assert answer.asks_for == "child"
    assert render(answer, "sv").text == "Det finns flera som heter Ella. Tryck på din bild!"
    assert render(answer, "en").text == "There is more than one Ella here. Tap your picture!"
    # The Ella who tapped her picture hears about herself, not the other Ella.
    asked = replace(today, asking_child=OTHER_ELLA)
    assert say(asked, child="Ella") == "Idag hämtar farfar dig ungefär fem."


def test_a_name_from_another_group_gets_the_honest_answer_without_the_name() -> None:
    answer = reply(today_at(), child="Maja")
    assert answer.asks_for is None
    assert render(answer, "sv").text == "Det vet jag inte. Fråga en pedagog!"
    assert render(answer, "en").text == "I don't know that. Ask a teacher!"
    assert "Maja" not in render(answer, "sv").text


# --- privacy ----------------------------------------------------------------------------------------

ELLA_VARIANTS = (
    on(THURSDAY, leaves_at=dt.time(15, 30), pickup_by="mormor", usual_leaves_at=dt.time(16, 0)),
    on(THURSDAY, coming=None),
    on(THURSDAY, coming=False),
    on(THURSDAY, leaves_at=dt.time(15, 30), checked_out_at=dt.time(15, 25)),
    on(THURSDAY, leaves_at=dt.time(15, 30)),
    on(THURSDAY, pickup_by="moster"),
    on(THURSDAY),
    on(THURSDAY, arrives_at=dt.time(14, 45), leaves_at=dt.time(16, 0), pickup_by="pappa"),
)


@pytest.mark.parametrize("plan", ELLA_VARIANTS)
@pytest.mark.parametrize("day", ["today", "tomorrow"])
@pytest.mark.parametrize("asking", [ELLA, None, NOAH])
def test_an_answer_about_ella_never_tells_about_noah(plan: ChildDay, day: str, asking: int | None) -> None:
    today = today_at(
        children=(ella(plan, on(FRIDAY, coming=False), next_day=MONDAY), NOAH_CHILD), asking_child=asking
    )
    answer = reply(today, child="Ella", day=day)
    for lang in ("sv", "en"):
        text = render(answer, lang).text
        assert "Noah" not in text and "Ali" not in text and "två" not in text and "two" not in text
        assert ("Ella" in text) is (asking != ELLA)  # "du" to Ella herself, her name otherwise
    assert "avatar/bear" not in answer.pictures and "clock/14:00" not in answer.pictures


# --- today ------------------------------------------------------------------------------------------


def test_nobody_told_laiban() -> None:
    today = with_ella(on(THURSDAY, coming=None))
    assert say(today) == "Jag vet inte när du går hem idag. Fråga en pedagog!"
    assert say(today, "en") == "I don't know when you go home today. Ask a teacher!"
    named = with_ella(on(THURSDAY, coming=None), asking_child=None)
    assert say(named, child="Ella") == "Jag vet inte när Ella går hem idag. Fråga en pedagog!"
    assert reply(named, child="Ella").pictures == ("avatar/fox", "laiban/thinking")
    # Coming, but with neither a time nor a person: the same honest answer.
    assert say(with_ella(on(THURSDAY))) == "Jag vet inte när du går hem idag. Fråga en pedagog!"


def test_a_child_who_went_home() -> None:
    gone = on(THURSDAY, leaves_at=dt.time(12, 0), pickup_by="mamma", checked_out_at=dt.time(12, 5))
    assert say(with_ella(gone, asking_child=None), child="Ella") == "Ella har redan gått hem idag."
    assert say(with_ella(gone)) == "Min lista säger att du redan har gått hem idag. Fråga en pedagog!"
    assert say(with_ella(gone), "en") == "My list says you have already gone home today. Ask a teacher!"


def test_a_child_who_is_not_here_today_and_when_they_come_again() -> None:
    away = on(THURSDAY, coming=False)
    assert say(with_ella(away, asking_child=None), child="Ella") == (
        "Ella är inte på förskolan idag. Ella kommer igen imorgon."
    )
    monday = with_ella(away, on(FRIDAY, coming=False), next_day=MONDAY, asking_child=None)
    assert say(monday, child="Ella") == "Ella är inte på förskolan idag. Ella kommer igen på måndag."
    assert say(monday, "en", child="Ella") == "Ella is not at preschool today. Ella comes back on Monday."
    unknown = with_ella(away, next_day=None, asking_child=None)
    assert say(unknown, child="Ella") == "Ella är inte på förskolan idag."
    far = with_ella(away, next_day=THURSDAY + dt.timedelta(days=12), asking_child=None)
    assert say(far, child="Ella") == "Ella är inte på förskolan idag."
    # The child at the kiosk who the list says is off today: a pedagogue knows better.
    assert say(with_ella(away)) == "Min lista säger att du är ledig idag. Fråga en pedagog!"


def test_who_picks_up_without_a_time() -> None:
    today = with_ella(on(THURSDAY, pickup_by="pappa"))
    assert say(today) == "Idag hämtar pappa dig."
    assert say(today, "en") == "Today Dad picks you up."
    assert reply(today).pictures == ("avatar/fox", "person/pappa")
    assert say(with_ella(on(THURSDAY, pickup_by="pappa"), asking_child=None), child="Ella") == (
        "Idag hämtar pappa Ella."
    )


def test_a_relation_word_is_translated_and_anything_else_is_shown_as_written() -> None:
    def told(pickup_by: str, lang: str = "sv") -> str:
        return say(with_ella(on(THURSDAY, pickup_by=pickup_by)), lang)

    assert told(" Mormor ") == "Idag hämtar mormor dig."
    assert told("storasyster", "en") == "Today Big Sister picks you up."
    assert told("moster", "en") == "Today Auntie picks you up."
    assert told("Ali") == "Idag hämtar Ali dig."
    assert told("Ali", "en") == "Today Ali picks you up."
    assert told("taxi", "en") == "Today taxi picks you up."
    assert reply(with_ella(on(THURSDAY, pickup_by="Ali"))).pictures == ("avatar/fox", "person/someone")
    assert reply(with_ella(on(THURSDAY, pickup_by="Farmor"))).pictures == ("avatar/fox", "person/farmor")


def test_a_time_without_a_person() -> None:
    today = with_ella(on(THURSDAY, leaves_at=dt.time(15, 30)))
    assert say(today) == (
        "Idag går du hem ungefär halv fyra. Jag vet inte vem som hämtar dig. Fråga en pedagog!"
    )
    assert say(today, "en") == (
        "Today you go home at about half past three. I don't know who picks you up. Ask a teacher!"
    )
    assert reply(today).pictures == ("avatar/fox", "clock/15:30")
    named = with_ella(on(THURSDAY, leaves_at=dt.time(15, 30)), asking_child=None)
    assert say(named, child="Ella") == (
        "Idag går Ella hem ungefär halv fyra. Jag vet inte vem som hämtar Ella. Fråga en pedagog!"
    )


def test_a_child_without_an_avatar_has_no_avatar_picture() -> None:
    today = with_ella(avatar="")
    assert reply(today).pictures == ("person/mormor", "clock/15:30")


def test_a_childs_photo_is_their_picture_as_it_is() -> None:
    photo = "upload/" + "a" * 64
    assert reply(with_ella(avatar=photo)).pictures[0] == photo


@pytest.mark.parametrize(
    ("leaves", "usual", "added"),
    [
        (dt.time(15, 0), dt.time(16, 0), " Det är lite tidigare än vanligt."),
        (dt.time(15, 50), dt.time(16, 0), " Det är lite tidigare än vanligt."),
        (dt.time(16, 10), dt.time(16, 0), " Det är lite senare än vanligt."),
        (dt.time(15, 51), dt.time(16, 0), ""),
        (dt.time(16, 9), dt.time(16, 0), ""),
        (dt.time(16, 0), None, ""),
    ],
)
def test_a_changed_time_is_told(leaves: dt.time, usual: dt.time | None, added: str) -> None:
    today = with_ella(on(THURSDAY, leaves_at=leaves, usual_leaves_at=usual, pickup_by="mamma"))
    first = render(reply(today), "sv").captions[0]
    assert say(today) == first + added


def test_a_changed_time_in_english_and_with_a_time_only() -> None:
    earlier = with_ella(on(THURSDAY, leaves_at=dt.time(15, 0), usual_leaves_at=dt.time(16, 0)))
    assert say(earlier, "en") == (
        "Today you go home at about three o'clock. That is a bit earlier than usual. "
        "I don't know who picks you up. Ask a teacher!"
    )


SNACK = ClockEvent(dt.time(14, 30), "snack", "Mellis")
OUTDOOR = ClockEvent(dt.time(16, 30), "outdoor", "Ute")
SONGS = ClockEvent(dt.time(15, 40), "other", "Sångstund")
PICKUP_TIME = ClockEvent(dt.time(15, 30), "pickup", "Hämtning")


@pytest.mark.parametrize(
    ("events", "leaves", "anchor"),
    [
        ((SNACK,), dt.time(15, 30), " Det är efter mellanmålet."),  # exactly an hour after
        ((SNACK,), dt.time(15, 31), ""),  # more than an hour
        ((SNACK,), dt.time(13, 30), " Det är före mellanmålet."),
        ((SNACK,), dt.time(14, 30), " Det är samtidigt som mellanmålet."),
        ((SNACK, OUTDOOR), dt.time(15, 30), " Det är efter mellanmålet."),  # a tie: the event before
        ((SNACK, OUTDOOR), dt.time(15, 31), " Det är före utevistelsen."),  # the nearest
        ((SNACK, SONGS), dt.time(15, 30), " Det är före Sångstund."),  # staff's own title
        ((PICKUP_TIME,), dt.time(15, 30), ""),  # the schedule's pickup is no anchor
        ((), dt.time(15, 30), ""),
    ],
)
def test_the_pickup_time_is_told_by_the_days_schedule(
    events: tuple[ClockEvent, ...], leaves: dt.time, anchor: str
) -> None:
    today = with_ella(on(THURSDAY, leaves_at=leaves, pickup_by="mormor"), events=events)
    first = render(reply(today), "sv").captions[0]
    assert say(today) == first + anchor


def test_a_changed_time_is_said_before_the_anchor_and_both_are_translated() -> None:
    plan = on(THURSDAY, leaves_at=dt.time(15, 30), usual_leaves_at=dt.time(16, 30), pickup_by="mormor")
    today = with_ella(plan, events=(SNACK, OUTDOOR))
    assert say(today) == (
        "Idag hämtar mormor dig ungefär halv fyra. Det är lite tidigare än vanligt. Det är efter mellanmålet."
    )
    assert say(today, "en") == (
        "Today Grandma picks you up at about half past three. That is a bit earlier than usual. "
        "That is after snack."
    )


def test_a_child_not_yet_arrived_is_told_about_with_the_arrival_first() -> None:
    plan = on(THURSDAY, arrives_at=dt.time(9, 0), leaves_at=dt.time(15, 30), pickup_by="mormor")
    morning = with_ella(plan, asking_child=None, now=dt.datetime.combine(THURSDAY, dt.time(8), STOCKHOLM))
    assert say(morning, child="Ella") == (
        "Ella kommer till förskolan ungefär nio. Idag hämtar mormor Ella ungefär halv fyra."
    )
    assert say(morning, "en", child="Ella") == (
        "Ella comes to preschool at about nine o'clock. Today Grandma picks Ella up at about half past three."
    )
    # Not told once she is here (checked in), once the time has passed, or to the child herself.
    arrived = on(THURSDAY, arrives_at=dt.time(9, 0), checked_in_at=dt.time(7, 50), pickup_by="mormor")
    checked_in = with_ella(arrived, asking_child=None, now=morning.now)
    assert say(checked_in, child="Ella") == "Idag hämtar mormor Ella."
    later = with_ella(plan, asking_child=None, now=dt.datetime.combine(THURSDAY, dt.time(9, 1), STOCKHOLM))
    assert say(later, child="Ella") == "Idag hämtar mormor Ella ungefär halv fyra."
    assert say(with_ella(plan, now=morning.now)) == "Idag hämtar mormor dig ungefär halv fyra."


# --- tomorrow and other days ------------------------------------------------------------------------


def test_tomorrow() -> None:
    today = with_ella(events=(ClockEvent(dt.time(15, 30), "snack", "Mellis"),))
    assert say(today, day="tomorrow") == "Imorgon hämtar pappa dig ungefär fyra."  # no anchor tomorrow
    assert say(today, "en", day="tomorrow") == "Tomorrow Dad picks you up at about four o'clock."
    assert reply(today, day="tomorrow").pictures == ("avatar/fox", "person/pappa", "clock/16:00")
    assert say(with_ella(asking_child=None), child="Ella", day="tomorrow") == (
        "Imorgon hämtar pappa Ella ungefär fyra."
    )
    # "På fredag" on a Thursday is tomorrow.
    assert say(today, day="friday") == "Imorgon hämtar pappa dig ungefär fyra."
    # Gone home today says nothing about tomorrow.
    gone = on(THURSDAY, checked_out_at=dt.time(12, 0))
    assert say(with_ella(gone), day="tomorrow") == "Imorgon hämtar pappa dig ungefär fyra."


def test_tomorrow_variants() -> None:
    def told(plan: ChildDay, lang: str = "sv", **changes: object) -> str:
        return say(with_ella(tomorrow=plan, **changes), lang, day="tomorrow")

    assert told(on(FRIDAY, pickup_by="farmor")) == "Imorgon hämtar farmor dig."
    assert told(on(FRIDAY, leaves_at=dt.time(14, 0), usual_leaves_at=dt.time(16, 0))) == (
        "Imorgon går du hem ungefär två. Det är lite tidigare än vanligt. "
        "Jag vet inte vem som hämtar dig. Fråga en pedagog!"
    )
    assert told(on(FRIDAY, coming=None)) == "Jag vet inte när du går hem imorgon. Fråga en pedagog!"
    assert told(on(FRIDAY)) == "Jag vet inte när du går hem imorgon. Fråga en pedagog!"
    assert told(on(FRIDAY, coming=False), next_day=MONDAY) == (
        "Imorgon är du inte på förskolan. Du kommer igen på måndag."
    )
    assert told(on(FRIDAY, coming=False), "en", next_day=MONDAY) == (
        "Tomorrow you are not at preschool. You come back on Monday."
    )
    assert told(on(FRIDAY, coming=False), next_day=None) == "Imorgon är du inte på förskolan."
    assert say(
        with_ella(tomorrow=on(FRIDAY, coming=False), next_day=MONDAY, asking_child=None),
        child="Ella",
        day="tomorrow",
    ) == ("Imorgon är Ella inte på förskolan. Ella kommer igen på måndag.")


@pytest.mark.parametrize("day", ["yesterday", "monday", "next_friday", "day_after_tomorrow", "weekend"])
def test_other_days_are_not_known(day: str) -> None:
    for today in (today_at(), today_at(asking_child=ELLA)):
        answer = reply(today, day=day)
        assert answer.asks_for is None
        assert render(answer, "sv").text == (
            "Jag vet bara vem som hämtar idag och imorgon. Fråga en pedagog!"
        )
    assert say(today_at(), "en", child="Ella", day=day) == (
        "I only know who is picking up today and tomorrow. Ask a teacher!"
    )
    # "idag" said out loud is today.
    assert say(today_at(asking_child=ELLA), day="today") == "Idag hämtar mormor dig ungefär halv fyra."


# --- the question path --------------------------------------------------------------------------------

CONTEXT = Context(names=("Ella", "Noah"))


def test_a_question_in_words() -> None:
    reply_ = assistant.ask(lang="sv", today=today_at(), context=CONTEXT, question="vem hämtar Ella?")
    assert (reply_.intent.name, dict(reply_.intent.slots)) == ("pickup", {"child": "Ella"})
    assert reply_.rendered.text == "Idag hämtar mormor Ella ungefär halv fyra."
    english = assistant.ask(
        lang="en", today=today_at(), context=CONTEXT, question="who is picking up Ella tomorrow"
    )
    assert english.rendered.text == "Tomorrow Dad picks Ella up at about four o'clock."
    mine = assistant.ask(
        lang="sv", today=today_at(asking_child=NOAH), context=CONTEXT, question="när ska jag gå hem"
    )
    assert mine.rendered.text == "Idag hämtar Ali dig ungefär två. Det är lite tidigare än vanligt."
    off = assistant.ask(
        lang="sv", today=today_at(modules=("clock",)), context=CONTEXT, question="vem hämtar Ella?"
    )
    assert off.answer.available is False


def test_the_child_answers_who_they_are_by_name() -> None:
    first = assistant.ask(lang="sv", today=today_at(), context=CONTEXT, question="vem hämtar mig?")
    assert first.as_json()["asks_for"] == "child"
    assert first.rendered.text == "Vem är du? Tryck på din bild eller säg ditt namn."
    for words in ("Ella", "jag heter Ella", "elle"):
        then = assistant.ask(
            lang="sv", today=today_at(), context=CONTEXT, question=words, previous=first.intent
        )
        assert (then.intent.name, dict(then.intent.slots)) == ("pickup", {"child": "Ella"}), words
        assert then.rendered.text == "Idag hämtar mormor Ella ungefär halv fyra."
    english = assistant.ask(
        lang="en", today=today_at(), context=CONTEXT, question="my name is Noah", previous=first.intent
    )
    assert (
        english.rendered.text
        == "Today Ali picks Noah up at about two o'clock. That is a bit earlier than usual."
    )


def test_the_follow_up_keeps_the_day_asked_about() -> None:
    first = assistant.ask(lang="sv", today=today_at(), context=CONTEXT, question="vem hämtar mig imorgon")
    assert dict(first.intent.slots) == {"day": "tomorrow"}
    then = assistant.ask(lang="sv", today=today_at(), context=CONTEXT, question="Ella", previous=first.intent)
    assert dict(then.intent.slots) == {"child": "Ella", "day": "tomorrow"}
    assert then.rendered.text == "Imorgon hämtar pappa Ella ungefär fyra."


def test_a_name_alone_is_no_pickup_question_without_the_who_question_before() -> None:
    def then(question: str, previous: Intent | None) -> str:
        return assistant.ask(
            lang="sv", today=today_at(), context=CONTEXT, question=question, previous=previous
        ).intent.name

    asked_who = Intent("pickup")
    assert then("Ella", None) == "out_of_scope"
    assert then("Ella", Intent("lunch")) == "out_of_scope"
    assert then("Ella", Intent("pickup", {"child": "Noah"})) == "out_of_scope"
    assert then("tänd lampan i köket", asked_who) == "out_of_scope"
    assert then("Maja", asked_who) == "out_of_scope"
    # A real question after "Vem är du?" is answered as that question.
    assert then("vad blir det till lunch", asked_who) == "lunch"
    assert then("Ella vad är klockan", asked_who) == "time"  # a name in it does not make it a pickup
