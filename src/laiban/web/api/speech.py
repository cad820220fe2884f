"""Laiban's voice for the kiosk: every answer carries an `audio` URL, `/api/v1/speech/<token>`, and
GET on it returns the answer spoken (audio/wav).

The token is the spoken text sealed (laiban.speech.tokens): URLs land in logs and may not show a child's
name. The kiosk fetches the audio with its device token, like every kiosk route. The synthesis runs outside
the database gate. Personal answers (a pickup, a child who said who they are, a child's name in the text)
are never written to the disk cache and are sent with `Cache-Control: no-store`; the others are cached on
disk (laiban.speech.cache) and may be kept by the kiosk for the day.

WAV, not Ogg/Opus: espeak says a sentence in about 6 ms and Opus encoding would add 15–60 ms to every
uncached answer, WAV plays in every browser (Safari's Ogg support is uncertain), and on a preschool's
network 44 KB per second of speech is nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from laiban.speech.spoken import Speaker
from laiban.speech.tokens import InvalidToken, Said, Tokens
from laiban.speech.tts import MAX_TEXT, Spoken, TtsError, Voice
from laiban.web.errors import ApiError, documented
from laiban.web.security import FOR_DEVICES, for_device, settings_of

if TYPE_CHECKING:
    from laiban.assistant import Reply
    from laiban.model.today import Today
    from laiban.store.tables import Preschool
    from laiban.store.today import TodayCache

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["v1"])

PATH = "/api/v1/speech/"
MAX_AGE = 24 * 3600  # the kiosk may keep an answer's audio (not a personal one) for the day


def voice_of(request: Request) -> Voice | None:
    """The app's voice (laiban.speech.tts.voice_for, made when the app starts), if it speaks at all."""
    voice: Voice | None = getattr(request.app.state, "voice", None)
    return voice if voice is not None and voice.engine is not None else None


def tokens_of(request: Request) -> Tokens:
    tokens: Tokens | None = getattr(request.app.state, "speech_tokens", None)
    if tokens is None:
        tokens = request.app.state.speech_tokens = Tokens(settings_of(request).secret_key)
    return tokens


class AudioUrls:
    """The audio URLs of one request's answers (the preschool's pronunciation tables read once). What is
    said comes from laiban.speech.spoken.Speaker, as in `laiban prerender`: the same text, the same key."""

    def __init__(self, request: Request, db: Session, preschool: Preschool):
        self.voice = voice_of(request)
        self.request = request
        self.db = db
        self.preschool = preschool
        cache: TodayCache = request.app.state.today_cache
        self.speaker = Speaker(
            self.voice,
            table=lambda lang: cache.pronunciations(db, preschool.id, lang),
            rate=preschool.speech_rate,
            pitch=preschool.speech_pitch,
        )

    def of(self, reply: Reply, today: Today) -> str | None:
        """The URL of `reply` spoken, or None: no server voice, no voice for the language, nothing to say
        or too long (the kiosk then uses the captions and the browser's voice)."""
        spoken = self.speaker.spoken(reply.intent.name, reply.rendered.speech, reply.rendered.lang, today)
        if spoken is None or self.voice is None or self.voice.name is None:
            return None
        now = today.now
        # About nobody: one URL for the whole day (the kiosk keeps the audio by URL); personal: this second.
        issued = now if spoken.personal else now.replace(hour=0, minute=0, second=0, microsecond=0)
        said = Said(
            text=spoken.text,
            lang=spoken.lang,
            rate=spoken.rate,
            pitch=spoken.pitch,
            engine=self.voice.name,
            personal=spoken.personal,
            preschool_id=self.preschool.id,
            issued=int(issued.timestamp()),
        )
        return PATH + tokens_of(self.request).seal(said)


def _not_found() -> ApiError:
    return ApiError(404, "There is no such audio, or it has expired; ask again.")


@router.head("/speech/{token}", include_in_schema=False)
@router.get(
    "/speech/{token}",
    openapi_extra=FOR_DEVICES,
    summary="An answer spoken (the `audio` URL of an answer)",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "The answer spoken: WAV, 16-bit mono"},
        304: {"description": "Not modified (If-None-Match)"},
        401: documented("No or invalid device token", "unauthorized"),
        404: documented("Not an audio URL of this server for this preschool, or expired", "not_found"),
        413: documented("Too much text to speak at once", "too_large"),
        422: documented("Invalid parameters", "invalid_request"),
        503: documented("The voice failed", "unavailable"),
    },
)
async def speech(token: str, request: Request) -> Response:
    preschool_id = await for_device(request, lambda _db, device: device.preschool_id)
    try:
        said = tokens_of(request).open(token)
    except InvalidToken:
        raise _not_found() from None
    voice = voice_of(request)
    if said.preschool_id != preschool_id or voice is None or said.engine != voice.name:
        raise _not_found()
    if len(said.text) > MAX_TEXT:
        raise ApiError(413, f"Laiban speaks at most {MAX_TEXT} characters at once.", code="too_large")
    if not voice.can_speak(said.lang):
        raise _not_found()
    spoken = Spoken(said.text, said.lang, said.rate, said.pitch, said.personal)
    etag = f'"{tokens_of(request).fingerprint(voice.key(spoken))}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-store" if said.personal else f"private, max-age={MAX_AGE}",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    try:
        data, source = await run_in_threadpool(voice.audio, spoken)
    except TtsError as exc:
        log.warning("The voice failed (%s, %d characters): %s", said.lang, len(said.text), exc)
        raise ApiError(503, "Laiban's voice failed; the kiosk shows the answer instead.") from exc
    headers["X-Laiban-Audio"] = source  # hit, miss or personal (bench/voice.py counts them)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return Response(status_code=200, headers=headers, media_type="audio/wav")
    return Response(data, headers=headers, media_type="audio/wav")


def speaks(request: Request) -> bool:
    """Whether the server speaks (`speech.tts` in GET /api/v1/kiosk)."""
    return voice_of(request) is not None
