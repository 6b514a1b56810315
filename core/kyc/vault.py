"""Identity documents encrypted before they reach the "kyc" storage (envelope encryption).

Each document gets a fresh Fernet data key; the image is encrypted with it, and the data key
is encrypted with the field-encryption keys (FIELD_ENCRYPTION_KEYS, core/common/encryption.py),
so rotating those keys works for documents as for phone numbers, and a copy of the bucket or
the folder alone reads as noise. A stored file is:

    LGKYC1\n<data key encrypted with the field keys>\n<image encrypted with the data key>

The plaintext's SHA-256 is checked when it is read back. Nothing here logs the bytes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from core.common.encryption import decrypt_text, encrypt_text

MAGIC = b"LGKYC1"
STORAGE_ALIAS = "kyc"


class VaultError(Exception):
    """A stored document cannot be read back (missing, altered, or foreign keys)."""


@dataclass(frozen=True)
class Sealed:
    storage_name: str
    size: int
    sha256: str


def kyc_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def seal(data: bytes) -> bytes:
    data_key = Fernet.generate_key()
    wrapped = encrypt_text(data_key.decode()).encode()
    return b"\n".join([MAGIC, wrapped, Fernet(data_key).encrypt(data)])


def unseal(blob: bytes) -> bytes:
    try:
        magic, wrapped, token = blob.split(b"\n", 2)
        if magic != MAGIC:
            raise ValueError("not a sealed document")
        data_key = decrypt_text(wrapped.decode()).encode()
        return Fernet(data_key).decrypt(token)
    except (ValueError, InvalidToken) as exc:
        raise VaultError("the document cannot be decrypted with the configured keys") from exc


def document_store(data: bytes) -> Sealed:
    """Encrypt and store; the name is random (it says nothing about whose document it is)."""
    name = kyc_storage().save(f"{secrets.token_hex(16)}.bin", ContentFile(seal(data)))
    return Sealed(storage_name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def document_read(*, storage_name: str, sha256: str) -> bytes:
    storage = kyc_storage()
    try:
        with storage.open(storage_name, "rb") as handle:
            blob = handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise VaultError("the document is no longer stored") from exc
    data = unseal(blob)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise VaultError("the document does not match its recorded hash")
    return data


def document_delete(*, storage_name: str) -> None:
    """Delete a stored document; one already gone counts as deleted (the job may re-run)."""
    if storage_name:
        kyc_storage().delete(storage_name)
