from __future__ import annotations

import pytest
from django.test import override_settings

from herald.core import crypto


def test_encrypt_round_trips_and_is_randomised() -> None:
    token = "123456:ABC-secret-token"
    first, second = crypto.encrypt(token), crypto.encrypt(token)
    assert first != second
    assert token not in first
    assert crypto.decrypt(first) == token == crypto.decrypt(second)


def test_any_string_works_as_a_key() -> None:
    with override_settings(FERNET_KEYS=["short"]):
        assert crypto.decrypt(crypto.encrypt("x")) == "x"
    with override_settings(FERNET_KEYS=["ünïcode key with spaces " * 5]):
        assert crypto.decrypt(crypto.encrypt("y")) == "y"


def test_rotation_old_values_still_decrypt_and_can_be_reencrypted() -> None:
    with override_settings(FERNET_KEYS=["old-key"]):
        old = crypto.encrypt("secret")
    with override_settings(FERNET_KEYS=["new-key", "old-key"]):
        assert crypto.decrypt(old) == "secret"
        rotated = crypto.reencrypt(old)
    with override_settings(FERNET_KEYS=["new-key"]):
        assert crypto.decrypt(rotated) == "secret"
        with pytest.raises(crypto.DecryptionError, match="HERALD_FERNET_KEYS"):
            crypto.decrypt(old)


def test_tampered_ciphertext_is_refused() -> None:
    value = crypto.encrypt("secret")
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered)


def test_fingerprint_is_stable_keyed_and_distinct() -> None:
    assert crypto.token_fingerprint("a") == crypto.token_fingerprint("a")
    assert crypto.token_fingerprint("a") != crypto.token_fingerprint("b")
    assert len(crypto.token_fingerprint("a")) == 64
    default = crypto.token_fingerprint("a")
    with override_settings(SECRET_KEY="another-secret-key-0123456789-0123456789-0123456789"):
        assert crypto.token_fingerprint("a") != default
