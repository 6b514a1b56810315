"""Identity documents (KYC): where their encrypted files live, how big they may be and how
long they are kept after a decision.

The files go to the named storage "kyc" (django-storages): the file system under var/ in the
embedded default, or an S3-compatible bucket when KYC_STORAGE=s3. Either way the bytes are
encrypted before they reach it (core/kyc/vault.py), so neither holds a readable image.
"""

from __future__ import annotations

import os

from config.settings.base import VAR_DIR

KYC_STORAGE = (os.environ.get("KYC_STORAGE") or "filesystem").lower()
if KYC_STORAGE == "s3":
    _KYC_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("KYC_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("KYC_S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("KYC_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("KYC_S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("KYC_S3_REGION") or None,
            "location": os.environ.get("KYC_S3_PREFIX", "kyc"),
            # Private objects only: no ACL grants, never a public or presigned URL.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif KYC_STORAGE == "filesystem":
    _KYC_BACKEND = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: these files are never served by URL, only by the admin's own view.
        "OPTIONS": {"location": os.environ.get("KYC_FILES_DIR") or str(VAR_DIR / "kyc"),
                    "base_url": None, "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700},
    }
else:
    raise ValueError(f"KYC_STORAGE={KYC_STORAGE!r}: use filesystem or s3")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "kyc": _KYC_BACKEND,
}

# Documents of a decided request are deleted this many days after the decision (the decision
# itself, who took it and why, is kept with the lending records).
KYC_DOCUMENT_RETENTION_DAYS = int(os.environ.get("KYC_DOCUMENT_RETENTION_DAYS") or "90")
# Largest photo or image file accepted, in bytes (Telegram's photos are well under 1 MB).
KYC_MAX_DOCUMENT_BYTES = int(os.environ.get("KYC_MAX_DOCUMENT_BYTES") or str(10 * 1024 * 1024))
