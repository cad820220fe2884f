"""Small secrets sealed under the server's secret key: AES-GCM with a key derived (HKDF-SHA256) from
`secret_key` for one purpose, a random nonce, and what the secret belongs to as associated data.

The same construction as the audio URLs (speech/tokens.py) without their synthetic nonce: these secrets are
few and are never compared by their sealed form. Used for staff's TOTP secrets in the database and for the
short-lived states of signing in with a code and of switching codes on (laiban.store.accounts).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
MAX_SEALED = 2048  # characters; what is sealed here is tiny


class NotSealedHere(Exception):
    """Not sealed by this server for this purpose and owner: forged, changed, or of another key."""


class SecretBox:
    def __init__(self, secret_key: str, purpose: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"laiban", info=purpose.encode()).derive(
            secret_key.encode("utf-8")
        )
        self._aead = AESGCM(key)

    def seal(self, plain: bytes, owner: bytes) -> str:
        """`plain` sealed; `owner` (say, the user id) must be given again to open it."""
        nonce = secrets.token_bytes(12)
        sealed = VERSION + nonce + self._aead.encrypt(nonce, plain, owner)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, sealed: str, owner: bytes) -> bytes:
        if len(sealed) > MAX_SEALED:
            raise NotSealedHere("too long")
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        except (binascii.Error, ValueError) as exc:
            raise NotSealedHere("not base64") from exc
        if len(raw) < 1 + 12 + 16 or raw[:1] != VERSION:
            raise NotSealedHere("not sealed")
        try:
            return self._aead.decrypt(raw[1:13], raw[13:], owner)
        except InvalidTag as exc:
            raise NotSealedHere("not authentic") from exc
