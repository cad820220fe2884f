"""Sealing under the server's secret key: AES-GCM with a key derived (HKDF-SHA256) from `secret_key` for
one purpose; sealed values travel as urlsafe base64 of version byte + 12-byte nonce + ciphertext.

`SecretBox` seals small secrets with a random nonce and what the secret belongs to as associated data:
staff's TOTP secrets in the database and the short-lived states of signing in with a code and of switching
codes on (laiban.store.accounts). The audio URLs (speech/tokens.py) use the same key derivation and
envelope with a synthetic nonce of their own.
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


def derive_key(secret_key: str, purpose: bytes, length: int = 32) -> bytes:
    """Key material for one purpose, from the server's secret key (every worker derives the same)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"laiban", info=purpose).derive(
        secret_key.encode("utf-8")
    )


def wrap(nonce: bytes, ciphertext: bytes) -> str:
    """The envelope: urlsafe base64 of version + nonce + ciphertext, without padding."""
    return base64.urlsafe_b64encode(VERSION + nonce + ciphertext).rstrip(b"=").decode("ascii")


def unwrap(sealed: str, max_length: int) -> tuple[bytes, bytes]:
    """(nonce, ciphertext) of an envelope; raises NotSealedHere for anything that is not one."""
    if len(sealed) > max_length:
        raise NotSealedHere("too long")
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError) as exc:
        raise NotSealedHere("not base64") from exc
    if len(raw) < 1 + 12 + 16 or raw[:1] != VERSION:
        raise NotSealedHere("not sealed")
    return raw[1:13], raw[13:]


class SecretBox:
    def __init__(self, secret_key: str, purpose: str):
        self._aead = AESGCM(derive_key(secret_key, purpose.encode()))

    def seal(self, plain: bytes, owner: bytes) -> str:
        """`plain` sealed; `owner` (say, the user id) must be given again to open it."""
        nonce = secrets.token_bytes(12)
        return wrap(nonce, self._aead.encrypt(nonce, plain, owner))

    def open(self, sealed: str, owner: bytes) -> bytes:
        nonce, ciphertext = unwrap(sealed, MAX_SEALED)
        try:
            return self._aead.decrypt(nonce, ciphertext, owner)
        except InvalidTag as exc:
            raise NotSealedHere("not authentic") from exc
