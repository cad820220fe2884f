"""Laiban's voice (text to speech) through a real `laiban serve` on loopback: time to the first audio byte,
the synthesis real-time factor, and the audio cache's hit rate over a simulated morning.

1. A temporary data folder on SQLite, filled like bench/load.py does it (its `populate`: preschools with
   children, schedules, menus and forecasts, paired kiosks), in a time zone where it is a weekday morning.
2. `laiban serve` with the default voice (espeak-ng in-process, cache in `<data dir>/audio/`).
3. Measured, one request at a time over a kept-alive connection:
   - `tts_synth_*`, `tts_rtf_*`: espeak-ng in this process, for sentences of 2–20 words at 140 words per
     minute: milliseconds per sentence and the real-time factor (synthesis time / audio length);
   - `tts_uncached_ttfb_ms_*`: GET of an audio URL never said before (`--sentences` different sentences,
     sealed like the server seals its answers): from sending the request to the first byte of audio;
   - `tts_cached_ttfb_ms_*`: the same URLs again, now from the cache;
   - `tts_morning_*`: a simulated morning, 07:00–12:00 in minutes: every kiosk gets a tap with
     probability `--tap-rate` per minute (the children's mix: weather, clothes, lunch, the time at that
     minute's five-minute slot, schedule, date, calendar, activities, and pickup with a child's own
     picture), mostly in Swedish, some in English. Each tap's audio is fetched; the server says whether
     it came from the cache (`X-Laiban-Audio`). `hit_rate` counts the cacheable answers only; pickups are
     personal (never cached) and counted apart. `tap_to_audio`: POST /ask plus the audio's first byte.
     The cache starts empty, as on a morning without pre-rendering.

Targets on this machine: cached p95 ≤ 20 ms, uncached espeak p95 ≤ 150 ms end to end.

    python bench/voice.py [--preschools 4] [--kiosks 8] [--sentences 100] [--tap-rate 0.3] [--seed 1]

Prints one `name value` line per figure (notes to stderr). The server and the temporary folder are always
removed at the end. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # bench/load.py: populate, start_server, upgrade, percentile, say

WORDS = (
    "idag",
    "blir",
    "det",
    "soligt",
    "och",
    "varmt",
    "ta",
    "på",
    "dig",
    "kepsen",
    "regn",
    "stövlar",
    "vi",
    "äter",
    "fiskgratäng",
    "till",
    "lunch",
    "sedan",
    "går",
    "ut",
    "på",
    "gården",
    "klockan",
    "är",
    "tio",
)
TARGET_CACHED_P95_MS = 20.0
TARGET_UNCACHED_P95_MS = 150.0
# (what a child taps, weight): the day's answers, the time, and pickup (personal)
MORNING_MIX = (
    ("weather", 12.5),
    ("clothes", 12.5),
    ("lunch", 20.0),
    ("time", 20.0),
    ("schedule", 7.0),
    ("date", 6.0),
    ("calendar", 3.5),
    ("activities", 3.5),
    ("pickup", 15.0),
)


def sentences(count: int, rng: random.Random) -> list[str]:
    made: set[str] = set()
    while len(made) < count:
        length = rng.randint(2, 20)
        words = [rng.choice(WORDS) for _ in range(length)]
        made.add(" ".join(words).capitalize() + ".")
    return sorted(made)


def first_byte_ms(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, int, str]:
    """Milliseconds to the first byte of the body; the status; X-Laiban-Audio. Reads the whole body."""
    started = time.perf_counter()
    with client.stream("GET", url, headers=headers) as response:
        first = None
        for _chunk in response.iter_raw():
            if first is None:
                first = time.perf_counter()
        if first is None:
            first = time.perf_counter()
        return (first - started) * 1000, response.status_code, response.headers.get("x-laiban-audio", "")


def report(name: str, values: list[float]) -> None:
    load.say(f"{name}_p50", load.percentile(values, 50))
    load.say(f"{name}_p95", load.percentile(values, 95))


def synthesis(texts: list[str]) -> None:
    from laiban.speech.tts import EspeakEngine, wav_duration

    engine = EspeakEngine()
    load.say("tts_engine", f"espeak-ng-{engine.version}-{engine.backend}")
    engine.synthesize("Hej.", "sv")  # the voice's first use loads its dictionary
    times: list[float] = []
    factors: list[float] = []
    audio_seconds = 0.0
    audio_bytes = 0
    for text in texts:
        started = time.perf_counter()
        audio = engine.synthesize(text, "sv", 140)
        took = time.perf_counter() - started
        seconds = wav_duration(audio)
        times.append(took * 1000)
        factors.append(took / seconds)
        audio_seconds += seconds
        audio_bytes += len(audio)
    report("tts_synth_ms", times)
    load.say("tts_rtf_p50", f"{load.percentile(factors, 50):.4f}")
    load.say("tts_rtf_p95", f"{load.percentile(factors, 95):.4f}")
    load.say("tts_audio_s_mean", audio_seconds / len(texts))
    load.say("tts_wav_kb_per_audio_s", audio_bytes / audio_seconds / 1024)


def direct(base_url: str, kiosk: load.Kiosk, secret: str, texts: list[str]) -> None:
    """Uncached, then cached: GETs of audio URLs sealed like the server's own."""
    from laiban.speech.tokens import Tokens

    headers = {"Authorization": f"Bearer {kiosk.token}"}
    tokens = Tokens(secret)
    with httpx.Client(base_url=base_url, timeout=load.REQUEST_TIMEOUT_S) as client:
        asked = client.post("/api/v1/ask", json={"intent": "date"}, headers=headers).json()
        if not asked.get("audio"):
            raise RuntimeError("the server does not speak (no audio URL): is the voice extra installed?")
        template = tokens.open(asked["audio"].rsplit("/", 1)[1])
        urls = [
            "/api/v1/speech/"
            + tokens.seal(replace(template, text=text, personal=False, issued=int(time.time())))
            for text in texts
        ]
        first, _, _ = first_byte_ms(client, asked["audio"], headers)
        load.say("tts_first_request_ms", first)  # the server's first synthesis (loads the voice)
        uncached: list[float] = []
        for url in urls:
            took, status, source = first_byte_ms(client, url, headers)
            if status != 200 or source != "miss":
                raise RuntimeError(f"uncached audio: status {status}, {source!r}")
            uncached.append(took)
        cached: list[float] = []
        for _ in range(2):
            for url in urls:
                took, status, source = first_byte_ms(client, url, headers)
                if status != 200 or source != "hit":
                    raise RuntimeError(f"cached audio: status {status}, {source!r}")
                cached.append(took)
    report("tts_uncached_ttfb_ms", uncached)
    report("tts_cached_ttfb_ms", cached)
    load.say("tts_uncached_meets_target", int(load.percentile(uncached, 95) <= TARGET_UNCACHED_P95_MS))
    load.say("tts_cached_meets_target", int(load.percentile(cached, 95) <= TARGET_CACHED_P95_MS))


def morning(base_url: str, kiosks: list[load.Kiosk], tap_rate: float, rng: random.Random) -> None:
    sources: dict[str, int] = {"hit": 0, "miss": 0, "personal": 0}
    tap_to_audio: list[float] = []
    by_source: dict[str, list[float]] = {"hit": [], "miss": [], "personal": []}
    failures = 0
    with httpx.Client(base_url=base_url, timeout=load.REQUEST_TIMEOUT_S) as client:
        kept: dict[tuple[int, str], Any] = {}  # what each kiosk keeps for the day, per language
        for index, kiosk in enumerate(kiosks):
            for lang in kiosk.languages:
                headers = {"Authorization": f"Bearer {kiosk.token}"}
                kept[index, lang] = client.get(f"/api/v1/answers?lang={lang}", headers=headers).json()
        names = [name for name, _ in MORNING_MIX]
        weights = [weight for _, weight in MORNING_MIX]
        for minute in range(7 * 60, 12 * 60):
            slot = f"{minute // 60:02d}:{minute % 60 - minute % 5:02d}"
            for index, kiosk in enumerate(kiosks):
                if rng.random() >= tap_rate:
                    continue
                lang = "en" if "en" in kiosk.languages and rng.random() < 0.15 else kiosk.languages[0]
                what = rng.choices(names, weights)[0]
                headers = {"Authorization": f"Bearer {kiosk.token}"}
                started = time.perf_counter()
                body: dict[str, Any] = {"intent": what, "lang": lang}
                if what == "pickup":
                    body["child"] = rng.choice(kiosk.child_ids)
                url = client.post("/api/v1/ask", json=body, headers=headers).json().get("audio")
                if what == "time":  # the simulated minute's time (the server's clock says the real one)
                    url = (kept[index, lang]["time"].get(slot) or {}).get("audio")
                if not url:
                    failures += 1
                    continue
                took, status, source = first_byte_ms(client, url, headers)
                if status != 200:
                    failures += 1
                    continue
                tap_to_audio.append((time.perf_counter() - started) * 1000)
                sources[source] = sources.get(source, 0) + 1
                by_source.setdefault(source, []).append(took)
    cacheable = sources["hit"] + sources["miss"]
    load.say("tts_morning_taps", sum(sources.values()))
    load.say("tts_morning_hits", sources["hit"])
    load.say("tts_morning_misses", sources["miss"])
    load.say("tts_morning_personal", sources["personal"])
    load.say("tts_morning_failures", failures)
    load.say("tts_morning_hit_rate", f"{sources['hit'] / cacheable:.3f}" if cacheable else "nan")
    report("tts_morning_tap_to_audio_ms", tap_to_audio)
    for source, values in by_source.items():
        if values:
            report(f"tts_morning_{source}_ttfb_ms", values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preschools", type=int, default=4)
    parser.add_argument("--kiosks", type=int, default=8)
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--tap-rate", type=float, default=0.3, help="taps per kiosk and simulated minute")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts = sentences(args.sentences, rng)
    synthesis(texts)
    timezone = load.pick_timezone("auto")
    with tempfile.TemporaryDirectory(prefix="laiban-bench-voice-") as root:
        data_dir = Path(root)
        load.upgrade(data_dir, None)
        fleet = load.populate(
            f"sqlite:///{data_dir / 'laiban.db'}", args.preschools, args.kiosks, 0, timezone
        )
        load.say("tts_local_time", fleet.local_time)
        server = load.start_server(data_dir, None, None)
        try:
            secret = (data_dir / "secret_key").read_text().strip()
            direct(server.base_url, fleet.kiosks[0], secret, texts)
            # A fresh cache for the morning: the direct figures' sentences are not the day's answers.
            for path in (data_dir / "audio").glob("*.wav"):
                path.unlink()
            morning(server.base_url, fleet.kiosks, args.tap_rate, rng)
        finally:
            server.stop()
        load.log_problems("tts", server.output())


if __name__ == "__main__":
    main()
