"""Audio URLs that say nothing: `/api/v1/speech/<token>`, where the token is what to say, sealed.

An answer may hold a child's name ("Mormor hämtar Ella"), and URLs end up in proxies' and servers' logs.
So the token is the spoken text and how to say it (language, rate, pitch, engine, whether it is personal,
the preschool, when it was issued) compressed and encrypted with AES-GCM under a key derived (HKDF-SHA256)
from the server's secret key, which every worker process shares; urlsafe base64. Nobody without the key can
read it or make one; any change to it fails authentication.

The nonce is synthetic (an HMAC of the plaintext under a second derived key), so the same answer on the
same day gets the same URL, from POST /ask and from GET /answers alike (the kiosk's service worker keeps
the day's audio by URL), and two different plaintexts never share a nonce. Tokens of answers about nobody
are issued at the start of the preschool's day; personal ones at the second they were made. A token is
good for `MAX_AGE` after it was issued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from laiban.sealing import NotSealedHere, derive_key, unwrap, wrap

MAX_AGE = 26 * 3600  # seconds: a day's offline copy of the answers stays playable all day
MAX_TOKEN = 4096  # characters; a 600-character text makes well under 2000
FUTURE_SKEW = 300  # seconds a token's issue time may lie ahead (clocks of several servers)
_AAD = b"laiban speech token"


class InvalidToken(Exception):
    """Not a token of this server: forged, changed, expired or of another secret key."""


@dataclass(frozen=True)
class Said:
    """What a token says: the text to speak and how, for which preschool, issued when (Unix seconds)."""

    text: str
    lang: str
    rate: int
    pitch: int
    engine: str
    personal: bool
    preschool_id: int
    issued: int

    def _plain(self) -> bytes:
        fields = [
            self.text,
            self.lang,
            self.rate,
            self.pitch,
            self.engine,
            int(self.personal),
            self.preschool_id,
            self.issued,
        ]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def _parse(cls, plain: bytes) -> Said:
        text, lang, rate, pitch, engine, personal, preschool_id, issued = json.loads(plain)
        said = cls(text, lang, rate, pitch, engine, bool(personal), preschool_id, issued)
        for value, kind in ((text, str), (lang, str), (engine, str)):
            if not isinstance(value, kind):
                raise ValueError("bad field")
        for number in (rate, pitch, preschool_id, issued):
            if not isinstance(number, int) or isinstance(number, bool):
                raise ValueError("bad field")
        return said


class Tokens:
    """Seals and opens speech tokens with keys derived from `secret_key`."""

    def __init__(self, secret_key: str):
        material = derive_key(secret_key, b"speech token v1", 64)
        self._aead = AESGCM(material[:32])
        self._nonce_key = material[32:]

    def seal(self, said: Said) -> str:
        plain = said._plain()
        nonce = hmac.new(self._nonce_key, plain, hashlib.sha256).digest()[:12]
        packed = zlib.compress(plain, 9, wbits=-15)  # raw deflate: a long text shrinks by a third or more
        return wrap(nonce, self._aead.encrypt(nonce, packed, _AAD))

    def open(self, token: str, now: float | None = None) -> Said:
        """What `token` says; raises InvalidToken when it is not ours, was changed or has expired."""
        try:
            nonce, ciphertext = unwrap(token, MAX_TOKEN)
        except NotSealedHere as exc:
            raise InvalidToken(str(exc)) from exc
        try:
            packed = self._aead.decrypt(nonce, ciphertext, _AAD)
            said = Said._parse(zlib.decompress(packed, wbits=-15, bufsize=4096))
        except (InvalidTag, zlib.error, ValueError, TypeError) as exc:
            raise InvalidToken("not authentic") from exc
        now = time.time() if now is None else now
        if not now - MAX_AGE <= said.issued <= now + FUTURE_SKEW:
            raise InvalidToken("expired")
        return said

    def fingerprint(self, name: str) -> str:
        """A short keyed name for the audio called `name` (the cache key), for its ETag: the same audio
        has the same ETag on every day and in every worker, and it reveals nothing about the text."""
        return hmac.new(self._nonce_key, b"etag:" + name.encode(), hashlib.sha256).hexdigest()[:32]
