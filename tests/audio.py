"""Recordings for the listening tests and bench/listen.py: words as espeak-ng says them (through
Laiban's own engine), encoded the way each browser records (Chrome's WebM/Opus, Firefox's Ogg/Opus,
Safari's MP4/AAC, WAV), and a ten-minute file that must be refused early."""

from __future__ import annotations

import io
import wave

import av
import numpy as np

from laiban.speech.tts import espeak_library


def speak(
    text: str, voice: str = "en-us", wpm: int = 150, rate: int = 16000, pause: float = 0.5
) -> np.ndarray:
    """`text` as espeak-ng says it: int16 mono at `rate`, with `pause` seconds of silence around."""
    library = espeak_library()
    if library is None:
        raise RuntimeError("espeak-ng is not installed (pip install 'laiban[voice]')")
    with wave.open(io.BytesIO(library.synthesize(text, voice, wpm, 50))) as made:
        pcm = np.frombuffer(made.readframes(made.getnframes()), np.int16).astype(np.float32)
        made_rate = made.getframerate()
    at = np.arange(int(len(pcm) * rate / made_rate)) * made_rate / rate
    speech = np.interp(at, np.arange(len(pcm)), pcm).astype(np.int16)
    silence = np.zeros(int(rate * pause), np.int16)
    return np.concatenate([silence, speech, silence])


def encode(pcm: np.ndarray, kind: str, rate: int = 16000) -> bytes:
    """`pcm` (int16 mono at `rate`) as the browsers record it: Chrome's live WebM/Opus, Firefox's
    Ogg/Opus, Safari's fragmented MP4/AAC, or WAV."""
    if kind == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
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
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1).astype(np.int16), format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=48000)
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def ten_minute_webm() -> bytes:
    """Ten minutes of Opus in a live WebM (under 1 MB): one second encoded once, its packets repeated."""
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
