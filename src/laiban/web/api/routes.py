"""The JSON API (`/api/v1`): kiosk devices with a bearer token, staff with their session cookie."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from laiban import assistant, understanding
from laiban.model.intent import INTENTS, SLOTS_OF, Context, Intent
from laiban.model.preschool import LANGUAGES, RTL_LANGUAGES
from laiban.model.today import Today
from laiban.skills import clothes
from laiban.speech import stt
from laiban.store import accounts
from laiban.store.children import children_of, shown_avatar
from laiban.store.db import transaction
from laiban.store.menus import menu_between, rate_meal
from laiban.store.tables import Device, Preschool
from laiban.store.today import TodayCache, local_now
from laiban.store.weather import rate
from laiban.understanding.language import closed_slot_values
from laiban.web.api.speech import AudioUrls, speaks
from laiban.web.errors import ApiError, documented
from laiban.web.kiosk_words import kiosk_words, weekday_letters
from laiban.web.params import RowId
from laiban.web.security import (
    FOR_DEVICES,
    FOR_STAFF,
    CurrentStaff,
    Db,
    client_address,
    for_device,
    settings_of,
)

router = APIRouter(prefix="/api/v1", tags=["v1"])

ERRORS = {
    status: documented(description, code)
    for status, code, description in (
        (400, "bad_request", "The body cannot be read as JSON (not UTF-8)"),
        (401, "unauthorized", "No or invalid credentials"),
        (404, "not_found", "Not found, or not yours"),
        (422, "invalid_request", "Invalid parameters"),
    )
}
NOTHING_TO_RATE = "nothing_to_rate"

# A time of day on the preschool's clock, "08:30:00": no UTC offset, so not JSON Schema's "time" format.
LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d\d:\d\d:\d\d(\.\d+)?$", "description": "Local time, HH:MM:SS"}
    ),
]


class GroupOut(BaseModel):
    id: int
    name: str


class PreschoolOut(BaseModel):
    id: int
    slug: str
    name: str
    timezone: str
    latitude: float | None
    longitude: float | None
    address: str
    modules: list[str]
    languages: list[str]
    day_starts_at: LocalTime
    day_ends_at: LocalTime
    groups: list[GroupOut]

    @classmethod
    def of(cls, preschool: Preschool) -> PreschoolOut:
        return cls(
            id=preschool.id,
            slug=preschool.slug,
            name=preschool.name,
            timezone=preschool.timezone,
            latitude=preschool.latitude,
            longitude=preschool.longitude,
            address=preschool.address,
            modules=preschool.modules,
            languages=preschool.languages,
            day_starts_at=preschool.day_starts_at,
            day_ends_at=preschool.day_ends_at,
            groups=[GroupOut(id=group.id, name=group.name) for group in preschool.groups],
        )


class PreschoolPage(BaseModel):
    items: list[PreschoolOut]
    total: int
    limit: int
    offset: int


class PairRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="The pairing code shown in the admin.")


class DeviceOut(BaseModel):
    id: int
    name: str


class PairResponse(BaseModel):
    token: str = Field(description="The device token: send it as `Authorization: Bearer …`. Shown once.")
    device: DeviceOut
    preschool: PreschoolOut


class SpeechOut(BaseModel):
    tts: bool = Field(description="The server speaks (audio URLs in answers); else the browser's voice.")
    stt: bool = Field(description="The server listens (POST /api/v1/listen); else the talk button is hidden.")


class KioskOut(BaseModel):
    device: DeviceOut
    preschool: PreschoolOut
    spoken_languages: list[str] = Field(description="The preschool's languages Laiban answers in.")
    language_names: dict[str, str] = Field(description="Each language's name in that language.")
    rtl_languages: list[str] = Field(description="Languages written right to left (mirror the layout).")
    words: dict[str, dict[str, str]] = Field(
        description="The kiosk's own words (button names, offline sentences) in each spoken language."
    )
    weekday_letters: dict[str, list[str]] = Field(
        description="The week strip's one-letter weekday names in each spoken language, Monday first."
    )
    version: str = Field(description="Changes when the server is updated: the kiosk reloads itself.")
    idle_seconds: int = Field(description="Back to the home screen after this long untouched.")
    speech: SpeechOut


@router.post(
    "/devices/pair",
    summary="Pair a kiosk: exchange the one-time code for a device token",
    responses={
        400: documented("Unknown or expired code, or a body that is not JSON", "invalid_pairing_code"),
        422: ERRORS[422],
        429: documented("Too many tries", "too_many_requests"),
    },
)
def pair_device(body: PairRequest, request: Request, db: Db) -> PairResponse:
    settings = settings_of(request)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    keys = [f"pair-client:{client_address(request)}"]
    try:
        accounts.check_throttle(db, keys, settings.login_max_failures * 2, window)
    except accounts.TooManyAttempts as exc:
        raise ApiError(429, "Too many wrong pairing codes; wait a while and try again.") from exc
    paired = accounts.pair_device(db, body.code)
    if paired is None:
        with transaction(request.app.state.sessions) as own:  # kept although this request fails
            accounts.record_failure(own, keys)
        raise ApiError(
            400,
            "The pairing code is unknown, used or expired; create a new one in the admin.",
            code="invalid_pairing_code",
        )
    device, token = paired
    return PairResponse(
        token=token,
        device=DeviceOut(id=device.id, name=device.name),
        preschool=PreschoolOut.of(device.preschool),
    )


@router.get(
    "/kiosk",
    openapi_extra=FOR_DEVICES,
    summary="The paired kiosk's device, preschool and settings",
    responses={401: ERRORS[401]},
)
async def kiosk(request: Request) -> KioskOut:
    def work(db: Session, device: Device) -> KioskOut:
        preschool = device.preschool
        spoken = assistant.speakable(tuple(preschool.languages))
        return KioskOut(
            device=DeviceOut(id=device.id, name=device.name),
            preschool=PreschoolOut.of(preschool),
            spoken_languages=list(spoken),
            language_names={code: LANGUAGES.get(code, code) for code in preschool.languages},
            rtl_languages=sorted(RTL_LANGUAGES & set(preschool.languages)),
            words={lang: kiosk_words(lang) for lang in spoken},
            weekday_letters={lang: list(weekday_letters(lang)) for lang in spoken},
            version=request.app.state.version,
            idle_seconds=settings_of(request).kiosk_idle_seconds,
            speech=SpeechOut(tts=speaks(request), stt=stt.listening(settings_of(request).stt_model_dir)),
        )

    return await for_device(request, work)


# Intent and slot names and slot values as a kiosk may send them: bounded, and text (a lone surrogate,
# which JSON can carry, is refused: it can be neither spoken nor sent back).
Name = Annotated[str, Field(max_length=40)]
Slots = dict[Name, Annotated[str, Field(max_length=100)]]


class PreviousQuestion(BaseModel):
    intent: Name
    slots: Slots = Field(default_factory=dict, max_length=10)


class AskRequest(BaseModel):
    """Either words (`text`) or a tapped picture (`intent` with `slots`)."""

    text: str | None = Field(default=None, max_length=500, description="The question as heard or typed.")
    intent: Name | None = Field(default=None, description="A tapped picture's intent, instead of words.")
    slots: Slots = Field(default_factory=dict, max_length=10)
    lang: str | None = Field(
        default=None, max_length=10, description="Default: the preschool's first language."
    )
    previous: PreviousQuestion | None = Field(
        default=None, description="The last question's intent, so that 'say it again' can repeat it."
    )
    child: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The child who tapped their own picture (an id from GET /api/v1/children).",
    )


class AskResponse(BaseModel):
    question: str | None
    lang: str
    intent: str
    slots: dict[str, str]
    confidence: float
    yes_no: bool
    text: str
    speech: str
    captions: list[str]
    speech_captions: list[str] = Field(description="Each caption's spoken form, in the same order.")
    pictures: list[str]
    available: bool
    asks_for: str | None = Field(
        description='"child": Laiban needs to know who asks; show the avatars, ask again with `child`.'
    )
    audio: str | None = Field(
        default=None,
        description="The answer spoken (GET it with the device token: audio/wav); null when the server has "
        "no voice for the language: then the captions (and the browser's voice).",
    )


def _intent(name: str, slots: dict[str, str], field: str) -> Intent:
    if name not in INTENTS:
        raise ApiError(422, f"{field}: unknown intent {name!r}.", code="invalid_request")
    unknown = sorted(set(slots) - SLOTS_OF[name])
    if unknown:
        raise ApiError(422, f"{field}: the intent {name} has no slot {unknown[0]!r}.", code="invalid_request")
    # A closed slot's value is said back to the child ("Jag kan inte prata … här än"): only known values.
    for slot, value in slots.items():
        known = closed_slot_values().get(slot)
        if known is not None and value not in known:
            message = f"{field}: {value[:40]!r} is not a value of the slot {slot}."
            raise ApiError(422, message, code="invalid_request")
    return Intent(name, slots)


def _today(request: Request, db: Session, device: Device) -> tuple[Today, Context]:
    """The kiosk group's Today (built at most every few seconds, see TodayCache) at this moment."""
    preschool = device.preschool
    cache: TodayCache = request.app.state.today_cache
    return cache.get(db, preschool, local_now(preschool), device.group_id)


@router.post(
    "/ask",
    openapi_extra=FOR_DEVICES,
    summary="Ask Laiban: a question in words or a tapped picture",
    responses={
        400: ERRORS[400],
        401: ERRORS[401],
        404: documented("No such child at this kiosk", "not_found"),
        422: ERRORS[422],
    },
)
async def ask(body: AskRequest, request: Request) -> AskResponse:
    return await for_device(request, lambda db, device: reply_to(body, request, db, device))


def reply_to(body: AskRequest, request: Request, db: Session, device: Device) -> AskResponse:
    """Laiban's answer to the kiosk's question (POST /ask; POST /listen with the words it heard)."""
    preschool = device.preschool
    lang = body.lang or preschool.languages[0]
    if lang not in preschool.languages:
        raise ApiError(
            422, f"lang: {lang!r} is not one of this preschool's languages.", code="invalid_request"
        )
    if (body.text is None) == (body.intent is None):
        raise ApiError(422, "Send either text or intent.", code="invalid_request")
    if lang not in assistant.speakable((lang,)):
        raise ApiError(422, f"lang: Laiban cannot speak {lang!r} yet.", code="invalid_request")
    if body.text is not None and lang not in understanding.available_languages():
        raise ApiError(
            422,
            f"lang: Laiban cannot understand {lang!r} yet; tap a picture instead.",
            code="invalid_request",
        )
    previous = _intent(body.previous.intent, body.previous.slots, "previous") if body.previous else None
    tapped = _intent(body.intent, body.slots, "intent") if body.intent is not None else None
    today, context = _today(request, db, device)
    if body.child is not None and body.child not in {child.id for child in today.children}:
        raise ApiError(404, "There is no such child at this kiosk.")
    asked = replace(today, asking_child=body.child)
    reply = assistant.ask(
        lang=lang, today=asked, context=context, question=body.text, intent=tapped, previous=previous
    )
    audio = AudioUrls(request, db, device.preschool).of(reply, asked)
    return AskResponse(**reply.as_json(), audio=audio)


class ChildOut(BaseModel):
    id: int
    name: str = Field(description="The first name (display name) staff entered.")
    avatar: str = Field(description='The picture the child recognises: "cat", … or "upload/<sha256>".')


@router.get(
    "/children",
    openapi_extra=FOR_DEVICES,
    summary="The children the kiosk shows for 'who am I?' (its group's, or the preschool's)",
    responses={401: ERRORS[401]},
)
async def kiosk_children(request: Request) -> list[ChildOut]:
    def work(db: Session, device: Device) -> list[ChildOut]:
        preschool = device.preschool
        if "pickup" not in preschool.modules:
            return []
        return [
            ChildOut(id=child.id, name=child.first_name, avatar=shown_avatar(preschool, child))
            for child in children_of(db, preschool.id, device.group_id)
        ]

    return await for_device(request, work)


class AnswersOut(BaseModel):
    """Today's answers to the tapped pictures, for a kiosk that loses its network during the day."""

    date: dt.date
    lang: str
    answers: dict[str, AskResponse] = Field(description="intent → the answer now (pickup is never included).")
    time: dict[str, AskResponse] = Field(
        description='"HH:MM" → "what time is it", every 5 minutes of the day.'
    )


@router.get(
    "/answers",
    openapi_extra=FOR_DEVICES,
    summary="Today's answers to the tapped pictures, for offline use (no child's data)",
    responses={401: ERRORS[401], 422: ERRORS[422]},
)
async def answers(request: Request, lang: Annotated[str | None, Query(max_length=10)] = None) -> AnswersOut:
    def work(db: Session, device: Device) -> AnswersOut:
        preschool = device.preschool
        spoken = lang or preschool.languages[0]
        if spoken not in preschool.languages or spoken not in assistant.speakable((spoken,)):
            raise ApiError(422, f"lang: Laiban cannot answer in {spoken!r} here.", code="invalid_request")
        today, context = _today(request, db, device)
        # No children in it: the offline copy stays on the tablet all day and must hold no personal data.
        offline = assistant.offline_answers(today, context, spoken)
        audio = AudioUrls(request, db, preschool)

        def out(answered: assistant.Answered) -> AskResponse:
            # Personal or not is judged with the group's children (the answers were made without them).
            moment = replace(answered.today, children=today.children)
            return AskResponse(**answered.reply.as_json(), audio=audio.of(answered.reply, moment))

        return AnswersOut(
            date=offline.today.now.date(),
            lang=spoken,
            answers={name: out(answered) for name, answered in offline.answers.items()},
            time={moment: out(answered) for moment, answered in offline.time.items()},
        )

    return await for_device(request, work)


class RatingRequest(BaseModel):
    rating: Literal["up", "down"] = Field(description="The child's thumbs up or down for the clothes shown.")


@router.post(
    "/clothes/rating",
    openapi_extra=FOR_DEVICES,
    status_code=204,
    summary="A child rates the clothes suggestion shown now",
    responses={
        400: ERRORS[400],
        401: ERRORS[401],
        409: documented("No suggestion to rate (the weather is unknown)", NOTHING_TO_RATE),
        422: ERRORS[422],
    },
)
async def rate_clothes(body: RatingRequest, request: Request) -> Response:
    def work(db: Session, device: Device) -> Response:
        preschool = device.preschool
        suggested = clothes.suggestion(_today(request, db, device)[0])
        if suggested is None:
            raise ApiError(409, "There is no clothes suggestion to rate right now.", code=NOTHING_TO_RATE)
        rate(db, preschool.id, suggested[0], suggested[1], up=body.rating == "up")
        return Response(status_code=204)

    return await for_device(request, work)


class MealRatingRequest(BaseModel):
    rating: int = Field(ge=1, le=4, description="1 = did not like it … 4 = loved it (the four faces).")


@router.post(
    "/lunch/rating",
    openapi_extra=FOR_DEVICES,
    status_code=204,
    summary="Children rate today's lunch (no child identity is stored)",
    responses={
        400: ERRORS[400],
        401: ERRORS[401],
        409: documented("No lunch registered today", NOTHING_TO_RATE),
        422: ERRORS[422],
    },
)
async def rate_lunch(body: MealRatingRequest, request: Request) -> Response:
    def work(db: Session, device: Device) -> Response:
        preschool = device.preschool
        today = local_now(preschool).date()
        served = menu_between(db, preschool.id, today, today).get((today, "lunch"))
        if not served:
            raise ApiError(409, "There is no lunch registered today to rate.", code=NOTHING_TO_RATE)
        rate_meal(db, preschool.id, today, served[0].text, body.rating)
        return Response(status_code=204)

    return await for_device(request, work)


class EventOut(BaseModel):
    at: LocalTime
    kind: str
    title: str


class WeekdayOut(BaseModel):
    date: dt.date
    weekday: int = Field(description="0 = Monday … 6 = Sunday")
    colour: str
    today: bool


class TodayOut(BaseModel):
    """What the kiosk draws without asking: the clock face with the day's events and the week strip."""

    now: dt.datetime
    week_number: int
    day_starts_at: LocalTime
    day_ends_at: LocalTime
    events: list[EventOut]
    week: list[WeekdayOut]


@router.get(
    "/today",
    openapi_extra=FOR_DEVICES,
    summary="Today's schedule and the week strip for the kiosk",
    responses={401: ERRORS[401]},
)
async def today(request: Request) -> TodayOut:
    def work(db: Session, device: Device) -> TodayOut:
        preschool = device.preschool
        day = _today(request, db, device)[0]
        now = day.now
        monday = now.date() - dt.timedelta(days=now.weekday())
        return TodayOut(
            now=now,
            week_number=now.isocalendar().week,
            day_starts_at=day.day_starts_at,
            day_ends_at=day.day_ends_at,
            events=[EventOut(at=e.at, kind=e.kind, title=e.title) for e in day.events],
            week=[
                WeekdayOut(
                    date=monday + dt.timedelta(days=i),
                    weekday=i,
                    colour=preschool.weekday_colours[i],
                    today=i == now.weekday(),
                )
                for i in range(7)
            ],
        )

    return await for_device(request, work)


@router.get(
    "/preschools",
    openapi_extra=FOR_STAFF,
    summary="The preschools the signed-in staff member may see",
    responses={401: ERRORS[401], 422: ERRORS[422]},
)
def list_preschools(
    staff: CurrentStaff,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PreschoolPage:
    visible = select(Preschool).where(Preschool.organisation_id == staff.access.organisation_id)
    if not staff.access.is_org_admin:
        visible = visible.where(Preschool.id.in_(staff.access.roles))
    total = db.scalar(select(func.count()).select_from(visible.subquery())) or 0
    rows = db.scalars(visible.order_by(Preschool.name, Preschool.id).limit(limit).offset(offset))
    return PreschoolPage(items=[PreschoolOut.of(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/preschools/{preschool_id}",
    openapi_extra=FOR_STAFF,
    summary="One preschool",
    responses={401: ERRORS[401], 404: ERRORS[404], 422: ERRORS[422]},
)
def get_preschool(preschool_id: RowId, staff: CurrentStaff, db: Db) -> PreschoolOut:
    preschool = db.get(Preschool, preschool_id)
    if preschool is None or staff.role_at(preschool) is None:
        raise ApiError(404, "There is no such preschool.")
    return PreschoolOut.of(preschool)
