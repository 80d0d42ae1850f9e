"""Encryption of ID numbers at rest (Fernet, from ``cryptography``) and their blind index (HMAC-SHA256).

FIELD_ENCRYPTION_KEY holds one key or several separated by commas: the first encrypts and indexes,
all of them decrypt (``MultiFernet``), so a key can be rotated. A key that is not already a Fernet
key is stretched with HKDF; the blind-index key is derived separately from the same secret so that
neither reveals the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"veterans-portal", info=purpose).derive(secret.encode())


def _secrets() -> list[str]:
    secrets = [s.strip() for s in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if s.strip()]
    if not secrets:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set (缺少 FIELD_ENCRYPTION_KEY).")
    return secrets


@lru_cache(maxsize=4)
def _fernet(key_setting: str) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(s, b"field-encryption"))) for s in _secrets()])


@lru_cache(maxsize=4)
def _index_key(key_setting: str) -> bytes:
    return _derive(_secrets()[0], b"blind-index")


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("An ID number cannot be decrypted: FIELD_ENCRYPTION_KEY does not match.") from exc


def blind_index(value: str) -> str:
    """Keyed hash for exact look-up and uniqueness; the same number always gives the same index."""
    return hmac.new(_index_key(settings.FIELD_ENCRYPTION_KEY), value.encode(), hashlib.sha256).hexdigest()
