"""A kiosk's recording → 16 kHz mono float32 samples for the recogniser, in memory and bounded.

    samples = decode(body).samples  # raises AudioError (NotAudio, DamagedAudio, EmptyAudio, TooLong)

The container is recognised by its first bytes, never by the Content-Type the browser sent: WebM/Matroska
(Chrome's and Firefox's MediaRecorder, Opus), Ogg (Opus, Vorbis), MP4 (Safari's MediaRecorder, AAC) and
WAV. Only that one demuxer is used, so no other FFmpeg format (a playlist that names other files or
addresses, an image) is ever probed. Decoding stops as soon as the audio is longer than allowed: a
10-minute file costs as much as 15 seconds of it. Nothing is written to disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000  # what Whisper listens at
LONGEST_SECONDS = 15.0
FORMATS = "WebM/Opus, Ogg/Opus, MP4/AAC or WAV"


class AudioError(Exception):
    """A recording Laiban cannot listen to; the message is one sentence for the API's caller."""

    code = "invalid_audio"


class NotAudio(AudioError):
    """Not a recording in a container Laiban reads (a picture, text, an unknown format)."""

    code = "not_audio"


class DamagedAudio(AudioError):
    """A known container that is damaged or cut short before any sound."""

    code = "damaged_audio"


class EmptyAudio(AudioError):
    """No bytes at all."""

    code = "empty_recording"


class TooLong(AudioError):
    """More sound than `LONGEST_SECONDS`."""

    code = "recording_too_long"


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # float32 in [-1, 1], mono, SAMPLE_RATE; may be empty (a recording without sound)
    container: str  # "webm", "ogg", "mp4" or "wav"
    codec: str  # FFmpeg's name of the audio codec: "opus", "aac", "pcm_s16le", …

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def container_of(data: bytes) -> tuple[str, str] | None:
    """(our name, FFmpeg's demuxer) for the recording's first bytes, or None for anything else."""
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska and WebM
        return "webm", "matroska"
    if data[:4] == b"OggS":
        return "ogg", "ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav", "wav"
    if data[4:8] == b"ftyp":  # ISO base media: MP4, M4A (fragmented, as Safari records)
        return "mp4", "mov"
    return None


def decode(data: bytes, *, longest: float = LONGEST_SECONDS) -> Decoded:
    """The recording's first audio stream as mono float32 at SAMPLE_RATE. Raises AudioError."""
    if not data:
        raise EmptyAudio("The recording is empty.")
    found = container_of(data)
    if found is None:
        raise NotAudio(f"This is not a recording Laiban can read; send {FORMATS}.")
    name, demuxer = found

    import av  # PyAV (the `voice` extra): imported on first use

    limit = int(longest * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    count = 0
    codec = ""
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer, metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise NotAudio(f"The {name} file holds no sound; send {FORMATS}.")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    parts.append(chunk)
                    count += len(chunk)
                    if count > limit:
                        raise TooLong(f"The recording is longer than {longest:g} seconds.")
            parts.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, EOFError, IndexError) as exc:
        if not parts:
            raise DamagedAudio(f"The {name} recording is damaged or cut short.") from exc
        # Cut short after some sound (a recording that stopped mid-write): listen to what is there.
    samples = np.concatenate(parts).astype(np.float32) / 32768.0 if parts else np.zeros(0, np.float32)
    return Decoded(samples, name, codec)
