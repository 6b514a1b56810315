"""Identity documents are encrypted before they reach the storage: the folder or the bucket
holds no readable image, and the admin's read gives the image back."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.fernet import Fernet

from core.common import encryption
from core.kyc import vault
from tests.kyc.fixtures import jpeg, looks_like_an_image, png


@pytest.fixture(autouse=True)
def fresh_field_keys():
    encryption._cipher.cache_clear()
    yield
    encryption._cipher.cache_clear()


def test_a_document_on_the_file_system_is_not_an_image_and_reads_back(kyc_folder):
    image = jpeg()
    sealed = vault.document_store(image)
    [stored] = list(kyc_folder.rglob("*.bin"))
    blob = stored.read_bytes()
    assert not looks_like_an_image(blob)
    assert image not in blob and image[:32] not in blob
    assert blob.startswith(vault.MAGIC + b"\n")
    assert sealed.size == len(image)
    assert sealed.sha256 == hashlib.sha256(image).hexdigest()
    assert vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256) == image


def test_two_copies_of_one_image_are_stored_under_different_keys(kyc_folder):
    image = png()
    first, second = vault.document_store(image), vault.document_store(image)
    assert first.storage_name != second.storage_name
    blobs = [(kyc_folder / s.storage_name).read_bytes() for s in (first, second)]
    assert blobs[0] != blobs[1]


def test_a_document_in_the_bucket_is_not_an_image_and_reads_back(kyc_bucket):
    client, bucket = kyc_bucket
    image = jpeg("green")
    sealed = vault.document_store(image)
    [listed] = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert listed["Key"] == f"kyc/{sealed.storage_name}"
    blob = client.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
    assert not looks_like_an_image(blob)
    assert vault.unseal(blob) == image
    assert vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256) == image
    vault.document_delete(storage_name=sealed.storage_name)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    with pytest.raises(vault.VaultError):
        vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256)


def test_rotated_field_keys_still_read_an_older_document(kyc_folder, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    encryption._cipher.cache_clear()
    sealed = vault.document_store(jpeg())
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    encryption._cipher.cache_clear()
    assert vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    encryption._cipher.cache_clear()
    with pytest.raises(vault.VaultError):
        vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256)


def test_an_altered_file_is_refused(kyc_folder):
    sealed = vault.document_store(jpeg())
    path = kyc_folder / sealed.storage_name
    path.write_bytes(path.read_bytes()[:-8] + b"AAAAAAAA")
    with pytest.raises(vault.VaultError):
        vault.document_read(storage_name=sealed.storage_name, sha256=sealed.sha256)


def test_deleting_a_document_twice_is_harmless(kyc_folder):
    sealed = vault.document_store(jpeg())
    vault.document_delete(storage_name=sealed.storage_name)
    vault.document_delete(storage_name=sealed.storage_name)
    assert not list(kyc_folder.rglob("*.bin"))
