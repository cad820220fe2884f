"""Text to speech on the preschool's own server: an `Engine` turns a spoken text into WAV audio.

Engines:
- `EspeakEngine` (default, `LAIBAN_TTS_ENGINE=espeak`): libespeak-ng in this process through ctypes, from
  the `espeakng-loader` wheel (the `voice` extra: the library and its data, no apt needed); without the
  wheel, an installed `espeak-ng` program. A voice for most of the preschools' languages; none for Somali.
- `PiperEngine` (`LAIBAN_TTS_ENGINE=piper`, the `piper` extra): neural voices the operator places on the
  server (`LAIBAN_PIPER_VOICES`), one per language; espeak speaks the languages without a Piper voice.

`Voice` puts an engine and the audio cache together: `voice.audio(spoken)` is the WAV of an answer, from the
cache when it was said before (never cached when personal). `speakable_text` is what the voice may read:
the answer's spoken form without emoji or markup.

espeak-ng and Piper are GPL-3.0 programs, installed only through the optional extras; Laiban is MIT.
"""

from __future__ import annotations

import ctypes
import io
import json
import logging
import re
import shutil
import struct
import subprocess
import threading
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from laiban.config import ConfigError

if TYPE_CHECKING:
    from laiban.config import Settings
    from laiban.speech.cache import AudioCache

log = logging.getLogger(__name__)

DEFAULT_RATE = 140  # words per minute: calm, slightly slow, for children
DEFAULT_PITCH = 50  # 0–100, the voice's own
MIN_RATE, MAX_RATE = 80, 450  # espeak's range (slower is clamped to 80 by espeak itself)
MAX_TEXT = 600  # characters spoken at once (about 45 s); a longer answer is left to the captions

ENGINES = ("espeak", "piper", "off")

# Laiban's language codes → espeak-ng voice names (`espeak_SetVoiceByName` wants these, not "sv_SE").
# Somali (so) has no espeak-ng voice at all; Tigrinya (ti) is in espeak-ng 1.52 (the wheel), not in 1.51.
ESPEAK_VOICES: dict[str, str] = {
    "sv": "sv",
    "en": "en",  # British English (gmw/en)
    "ar": "ar",
    "fa": "fa",
    "ti": "ti",
    "uk": "uk",
    "pl": "pl",
    "fi": "fi",
    "tr": "tr",
    "bs": "bs",
    "hr": "hr",
    "sr": "sr",
    "ku": "ku",
    "am": "am",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "ru": "ru",
    "nb": "nb",
    "da": "da",
    "it": "it",
    "nl": "nl",
    "et": "et",
    "el": "el",
    "hu": "hu",
    "ro": "ro",
    "sq": "sq",
    "hi": "hi",
    "ur": "ur",
}
NO_VOICE = frozenset({"so"})  # documented: no free voice exists; the kiosk shows captions and pictures


class TtsError(Exception):
    """The voice cannot speak this (no engine, no voice for the language, the engine failed)."""


# --- what is spoken ----------------------------------------------------------------------------------

_MARKUP = re.compile(r"<[^<>]{0,200}>|&[a-zA-Z]{2,8};|[*_`#~|\\]+")
_EMOJI_PARTS = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f"
    "\u2b00-\u2bff\ufe00-\ufe0f\u200d\u20e3\U000e0000-\U000e007f]"
)


_NOT_READ = frozenset({"So", "Cc", "Co", "Cs", "Cn"})  # other symbols (emoji), control, private, unassigned
_READ = frozenset("°")  # symbols the voices read well
_SPACE_BEFORE_MARK = re.compile(r" ([,.!?;:])")


def speakable_text(text: str) -> str:
    """`text` as a voice should read it: no emoji, symbols or markup (tags, Markdown marks), one space
    between words. Letters of every script and their marks, digits and punctuation stay."""
    text = _EMOJI_PARTS.sub(" ", _MARKUP.sub(" ", text))
    text = "".join(
        " " if unicodedata.category(char) in _NOT_READ and char not in _READ else char for char in text
    )
    return _SPACE_BEFORE_MARK.sub(r"\1", " ".join(text.split()))


# --- WAV ---------------------------------------------------------------------------------------------


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono PCM in a WAV container (plays in every browser)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def wav_duration(data: bytes) -> float:
    """Seconds of audio in a WAV file."""
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


def fix_wav_sizes(raw: bytes) -> bytes:
    """The `espeak-ng --stdout` WAV with real sizes: it writes placeholders (it cannot seek a pipe)."""
    if len(raw) < 44 or raw[:4] != b"RIFF" or raw[36:40] != b"data":
        raise TtsError("espeak-ng wrote no WAV audio.")
    return raw[:4] + struct.pack("<I", len(raw) - 8) + raw[8:40] + struct.pack("<I", len(raw) - 44) + raw[44:]


# --- engines -----------------------------------------------------------------------------------------


@runtime_checkable
class Engine(Protocol):
    """A voice: `synthesize` returns WAV bytes (16-bit mono) for a language it `has_voice` for."""

    name: str

    def voices(self) -> dict[str, str]:
        """Language code → the voice that speaks it (its name and version: part of the cache key)."""
        ...

    def has_voice(self, lang: str) -> bool: ...

    def synthesize(self, text: str, lang: str, rate: int = DEFAULT_RATE, pitch: int = DEFAULT_PITCH) -> bytes:
        """WAV audio of `text`; raises TtsError."""
        ...


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, int(value)))


# libespeak-ng constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_ESPEAK_RATE, _ESPEAK_PITCH = 1, 3
_ESPEAK_INITIALIZE_DONT_EXIT = 0x8000  # without it, a bad data path calls exit() and kills the server
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _EspeakVoice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _EspeakLibrary:
    """libespeak-ng, loaded once per process. It keeps global state and is not thread-safe (concurrent
    calls abort the process with a double free): every call holds `lock`."""

    lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _ESPEAK_INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise TtsError(f"libespeak-ng did not start (its data folder {data.decode()!r}).")
        self.lib = lib
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._on_audio)  # referenced for the process's life (else: segfault)
        lib.espeak_SetSynthCallback(self._callback)
        self.known = self._voice_names()

    def _on_audio(self, samples: Any, count: int, _events: Any) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0  # continue

    def _voice_names(self) -> frozenset[str]:
        names: set[str] = set()
        with self.lock:
            listed = self.lib.espeak_ListVoices(None)
            index = 0
            while listed[index]:
                voice = listed[index].contents
                # `languages` is a priority byte then a NUL-terminated name, repeated
                names.add(voice.languages[1:].decode(errors="replace").lower())
                identifier = (voice.identifier or b"").decode(errors="replace")
                names.update((identifier, identifier.rsplit("/", 1)[-1]))
                index += 1
        return frozenset(names)

    def synthesize(self, text: str, voice: str, rate: int, pitch: int) -> bytes:
        encoded = text.encode("utf-8") + b"\0"
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise TtsError(f"espeak-ng has no voice {voice!r}.")
            self.lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
            self.lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
            self._chunks = []
            status = self.lib.espeak_Synth(
                encoded, len(encoded), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
            )
            pcm = b"".join(self._chunks)
            self._chunks = []
        if status != 0:
            raise TtsError(f"espeak-ng could not speak (error {status}).")
        return wav_bytes(pcm, self.sample_rate)


_library: _EspeakLibrary | None = None
_library_lock = threading.Lock()


def espeak_library() -> _EspeakLibrary | None:
    """The in-process libespeak-ng, or None without the `espeakng-loader` wheel."""
    global _library
    with _library_lock:
        if _library is None:
            try:
                _library = _EspeakLibrary()
            except ImportError:
                return None
            except OSError as exc:
                log.warning("libespeak-ng from espeakng-loader cannot be loaded: %s", exc)
                return None
        return _library


class _EspeakProgram:
    """The `espeak-ng` program (e.g. Debian's), one process per sentence; the text goes in on stdin, never
    on the command line (where `ps` would show a child's name)."""

    TIMEOUT = 20.0

    def __init__(self, path: str):
        self.path = path
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=self.TIMEOUT)
        found = re.search(r"(\d+\.\d+(?:\.\d+)?)", result.stdout)
        self.version = found.group(1) if found else "?"
        listing = subprocess.run([path, "--voices"], capture_output=True, text=True, timeout=self.TIMEOUT)
        names: set[str] = set()
        for line in listing.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 5:  # Pty Language Age/Gender VoiceName File …
                names.update((parts[1].lower(), parts[4], parts[4].rsplit("/", 1)[-1]))
        self.known = frozenset(names)

    def synthesize(self, text: str, voice: str, rate: int, pitch: int) -> bytes:
        command = [self.path, "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", "--stdin"]
        try:
            result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=self.TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TtsError(f"espeak-ng did not answer ({exc}).") from exc
        if result.returncode != 0:
            raise TtsError(f"espeak-ng failed with status {result.returncode}.")
        return fix_wav_sizes(result.stdout)


class EspeakEngine:
    """espeak-ng: the library in this process when the wheel is installed, else the `espeak-ng` program.
    Raises TtsError when neither is there."""

    name = "espeak"

    def __init__(self, *, program: str | None = None, prefer_program: bool = False):
        backend: _EspeakLibrary | _EspeakProgram | None = None if prefer_program else espeak_library()
        if backend is None:
            path = program or shutil.which("espeak-ng")
            if path is None:
                raise TtsError(
                    "No espeak-ng: install Laiban's voice extra (pip install 'laiban[voice]') "
                    "or the espeak-ng program."
                )
            backend = _EspeakProgram(path)
        self._backend = backend
        self.backend = "library" if isinstance(backend, _EspeakLibrary) else "program"
        self.version = backend.version
        self._voices = {
            lang: f"espeak-ng {self.version} {self.backend} {voice}"
            for lang, voice in ESPEAK_VOICES.items()
            if voice in backend.known
        }

    def voices(self) -> dict[str, str]:
        return dict(self._voices)

    def has_voice(self, lang: str) -> bool:
        return lang in self._voices

    def synthesize(self, text: str, lang: str, rate: int = DEFAULT_RATE, pitch: int = DEFAULT_PITCH) -> bytes:
        if lang not in self._voices:
            raise TtsError(f"espeak-ng has no voice for {lang!r}.")
        return self._backend.synthesize(
            text, ESPEAK_VOICES[lang], _clamp(rate, MIN_RATE, MAX_RATE), _clamp(pitch, 0, 100)
        )


# --- Piper ---------------------------------------------------------------------------------------------

PIPER_NATURAL_RATE = 150  # about the words per minute of a Piper voice at length_scale 1


def _piper_lang(path: Path) -> str:
    """`sv_SE-nst-medium.onnx` → "sv" (Piper's file names start with the locale)."""
    return re.split(r"[_\-.]", path.name, maxsplit=1)[0].lower()


def parse_piper_voices(raw: str, setting: str = "LAIBAN_PIPER_VOICES") -> dict[str, Path]:
    """Language → voice model, from a folder of `<locale>-<name>-<quality>.onnx` files (each with its
    `.onnx.json`; the first in alphabetical order per language) or from `sv=/path/a.onnx,en=/path/b.onnx`.
    Every path is checked here, before any model is loaded; raises ConfigError naming the problem."""
    raw = raw.strip()
    if not raw:
        raise ConfigError(
            f"{setting} must name the Piper voices: a folder of .onnx voices, or sv=/path/voice.onnx,…"
        )
    found: dict[str, Path] = {}
    if "=" in raw:
        for item in filter(None, (part.strip() for part in raw.split(","))):
            lang, _, path = (text.strip() for text in item.partition("="))
            if not re.fullmatch(r"[a-z]{2,3}", lang) or not path:
                raise ConfigError(f"{setting}: {item!r} is not lang=/path/voice.onnx.")
            if lang in found:
                raise ConfigError(f"{setting} names two voices for {lang!r}.")
            found[lang] = Path(path).expanduser()
    else:
        folder = Path(raw).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"{setting} {raw!r} is not a folder (or give sv=/path/voice.onnx,…).")
        for model in sorted(folder.glob("*.onnx")):
            found.setdefault(_piper_lang(model), model)
        if not found:
            raise ConfigError(f"{setting}: the folder {raw!r} has no Piper voice (.onnx files).")
    for lang, model in found.items():
        config = Path(f"{model}.json")
        if not model.is_file():
            raise ConfigError(f"{setting}: the voice for {lang!r}, {str(model)!r}, does not exist.")
        if model.suffix != ".onnx":
            raise ConfigError(f"{setting}: the voice for {lang!r}, {str(model)!r}, is not an .onnx file.")
        if not config.is_file():
            raise ConfigError(
                f"{setting}: the voice {str(model)!r} has no {config.name} beside it (Piper needs both)."
            )
        try:
            settings = json.loads(config.read_text(encoding="utf-8"))
            int(settings["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{setting}: {str(config)!r} is not a Piper voice configuration.") from exc
    return found


class PiperEngine:
    """Piper's neural voices (`piper-tts`), one model per language, loaded on first use; the languages
    without a Piper voice are spoken by `fallback` (espeak), if given. Piper has no pitch setting; the
    speaking rate becomes its length scale."""

    name = "piper"

    def __init__(self, models: dict[str, Path], fallback: Engine | None = None):
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                "LAIBAN_TTS_ENGINE=piper needs Piper: pip install 'laiban[piper]' (or piper-tts)."
            ) from exc
        self.models = dict(models)
        self.fallback = fallback
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()  # Piper's phonemizer is espeak-ng (its own copy): one at a time
        spoken_by_fallback = fallback.voices() if fallback is not None else {}
        self._voices = {lang: f"fallback {voice}" for lang, voice in spoken_by_fallback.items()}
        for lang, model in self.models.items():
            stat = model.stat()
            self._voices[lang] = f"piper {model.name} {stat.st_size} {stat.st_mtime_ns}"

    def voices(self) -> dict[str, str]:
        return dict(self._voices)

    def has_voice(self, lang: str) -> bool:
        return lang in self._voices

    def _voice(self, lang: str) -> Any:
        voice = self._loaded.get(lang)
        if voice is None:
            from piper import PiperVoice

            model = self.models[lang]
            try:
                voice = PiperVoice.load(model, download_dir=model.parent)
            except Exception as exc:  # onnxruntime's own errors: a broken or foreign model file
                raise TtsError(f"The Piper voice {model.name} cannot be loaded: {exc}") from exc
            self._loaded[lang] = voice
        return voice

    def synthesize(self, text: str, lang: str, rate: int = DEFAULT_RATE, pitch: int = DEFAULT_PITCH) -> bytes:
        if lang not in self.models:
            if self.fallback is not None and self.fallback.has_voice(lang):
                return self.fallback.synthesize(text, lang, rate, pitch)
            raise TtsError(f"There is no Piper voice for {lang!r}.")
        from piper import SynthesisConfig

        with self._lock:
            voice = self._voice(lang)
            scale = float(voice.config.length_scale) * PIPER_NATURAL_RATE / _clamp(rate, MIN_RATE, MAX_RATE)
            chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=scale)))
        if not chunks:
            return wav_bytes(b"", int(voice.config.sample_rate))
        return wav_bytes(b"".join(chunk.audio_int16_bytes for chunk in chunks), chunks[0].sample_rate)


def engine_for(settings: Settings) -> Engine | None:
    """The engine the settings ask for; None when it is off or espeak-ng is missing (logged: the kiosks
    then use the browser's voice). A misconfigured Piper raises ConfigError: the operator asked for it."""
    choice = settings.tts_engine
    if choice == "off":
        return None
    try:
        espeak: Engine | None = EspeakEngine()
    except TtsError as exc:
        espeak = None
        if choice == "espeak":
            log.warning("No server voice: %s The kiosks use the browser's voice.", exc)
    if choice == "piper":
        return PiperEngine(parse_piper_voices(settings.piper_voices), fallback=espeak)
    return espeak


# --- the voice: engine + cache -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spoken:
    """What to say and how. `personal`: about a child (a pickup, a name): never written to disk."""

    text: str
    lang: str
    rate: int = DEFAULT_RATE
    pitch: int = DEFAULT_PITCH
    personal: bool = False


class Voice:
    """The server's voice: an engine (None: off) and an audio cache (None: no disk cache)."""

    def __init__(self, engine: Engine | None, cache: AudioCache | None = None):
        self.engine = engine
        self.cache = cache
        self._voices = engine.voices() if engine is not None else {}

    @property
    def name(self) -> str | None:
        return self.engine.name if self.engine is not None else None

    def can_speak(self, lang: str) -> bool:
        return lang in self._voices

    def key(self, spoken: Spoken) -> str:
        from laiban.speech.cache import cache_key

        voice = self._voices.get(spoken.lang, "")
        return cache_key(self.name or "off", voice, spoken.rate, spoken.pitch, spoken.text)

    def audio(self, spoken: Spoken) -> tuple[bytes, str]:
        """The WAV of `spoken` and where it came from: "hit" (cache), "miss" (made and cached) or
        "personal" (made in memory, never cached). Raises TtsError."""
        if self.engine is None:
            raise TtsError("The server's voice is off.")
        if not self.can_speak(spoken.lang):
            raise TtsError(f"There is no voice for {spoken.lang!r}.")
        engine = self.engine

        def make() -> bytes:
            return engine.synthesize(spoken.text, spoken.lang, spoken.rate, spoken.pitch)

        if spoken.personal or self.cache is None:
            return make(), "personal" if spoken.personal else "miss"
        data, hit = self.cache.fetch(self.key(spoken), make)
        return data, "hit" if hit else "miss"


def voice_for(settings: Settings) -> Voice:
    """The server's voice for these settings, with its cache in `<data_dir>/audio/` (bounded by
    LAIBAN_AUDIO_CACHE_MB; 0: no disk cache)."""
    from laiban.speech.cache import AudioCache

    engine = engine_for(settings)
    megabytes = settings.audio_cache_mb
    cache = AudioCache(Path(settings.data_dir) / "audio", megabytes * 1024 * 1024) if megabytes > 0 else None
    return Voice(engine, cache)
