"""Secrets at rest: Fernet encryption with rotating keys, a keyed fingerprint for unique lookups, and a model
field that stores text encrypted.

Every configured key is a free-form secret string; a proper 32-byte Fernet key is derived from it with HKDF,
so an operator can put any string in ``HERALD_FERNET_KEYS``. The first key encrypts, all keys decrypt, so a
new key goes first and the old one stays until every value has been re-encrypted (see ``reencrypt``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

_HKDF_SALT = b"herald.core.crypto"
_HKDF_INFO = b"fernet-key-v1"


class DecryptionError(ValueError):
    """A stored value could not be decrypted: tampered, or encrypted with a key no longer configured."""


def derive_fernet_key(secret: str) -> bytes:
    """A url-safe base64 32-byte Fernet key derived from any secret string."""
    if not secret:
        raise ValueError("a Fernet key secret must not be empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=4)
def _fernet_for(secrets: tuple[str, ...]) -> MultiFernet:
    if not secrets:
        raise ValueError("FERNET_KEYS is empty: at least one key is needed to encrypt secrets")
    return MultiFernet([Fernet(derive_fernet_key(secret)) for secret in secrets])


def _fernet() -> MultiFernet:
    # Keyed on the current setting so tests (and a reload) that change FERNET_KEYS take effect.
    return _fernet_for(tuple(settings.FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "cannot decrypt a stored secret: it was tampered with or encrypted with a key that is no "
            "longer in HERALD_FERNET_KEYS"
        ) from exc


def reencrypt(ciphertext: str) -> str:
    """The same secret encrypted with the current first key (for key rotation)."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("cannot re-encrypt a stored secret: no configured key decrypts it") from exc


def token_fingerprint(value: str) -> str:
    """A stable keyed hash (hex HMAC-SHA256 under SECRET_KEY) to find a secret without storing it.

    Unlike the ciphertext it is deterministic, so it can carry a unique index. It changes with SECRET_KEY.
    """
    key = hashlib.sha256(b"herald.core.crypto.fingerprint:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored Fernet-encrypted; reads give back the plaintext.

    Ciphertexts are randomised, so the column cannot be filtered on: keep a ``token_fingerprint`` beside it.
    """

    description = "Text encrypted at rest with Fernet"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "":
            return value
        return encrypt(str(value))
