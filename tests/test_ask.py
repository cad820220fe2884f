"""The ask contract: `laiban ask` (CLI) and `POST /api/v1/ask` (kiosk) return the same object."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from laiban import assistant
from laiban.model.intent import Context, Intent
from laiban.model.today import Today
from laiban.skills import SKILLS

from .world import World

FIELDS = {
    "question",
    "lang",
    "intent",
    "slots",
    "confidence",
    "yes_no",
    "text",
    "speech",
    "captions",
    "speech_captions",
    "pictures",
    "available",
    "asks_for",
}


def today(
    hour: int = 9, languages: tuple[str, ...] = ("sv", "en"), modules: tuple[str, ...] = ("weather", "lunch")
):
    import datetime as dt
    from zoneinfo import ZoneInfo

    now = dt.datetime(2026, 11, 26, hour, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    return Today(now=now, preschool_name="Förskolan Ekorren", modules=modules, languages=languages)


class TestAssistant:
    def test_out_of_scope_is_an_honest_i_dont_know(self) -> None:
        reply = assistant.ask(lang="sv", today=today(), context=Context(), question="tänd lampan i köket")
        assert reply.intent.name == "out_of_scope"
        assert reply.rendered.text.startswith("Det vet jag inte.")
        assert "module/weather" in reply.answer.pictures

    def test_topics_without_a_skill_say_so_politely(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delitem(SKILLS, "pickup")  # every topic has its skill now; a new one may not yet
        reply = assistant.ask(
            lang="en", today=today(modules=("pickup",)), context=Context(), intent=Intent("pickup")
        )
        assert reply.answer.available is False
        assert reply.rendered.text == "I can't answer that here yet. Ask a teacher!"

    def test_a_switched_off_module_is_not_answered(self) -> None:
        reply = assistant.ask(
            lang="sv", today=today(modules=("lunch",)), context=Context(), intent=Intent("time")
        )
        assert reply.answer.available is False

    def test_greetings_follow_the_time_of_day(self) -> None:
        morning = assistant.ask(lang="sv", today=today(hour=8), context=Context(), intent=Intent("greeting"))
        assert morning.rendered.text == "God morgon! Vad vill du veta?"
        later = assistant.ask(lang="en", today=today(hour=14), context=Context(), intent=Intent("greeting"))
        assert later.rendered.text == "Hi! What would you like to know?"
        bye = assistant.ask(
            lang="sv", today=today(), context=Context(), intent=Intent("greeting", {"greeting": "goodbye"})
        )
        assert bye.rendered.text == "Hej då! Ha det så bra."

    def test_switching_language_answers_in_the_new_language(self) -> None:
        reply = assistant.ask(
            lang="sv", today=today(), context=Context(), intent=Intent("language", {"language": "en"})
        )
        assert (reply.rendered.lang, reply.rendered.text) == ("en", "Now I'm speaking English.")
        refused = assistant.ask(
            lang="sv", today=today(), context=Context(), intent=Intent("language", {"language": "ar"})
        )
        assert refused.rendered.lang == "sv"
        assert refused.rendered.text == "Jag kan inte prata arabiska här än. Fråga en pedagog!"
        listed = assistant.ask(lang="sv", today=today(), context=Context(), intent=Intent("language"))
        assert listed.rendered.text == "Jag kan prata svenska och engelska."

    def test_a_language_without_a_catalog_is_not_switched_to(self) -> None:
        # German is enabled at the preschool (say, by an older version) but Laiban has no German sentences.
        reply = assistant.ask(
            lang="sv",
            today=today(languages=("sv", "en", "de")),
            context=Context(),
            intent=Intent("language", {"language": "de"}),
        )
        assert reply.rendered.lang == "sv" and reply.answer.language is None
        with pytest.raises(LookupError):
            assistant.ask(lang="de", today=today(), context=Context(), intent=Intent("greeting"))

    def test_say_it_again_answers_the_previous_question(self) -> None:
        first = assistant.ask(lang="sv", today=today(), context=Context(), intent=Intent("about"))
        again = assistant.ask(
            lang="sv", today=today(), context=Context(), intent=Intent("repeat"), previous=first.intent
        )
        assert again.rendered.text == first.rendered.text
        nothing = assistant.ask(lang="sv", today=today(), context=Context(), intent=Intent("repeat"))
        assert nothing.rendered.text == "Jag har inte sagt något än. Vad vill du veta?"

    def test_about_names_the_preschool(self) -> None:
        reply = assistant.ask(lang="en", today=today(), context=Context(), question="who are you")
        assert reply.intent.name == "about"
        assert "Förskolan Ekorren" in reply.rendered.text


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestAskApi:
    def test_a_question_in_words(self, client: TestClient, world: World) -> None:
        response = client.post(
            "/api/v1/ask",
            json={"text": "vad kan du göra", "lang": "sv"},
            headers=bearer(world.device_ekorren),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == FIELDS | {"audio"}  # the kiosk also gets the answer spoken
        assert body["intent"] == "about" and body["lang"] == "sv" and body["question"] == "vad kan du göra"
        assert "Förskolan Ekorren" in body["text"]

    def test_a_tapped_picture_and_the_default_language(self, client: TestClient, world: World) -> None:
        response = client.post(
            "/api/v1/ask",
            json={"intent": "greeting", "slots": {"greeting": "thanks"}},
            headers=bearer(world.device_ekorren),
        )
        assert response.json()["text"] == "Varsågod!"
        assert response.json()["question"] is None

    def test_repeat_uses_the_previous_question_sent_by_the_kiosk(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post(
            "/api/v1/ask",
            json={"intent": "repeat", "previous": {"intent": "about"}},
            headers=bearer(world.device_ekorren),
        )
        assert response.json()["text"].startswith("Jag heter Laiban")

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"text": "hej", "intent": "greeting"},
            {"intent": "dance"},
            {"intent": "weather", "slots": {"colour": "red"}},
            {"text": "hej", "lang": "ar"},  # not one of the preschool's languages
            {"text": "x" * 501},
            {"text": 42},
            {"intent": "repeat", "previous": {"intent": "nonsense"}},
            # Closed slots take only their known values: the answer would say the value back to a child.
            {"intent": "language", "slots": {"language": "\u202ex"}},
            {"intent": "weather", "slots": {"day": "someday"}},
            {"intent": "repeat", "previous": {"intent": "language", "slots": {"language": "klingon"}}},
        ],
    )
    def test_bad_requests_are_clear_422s(self, client: TestClient, world: World, body: dict) -> None:
        response = client.post("/api/v1/ask", json=body, headers=bearer(world.device_ekorren))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"

    def test_only_paired_kiosks_may_ask(self, client: TestClient) -> None:
        assert client.post("/api/v1/ask", json={"text": "hej"}).status_code == 401

    def test_the_roster_of_the_devices_own_preschool_is_used(
        self, client: TestClient, world: World, db: Session
    ) -> None:
        from laiban.store.tables import Child

        db.add(Child(preschool_id=world.myran, first_name="Ella"))
        db.commit()
        asked = client.post(
            "/api/v1/ask", json={"text": "vem hämtar ella"}, headers=bearer(world.device_ekorren)
        )
        assert asked.json()["slots"].get("child") is None  # Ella is at another preschool
        asked = client.post(
            "/api/v1/ask", json={"text": "vem hämtar ella"}, headers=bearer(world.device_myran)
        )
        assert asked.json()["slots"] == {"child": "Ella"}


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("ask")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")}
    env["LAIBAN_DATA_DIR"] = str(data)
    subprocess.run([sys.executable, "-m", "laiban.cli", "demo"], env=env, check=True, capture_output=True)
    return env


def laiban_ask(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laiban.cli", "ask", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestAskCli:
    def test_one_question(self, demo_env: dict[str, str]) -> None:
        result = laiban_ask(demo_env, "vem är du")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Jag heter Laiban och jag bor här på Förskolan Solrosen.")

    def test_json_lines_from_stdin_in_order(self, demo_env: dict[str, str]) -> None:
        questions = ["hej laiban", "tänd lampan", "säg det igen", "who are you"] * 250
        result = laiban_ask(demo_env, "--json", "--at", "2026-11-26T08:15", stdin="\n".join(questions) + "\n")
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(lines) == 1000
        assert [line["question"] for line in lines] == questions
        assert set(lines[0]) == FIELDS
        assert lines[0]["intent"] == "greeting" and lines[0]["text"] == "God morgon! Vad vill du veta?"
        assert lines[1]["intent"] == "out_of_scope"
        assert lines[2]["intent"] == "repeat" and lines[2]["text"] == lines[1]["text"]

    def test_a_tapped_intent_with_slots(self, demo_env: dict[str, str]) -> None:
        result = laiban_ask(demo_env, "--intent", "language", "--slot", "language=en", "--json")
        body = json.loads(result.stdout)
        assert (body["intent"], body["lang"], body["text"]) == ("language", "en", "Now I'm speaking English.")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--intent", "dance"], "Unknown intent"),
            (["--intent", "weather", "--slot", "colour=red"], "no slot"),
            (["--intent", "weather", "--slot", "day"], "key=value"),
            (["hej", "--lang", "xx"], "cannot speak"),
            (["hej", "--preschool", "nowhere"], "no preschool"),
        ],
    )
    def test_bad_arguments_are_one_clear_line(
        self, demo_env: dict[str, str], args: list[str], message: str
    ) -> None:
        result = laiban_ask(demo_env, *args)
        assert result.returncode != 0
        assert message in result.stderr and "Traceback" not in result.stderr

    def test_bad_time_is_a_usage_error(self, demo_env: dict[str, str]) -> None:
        result = laiban_ask(demo_env, "hej", "--at", "tomorrow")
        assert result.returncode == 2 and "2026-11-26T09:30" in result.stderr


def test_ask_without_any_preschool_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")} | {
        "LAIBAN_DATA_DIR": str(tmp_path)
    }
    result = laiban_ask(env, "hej")
    assert result.returncode == 1 and "laiban demo" in result.stderr
