"""Identity-document test helpers: real small images, and the kyc storage in a temporary
folder (the file-system storage of the embedded default) or a real local S3 server (moto's,
started on a free port: boto talks HTTP to it, nothing is mocked)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.disposable import free_port


def jpeg(colour: str = "navy", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def png(colour: str = "orange", size: tuple[int, int] = (40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def uploads(document: bytes | None = None, selfie: bytes | None = None) -> list:
    """The two documents of a request: a JPEG identity document and a PNG selfie."""
    from core.kyc.models import DocumentKind
    from core.kyc.services import Upload

    return [Upload(kind=DocumentKind.ID_DOCUMENT, data=document or jpeg()),
            Upload(kind=DocumentKind.SELFIE, data=selfie or png())]


def looks_like_an_image(blob: bytes) -> bool:
    return blob.startswith((b"\xff\xd8\xff", b"\x89PNG")) or b"JFIF" in blob[:64]


def _storages(settings, kyc: dict) -> None:
    settings.STORAGES = {**settings.STORAGES, "kyc": kyc}


@pytest.fixture
def kyc_folder(settings, tmp_path):
    """The kyc storage on the file system, in a folder of this test's own."""
    folder = tmp_path / "kyc"
    _storages(settings, {"BACKEND": "django.core.files.storage.FileSystemStorage",
                         "OPTIONS": {"location": str(folder), "base_url": None}})
    return folder


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def kyc_bucket(settings, s3_server):
    """The kyc storage in a fresh bucket of the local S3 server; returns a boto3 client and
    the bucket's name to read what was stored."""
    import boto3

    bucket = f"kyc-{free_port()}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                   "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_server, **credentials)
    client.create_bucket(Bucket=bucket)
    _storages(settings, {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": s3_server, "access_key": "testing",
        "secret_key": "testing", "region_name": "us-east-1", "location": "kyc",
        "default_acl": None, "file_overwrite": False}})
    return client, bucket
