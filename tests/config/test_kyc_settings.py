"""The kyc storage is chosen from the environment: the file system by default, an
S3-compatible bucket with KYC_STORAGE=s3, and anything else is refused at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = ("import json; from django.conf import settings; "
         "print(json.dumps({'kyc': settings.STORAGES['kyc'], "
         "'days': settings.KYC_DOCUMENT_RETENTION_DAYS}, default=str))")


def settings_with(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("KYC_")}
    environment.update(LENDGRAM_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings",
                       **env)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {PRINT}"],
                          cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=60)


def test_the_embedded_default_keeps_documents_on_the_file_system_under_var(tmp_path):
    done = settings_with(tmp_path)
    assert done.returncode == 0, done.stderr
    chosen = json.loads(done.stdout)
    assert chosen["kyc"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert chosen["kyc"]["OPTIONS"]["location"] == str(tmp_path / "kyc")
    assert chosen["days"] == 90


def test_s3_is_chosen_with_its_bucket_endpoint_keys_and_region(tmp_path):
    done = settings_with(tmp_path, KYC_STORAGE="s3", KYC_S3_BUCKET="lendgram-kyc",
                         KYC_S3_ENDPOINT_URL="https://s3.example.test",
                         KYC_S3_ACCESS_KEY_ID="AKIDEXAMPLE", KYC_S3_SECRET_ACCESS_KEY="s3cr3t",
                         KYC_S3_REGION="eu-west-1", KYC_DOCUMENT_RETENTION_DAYS="30")
    assert done.returncode == 0, done.stderr
    chosen = json.loads(done.stdout)
    options = chosen["kyc"]["OPTIONS"]
    assert chosen["kyc"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["endpoint_url"], options["access_key"],
            options["secret_key"], options["region_name"], options["location"]) == (
        "lendgram-kyc", "https://s3.example.test", "AKIDEXAMPLE", "s3cr3t", "eu-west-1", "kyc")
    assert options["default_acl"] is None
    assert chosen["days"] == 30


def test_an_unknown_storage_is_refused(tmp_path):
    done = settings_with(tmp_path, KYC_STORAGE="ftp")
    assert done.returncode != 0 and "KYC_STORAGE='ftp'" in done.stderr
