"""POST /api/v1/listen: a kiosk's recording → the words in it → Laiban's answer, like POST /api/v1/ask.

The way of a recording, so that the CPU work never holds a database session:
1. one short trip under the database gate: the device token, the language, and the preschool's words
   for the recogniser (children's first names, today's events, activities and dishes) from the Today the
   kiosk's questions use anyway (cached per preschool for a few seconds);
2. the body, read as it streams in and refused past 2 MB;
3. decoding (PyAV, bounded to 15 s of sound) in the thread pool;
4. recognising in the thread pool, one recording at a time per process, on its share of the cores (cores ÷
   workers threads: two at once on the same cores would each take twice as long); a few wait their turn,
   more get 503 with Retry-After;
5. a second short trip: the answer to the words (`reply_to`, exactly as POST /ask), or, when no words
   were heard, Laiban's honest "I didn't hear anything" (intent `not_heard`, 200).

Recordings live in memory for the length of the request and are never stored; the log says how many
characters were heard, never what.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, ValidationError
from sqlalchemy.orm import Session

from laiban import assistant, understanding
from laiban.model.intent import NOT_HEARD
from laiban.speech import audio, stt
from laiban.store.tables import Device
from laiban.web.api.routes import (
    ERRORS,
    AskRequest,
    AskResponse,
    PreviousQuestion,
    _intent,
    _today,
    reply_to,
)
from laiban.web.errors import ApiError, documented
from laiban.web.security import FOR_DEVICES, for_device, settings_of

router = APIRouter(prefix="/api/v1", tags=["v1"])
log = logging.getLogger("laiban.listen")

LARGEST_BYTES = 2 * 1024 * 1024
LONGEST_SECONDS = audio.LONGEST_SECONDS
MOST_WAITING = 3  # recordings waiting for the recogniser; one more gets 503 (each waits ~1 s per turn)
RETRY_AFTER_SECONDS = 2
SHORTEST_SECONDS = 0.1
# Bodies that are plainly not a recording, refused before reading them (everything else is sniffed).
NOT_RECORDINGS = ("application/json", "application/x-www-form-urlencoded", "multipart/", "text/")


class ListenResponse(AskResponse):
    transcript: str = Field(description='What Laiban heard ("" when nothing): also the answer\'s `question`.')


class _Turns:
    """One recording recognised at a time (per process and event loop), at most MOST_WAITING waiting."""

    def __init__(self) -> None:
        self.semaphore = asyncio.Semaphore(1)
        self.waiting = 0


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


def _turns_here() -> _Turns:
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns()
    return turns


def _recognizer(request: Request) -> stt.Recognizer:
    try:
        recognizer = stt.recognizer_for(settings_of(request).stt_model_dir, settings_of(request).workers)
    except stt.RecognizerUnavailable as exc:
        raise ApiError(503, "Laiban cannot listen right now; the server's log says why.") from exc
    if recognizer is None:
        raise ApiError(
            501,
            "This server does not listen: no speech-to-text model is configured (LAIBAN_STT_MODEL_DIR).",
            code="not_listening",
        )
    return recognizer


def _previous(raw: str | None) -> PreviousQuestion | None:
    if raw is None:
        return None
    try:
        previous = PreviousQuestion.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(422, 'previous: send the last answer as JSON: {"intent": "…", "slots": {…}}.') from exc
    if previous.intent == NOT_HEARD:  # "say it again" after "I didn't hear": nothing to repeat
        return None
    _intent(previous.intent, previous.slots, "previous")  # checked now, not after listening
    return previous


async def _body(request: Request) -> bytes:
    """The recording, refused (413) as soon as it is larger than LARGEST_BYTES."""
    too_large = ApiError(
        413, f"The recording is larger than {LARGEST_BYTES // (1024 * 1024)} MB.", code="too_large"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > LARGEST_BYTES:
        raise too_large
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > LARGEST_BYTES:
            raise too_large
    return bytes(received)


def _decode(body: bytes) -> audio.Decoded:
    try:
        return audio.decode(body, longest=LONGEST_SECONDS)
    except audio.NotAudio as exc:
        raise ApiError(415, str(exc), code=exc.code) from exc
    except audio.TooLong as exc:
        raise ApiError(413, str(exc), code=exc.code) from exc
    except audio.AudioError as exc:
        raise ApiError(422, str(exc), code=exc.code) from exc


def _transcribe(recognizer: stt.Recognizer, decoded: audio.Decoded, lang: str, prompt: str) -> stt.Transcript:
    if decoded.seconds < SHORTEST_SECONDS:  # a tap and nothing more: no sound to listen to
        return stt.Transcript("", decoded.seconds, 0.0, lang, 0.0)
    try:
        return recognizer.transcribe(decoded.samples, lang, prompt)
    except stt.RecognizerUnavailable as exc:
        raise ApiError(503, "Laiban cannot listen right now; the server's log says why.") from exc


@router.post(
    "/listen",
    summary="Ask Laiban out loud: a short recording (WebM/Opus, Ogg/Opus, MP4/AAC or WAV; ≤ 15 s, ≤ 2 MB)",
    description=(
        "The body is the recording itself (as the browser's MediaRecorder made it; the format is recognised "
        "from the content). The answer is that of POST /api/v1/ask to the words heard, plus `transcript`. "
        'Nothing heard: 200 with intent "not_heard" ("I didn\'t hear anything").'
    ),
    responses={
        401: ERRORS[401],
        413: documented("Larger than 2 MB, or longer than 15 seconds", "too_large"),
        415: documented("Not a recording in a format Laiban reads", "not_audio"),
        422: documented(
            "Empty or damaged recording, or an invalid language or previous answer", "damaged_audio"
        ),
        501: documented(
            "No speech-to-text model is configured: the kiosk hides its talk button", "not_listening"
        ),
        503: documented("Busy with other recordings (see Retry-After), or the model does not work", "busy"),
    },
    openapi_extra={
        **FOR_DEVICES,
        "requestBody": {
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("audio/webm", "audio/ogg", "audio/mp4", "audio/wav")
            },
        },
    },
)
async def listen(
    request: Request,
    lang: Annotated[
        str | None, Query(max_length=10, description="The kiosk's language; default the preschool's first.")
    ] = None,
    previous: Annotated[
        str | None,
        Query(
            max_length=500,
            description='The last answer as JSON, {"intent": "pickup", "slots": {"day": "today"}}, so that '
            '"say it again" and a name after "who are you?" work as in POST /ask.',
        ),
    ] = None,
) -> ListenResponse:
    def prepare(db: Session, device: Device) -> tuple[str, str]:
        """The language to listen for and the preschool's words (a short trip: Today is cached)."""
        preschool = device.preschool
        spoken = lang or preschool.languages[0]
        if spoken not in preschool.languages or spoken not in assistant.speakable((spoken,)):
            raise ApiError(422, f"lang: Laiban cannot answer in {spoken!r} here.", code="invalid_request")
        if spoken not in understanding.available_languages():
            raise ApiError(
                422,
                f"lang: Laiban cannot understand {spoken!r} yet; tap a picture instead.",
                code="invalid_request",
            )
        today, context = _today(request, db, device)
        return spoken, stt.vocabulary(today, context)

    spoken, prompt = await for_device(request, prepare)
    recognizer = _recognizer(request)
    before = _previous(previous)
    kind = request.headers.get("content-type", "").lower()
    if kind.startswith(NOT_RECORDINGS):
        raise ApiError(
            415,
            "Send the recording itself as the body (audio/webm, audio/ogg, audio/mp4 or audio/wav), "
            "not a form, JSON or text.",
            code="not_audio",
        )
    body = await _body(request)
    started = time.perf_counter()
    decoded = await run_in_threadpool(_decode, body)
    del body  # the recording is not kept a moment longer than needed

    turns = _turns_here()
    if turns.waiting >= MOST_WAITING:
        raise ApiError(
            503,
            "Laiban is listening to other children; try again in a moment.",
            code="busy",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    turns.waiting += 1
    try:
        await turns.semaphore.acquire()
    finally:
        turns.waiting -= 1
    try:
        # Shielded: a kiosk that hangs up does not free the turn while its recording is still recognised.
        with anyio.CancelScope(shield=True):
            heard = await run_in_threadpool(_transcribe, recognizer, decoded, spoken, prompt)
    finally:
        turns.semaphore.release()
    words = heard.text[:500] if heard.heard else ""
    log.info(
        "listen: %s/%s %.1f s, %.1f s speech, heard %d characters in %.0f ms",
        decoded.container,
        decoded.codec,
        heard.duration,
        heard.duration_after_vad,
        len(words),
        (time.perf_counter() - started) * 1000,
    )
    question = AskRequest(text=words, lang=spoken, previous=before)
    answer = await for_device(request, lambda db, device: reply_to(question, request, db, device))
    return ListenResponse(**answer.model_dump(), transcript=words)
