"""Skills: one module per topic, each a pure `answer(intent, today) -> Answer` (no clock, database or
network: everything comes in `Today`). `SKILLS` maps intent names to the skill that answers them; an
intent without a skill gets the honest "not yet" answer from `conversation.unavailable`."""

from __future__ import annotations

from collections.abc import Callable

from laiban.model.intent import Answer, Intent
from laiban.model.today import Today
from laiban.skills import activities, calendar, clock, clothes, conversation, lunch, pickup, weather

Skill = Callable[[Intent, Today], Answer]

SKILLS: dict[str, Skill] = {
    "weather": weather.answer,
    "clothes": clothes.answer,
    "lunch": lunch.answer,
    "pickup": pickup.answer,
    "time": clock.time,
    "schedule": clock.schedule,
    "date": clock.date,
    "calendar": calendar.answer,
    "activities": activities.answer,
    "about": conversation.about,
    "greeting": conversation.greeting,
    "language": conversation.language,
    "out_of_scope": conversation.out_of_scope,
    "not_heard": conversation.not_heard,
}
