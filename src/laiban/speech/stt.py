"""Speech to text on the preschool's own server: a recogniser turns 16 kHz samples into words.

    recognizer = recognizer_for(settings.stt_model_dir)  # None: Laiban does not listen here
    heard = recognizer.transcribe(samples, "sv", prompt=vocabulary(today, context))
    heard.text, heard.duration_after_vad

The engine is faster-whisper with a model the operator placed in a folder (`LAIBAN_STT_MODEL_DIR`; for
Swedish KBLab's kb-whisper-tiny or -base in CTranslate2 format). Nothing is downloaded: the folder is
checked before loading (faster-whisper would take a wrong path for a model name on the hub) and the hub
is switched off for the process. The model is loaded on first use, once per process, and shared by all
requests; voice-activity detection runs first, so silence and noise cost tens of milliseconds and never
come back as invented words.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from laiban.model.intent import Context
from laiban.model.today import Today

log = logging.getLogger("laiban.speech")

SAMPLE_RATE = 16_000
CPU_THREADS = 2
PROMPT_CHARACTERS = 600  # Whisper keeps at most 223 prompt tokens (the last ones); stay well inside


class RecognizerUnavailable(Exception):
    """The configured model cannot be used (missing, damaged, or faster-whisper is not installed)."""


@dataclass(frozen=True)
class Transcript:
    text: str  # what was heard, "" for nothing
    duration: float  # seconds of audio given
    duration_after_vad: float  # seconds of it voice-activity detection kept as speech
    language: str | None  # the language the recogniser listened for (None: it detected one)
    seconds: float  # how long recognising took (wall clock)

    @property
    def heard(self) -> bool:
        """Whether anything was said: speech found and at least one letter or digit recognised."""
        return self.duration_after_vad > 0 and any(ch.isalnum() for ch in self.text)


class Recognizer(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray, lang: str, prompt: str = "") -> Transcript:
        """Words in `samples` (float32, mono, 16 kHz), listening for `lang`, biased towards `prompt`."""
        ...


def check_model_dir(path: Path) -> None:
    """Raises RecognizerUnavailable unless `path` is a folder with a CTranslate2 model."""
    if not path.is_dir():
        raise RecognizerUnavailable(f"The speech-to-text model folder {str(path)!r} does not exist.")
    if not (path / "model.bin").is_file():
        raise RecognizerUnavailable(f"The speech-to-text model folder {str(path)!r} has no model.bin.")


class FasterWhisper:
    """A Whisper model in CTranslate2 format on the CPU (int8), loaded on first use, thread-safe."""

    name = "faster-whisper"

    def __init__(self, model_dir: Path, cpu_threads: int = CPU_THREADS):
        self.model_dir = model_dir
        self.cpu_threads = cpu_threads
        self.load_seconds: float | None = None
        self._model: Any = None
        self._failure: str | None = None
        self._lock = threading.Lock()

    @property
    def failure(self) -> str | None:
        """Why loading did not work (logged once; not tried again in this process), or None."""
        return self._failure

    def load(self) -> Any:
        """The WhisperModel, loaded once (the first caller loads it, the others wait for it)."""
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is not None:
                return self._model
            if self._failure is not None:
                raise RecognizerUnavailable(self._failure)
            check_model_dir(self.model_dir)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download, whatever the path says
            started = time.perf_counter()
            try:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=self.cpu_threads
                )
            except Exception as exc:  # a damaged or foreign model: say so once, do not retry per child
                self._failure = f"The speech-to-text model in {str(self.model_dir)!r} cannot be loaded."
                log.error("%s (%s: %s)", self._failure, type(exc).__name__, exc)
                raise RecognizerUnavailable(self._failure) from exc
            self.load_seconds = time.perf_counter() - started
            log.info("speech-to-text model loaded in %.1f s", self.load_seconds)
            return self._model

    def transcribe(self, samples: np.ndarray, lang: str, prompt: str = "") -> Transcript:
        model = self.load()
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        # An English-only model (the tests' tiny.en) listens for English whatever it is told; a language
        # Whisper does not know is left for it to detect.
        language: str | None = lang if lang in _LANGUAGE_CODES else None
        if not model.model.is_multilingual:
            language = "en"
        started = time.perf_counter()
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=1,
            vad_filter=True,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
            without_timestamps=True,
            temperature=(0.0, 0.4),  # one retry at most when the first reading is poor, not five
            max_new_tokens=128,  # a child's question is short; stops a runaway repetition early
        )
        # The segments are lazy: the recognising happens here, in the caller's (worker) thread.
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(
            text=text,
            duration=float(info.duration),
            duration_after_vad=float(info.duration_after_vad),
            language=language,
            seconds=time.perf_counter() - started,
        )


_lock = threading.Lock()
_recognizers: dict[Path, FasterWhisper] = {}
_reported: set[Path] = set()  # folders whose problem was logged (once per process)


def installed() -> bool:
    """Whether faster-whisper (the `voice` extra) is installed."""
    return importlib.util.find_spec("faster_whisper") is not None


def recognizer_for(model_dir: Path | None, workers: int = 1) -> FasterWhisper | None:
    """The process's recogniser for this model folder (one per folder, loaded on first use), or None when
    no model is configured. Raises RecognizerUnavailable (and logs why, once) when it is configured but
    cannot work. `workers`: the server processes sharing the machine's cores (each may recognise at once)."""
    if model_dir is None:
        return None
    key = model_dir.expanduser().resolve()
    with _lock:
        found = _recognizers.get(key)
        if found is None:
            try:
                if not installed():
                    raise RecognizerUnavailable(
                        "Speech to text needs faster-whisper: pip install 'laiban[voice]'."
                    )
                check_model_dir(key)
            except RecognizerUnavailable as exc:
                if key not in _reported:
                    _reported.add(key)
                    log.error("%s The kiosks' talk button stays hidden.", exc)
                raise
            threads = max(1, (os.cpu_count() or CPU_THREADS) // max(1, workers))
            found = _recognizers[key] = FasterWhisper(key, cpu_threads=threads)
    if found.failure is not None:
        raise RecognizerUnavailable(found.failure)
    return found


def listening(model_dir: Path | None) -> bool:
    """Whether the kiosk may show its talk button: a usable model is configured (this does not load it)."""
    try:
        return recognizer_for(model_dir) is not None
    except RecognizerUnavailable:
        return False


def vocabulary(today: Today, context: Context) -> str:
    """The preschool's own words for the recogniser's prompt: today's events, activities and dishes,
    then the children's first names, comma-separated and cut to fit Whisper's prompt."""
    words: list[str] = []
    words.extend(event.title for event in today.events)
    words.extend(title for title, _kind in context.events)
    words.extend(activity.title for activity in today.activities)
    words.extend(title for _at, title in today.preschool_events.get(today.now.date(), ()))
    for (day, _meal), dishes in sorted(today.menu.items()):
        if day == today.now.date():
            words.extend(simple or text for text, simple in dishes)
    words.extend(context.names)
    return _joined(words)


def _joined(words: Iterable[str]) -> str:
    chosen: list[str] = []
    length = 0
    for word in dict.fromkeys(" ".join(word.split()) for word in words if word and word.strip()):
        if length + len(word) + 2 > PROMPT_CHARACTERS:
            break
        chosen.append(word)
        length += len(word) + 2
    return ", ".join(chosen) + "." if chosen else ""
