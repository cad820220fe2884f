"""The voice page of a preschool's admin ("Röst och uttal"): how fast and how high Laiban speaks, and
the pronunciation table of each of the preschool's languages (a word the voice says wrong → a spelling
that sounds right).

Roles: the speaking rate and pitch are preschool settings, so only the preschool's admins change them
(pedagogues see them, as on the settings page). The pronunciation table is everyday content, like the
children's wording of a dish or the clothes for the weather: the pedagogues hear the tablet every day and
know how the children's names are said, so they edit it too.

"Lyssna" plays a sentence (or what staff typed) with the saved rate, pitch and pronunciation table, through
the server's voice (laiban.speech.tts); without a server voice the page leaves it out. A warning shows when
the audio cache cannot be written (laiban.speech.cache.cache_problem).

What staff type to hear may hold a child's name, and URLs end up in proxies' logs and the browser's history.
So the "Prova" form is a POST (to /try, answered with the page itself, not a redirect), and the audio's URL
carries the text sealed as a speech token (laiban.speech.tokens), never in plain.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laiban.model.preschool import Role
from laiban.speech.cache import cache_problem
from laiban.speech.pronounce import apply
from laiban.speech.tokens import InvalidToken, Said
from laiban.speech.tts import MAX_TEXT, Spoken, TtsError, Voice, speakable_text
from laiban.store.pronunciations import (
    DEFAULT_PITCH,
    MAX_ENTRIES,
    MAX_PITCH,
    MAX_SPOKEN_LENGTH,
    MAX_WRITTEN_LENGTH,
    MIN_PITCH,
    RATES,
    VoiceError,
    add_pronunciation,
    delete_pronunciation,
    entries_of,
    pronunciations_for,
    set_speech,
    update_pronunciation,
)
from laiban.store.tables import Preschool
from laiban.web.admin.render import Form, form_text, render
from laiban.web.api.speech import tokens_of, voice_of
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import CsrfChecked, CurrentStaff, Db, Staff, preschool_for_staff, settings_of

router = APIRouter(prefix="/admin/p/{slug}/voice", include_in_schema=False)

# ?saved=… → the confirmation shown after a change.
CONFIRMATIONS = {
    "speech": "Rösten är sparad.",
    "added": "Ordet är tillagt.",
    "updated": "Ändringen är sparad.",
    "deleted": "Ordet är borttaget.",
}


# What "Lyssna" says when staff typed nothing, in the languages Laiban has sentences in.
SAMPLES = {
    "sv": "Hej! Jag heter Laiban. Välkommen till {name}.",
    "en": "Hello! My name is Laiban. Welcome to {name}.",
}
MAX_TRIED = MAX_SPOKEN_LENGTH  # characters staff may type to hear


def _sample(preschool: Preschool, lang: str) -> str:
    return SAMPLES[lang].format(name=preschool.name) if lang in SAMPLES else ""


def _preview_url(preschool: Preschool, lang: str, token: str = "") -> str:
    """The audio of the language's sample, or of what staff typed, sealed in `token`."""
    query = {"lang": lang, "t": token} if token else {"lang": lang}
    return f"/admin/p/{preschool.slug}/voice/preview?{urlencode(query)}"


def _spoken_text(db: Db, preschool: Preschool, lang: str, text: str) -> str:
    """`text` as the voice reads it: the preschool's pronunciation fixes applied, emoji and markup gone."""
    return speakable_text(apply(text, pronunciations_for(db, preschool.id, lang)))


def _sealed(request: Request, preschool: Preschool, voice: Voice, lang: str, text: str) -> str:
    """A speech token of what staff typed (already spoken text), personal: it may hold a child's name."""
    said = Said(
        text=text,
        lang=lang,
        rate=preschool.speech_rate,
        pitch=preschool.speech_pitch,
        engine=voice.name or "",
        personal=True,
        preschool_id=preschool.id,
        issued=int(time.time()),
    )
    return tokens_of(request).seal(said)


def _back(preschool: Preschool, saved: str, lang: str | None = None) -> RedirectResponse:
    """Back to the page, to the language's list when a word changed (its confirmation is shown there)."""
    where = f"&lang={lang}#uttal-{lang}" if lang else ""
    return RedirectResponse(f"/admin/p/{preschool.slug}/voice?saved={saved}{where}", status_code=303)


def _page(
    request: Request,
    db: Db,
    preschool: Preschool,
    staff: Staff,
    errors: list[str] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    entered = entered or {}
    speech_form = entered.get("form") == "speech"
    voice = voice_of(request)
    settings = settings_of(request)
    # "Lyssna" under each language the voice speaks: what staff typed (POST /try), or the sample.
    trying = entered.get("form") == "try"
    listen: dict[str, dict[str, str | None]] = {}
    for lang in preschool.languages:
        if voice is not None and voice.can_speak(lang):
            mine = trying and entered.get("lang") == lang
            listen[lang] = {
                "text": entered["text"] if mine else _sample(preschool, lang),
                "url": entered.get("url") if mine else None,
            }
    sample_lang = next((lang for lang in listen if lang in SAMPLES), None)
    rates = dict(RATES)
    if preschool.speech_rate not in rates:  # set some other way (an older choice, the database)
        rates[preschool.speech_rate] = "Nuvarande"
    return render(
        request,
        "voice.html",
        {
            "preschool": preschool,
            "can_edit_speech": staff.role_at(preschool) is Role.ADMIN,
            "rates": sorted(rates.items()),
            "rate": entered["rate"] if speech_form else str(preschool.speech_rate),
            "pitch": entered["pitch"] if speech_form else str(preschool.speech_pitch),
            "entries": entries_of(db, preschool.id),
            "errors": errors or [],
            "entered": entered,
            "saved": CONFIRMATIONS.get(request.query_params.get("saved", "")),
            "saved_lang": request.query_params.get("lang"),
            "listen": listen,
            "sample_url": _preview_url(preschool, sample_lang) if sample_lang else None,
            "cache_problem": cache_problem(settings.data_dir) if voice and settings.audio_cache_mb else None,
            "limits": {
                "min_pitch": MIN_PITCH,
                "max_pitch": MAX_PITCH,
                "default_pitch": DEFAULT_PITCH,
                "written": MAX_WRITTEN_LENGTH,
                "spoken": MAX_SPOKEN_LENGTH,
                "entries": MAX_ENTRIES,
            },
        },
        status=400 if errors else 200,
    )


@router.get("", response_class=HTMLResponse)
def voice_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _page(request, db, preschool_for_staff(db, staff, slug), staff)


@router.post("/speech", dependencies=[CsrfChecked])
def save_speech(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    rate, pitch = form_text(form, "rate"), form_text(form, "pitch")
    try:
        set_speech(db, preschool, rate=rate, pitch=pitch)
    except VoiceError as exc:
        return _page(
            request, db, preschool, staff, exc.errors, {"form": "speech", "rate": rate, "pitch": pitch}
        )
    return _back(preschool, "speech")


@router.post("/pronunciations", dependencies=[CsrfChecked])
def add_entry(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    lang, written, spoken = form_text(form, "lang"), form_text(form, "written"), form_text(form, "spoken")
    try:
        add_pronunciation(db, preschool.id, lang, written, spoken)
    except VoiceError as exc:
        entered = {"form": "add", "lang": lang, "written": written, "spoken": spoken}
        return _page(request, db, preschool, staff, exc.errors, entered)
    return _back(preschool, "added", lang)


@router.post("/pronunciations/{entry_id}", dependencies=[CsrfChecked])
def save_entry(
    request: Request, slug: str, entry_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    written, spoken = form_text(form, "written"), form_text(form, "spoken")
    try:
        row = update_pronunciation(db, preschool.id, entry_id, written, spoken)
    except VoiceError as exc:
        entered = {"form": "edit", "id": entry_id, "written": written, "spoken": spoken}
        return _page(request, db, preschool, staff, exc.errors, entered)
    if row is None:
        raise ApiError(404, "There is no such word.")
    return _back(preschool, "updated", row.lang)


@router.post("/pronunciations/{entry_id}/delete", dependencies=[CsrfChecked])
def delete_entry(slug: str, entry_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    row = delete_pronunciation(db, preschool.id, entry_id)
    if row is None:
        raise ApiError(404, "There is no such word.")
    return _back(preschool, "deleted", row.lang)


@router.post("/try", dependencies=[CsrfChecked])
def try_text(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """The page again (not a redirect: the text would be in its URL), with what staff typed in the
    language's "Prova" field and an audio element saying it, its text sealed in the audio's URL."""
    preschool = preschool_for_staff(db, staff, slug)
    lang, typed = form_text(form, "lang"), form_text(form, "prova").strip()
    voice = voice_of(request)
    if lang not in preschool.languages or voice is None or not voice.can_speak(lang):
        raise ApiError(404, "There is no voice for this language.")
    entered: dict[str, Any] = {"form": "try", "lang": lang, "text": typed}
    if len(typed) > MAX_TRIED:
        errors = [f"Skriv högst {MAX_TRIED} tecken."]
    elif not (text := _spoken_text(db, preschool, lang, typed)):
        errors = ["Skriv något som Laiban kan säga."]
    else:
        errors = []
        entered["url"] = _preview_url(preschool, lang, _sealed(request, preschool, voice, lang, text))
    response = _page(request, db, preschool, staff, errors, entered)
    response.headers["Cache-Control"] = "no-store"  # the page holds what was typed
    return response


@router.get("/preview")
def preview(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    """The language's sample, or what staff typed (`t`, a speech token of /try), said with the
    preschool's saved voice and pronunciation table, as WAV. Typed text may hold a child's name: it is
    never in a URL in plain and never written to the cache."""
    preschool = preschool_for_staff(db, staff, slug)
    lang = request.query_params.get("lang", "")
    token = request.query_params.get("t")
    voice = voice_of(request)
    if lang not in preschool.languages or voice is None or not voice.can_speak(lang):
        raise ApiError(404, "There is no voice for this language.")
    if token is None:
        text = _spoken_text(db, preschool, lang, _sample(preschool, lang))
        if not text:
            raise ApiError(404, "There is nothing to say.")
        spoken = Spoken(text, lang, preschool.speech_rate, preschool.speech_pitch, personal=False)
    else:
        try:
            said = tokens_of(request).open(token)
        except InvalidToken:
            raise ApiError(404, "There is no such audio, or it has expired.") from None
        if said.preschool_id != preschool.id or said.lang != lang or said.engine != voice.name:
            raise ApiError(404, "There is no such audio, or it has expired.")
        if not said.text or len(said.text) > MAX_TEXT:
            raise ApiError(404, "There is nothing to say.")
        spoken = Spoken(said.text, lang, said.rate, said.pitch, personal=True)
    try:
        data, _source = voice.audio(spoken)
    except TtsError as exc:
        raise ApiError(503, "Rösten fungerar inte just nu.") from exc
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "no-store"})
