"""The test suite's settings: the production settings (config.settings, DEBUG off) with two
things the test client and the processes the tests start cannot do without, set in the
environment so those processes inherit them. Tests about HTTPS or two-factor sign-in turn
them back on (tests/config/test_security.py, tests/backoffice/test_operator_sign_in.py)."""

import os

# Plain http: Django's test client and the local servers the tests start speak no TLS.
os.environ.setdefault("DJANGO_SECURE_HTTPS", "0")
# Admin tests sign staff in with force_login, which carries no second factor.
os.environ.setdefault("OPERATOR_2FA_REQUIRED", "0")
# One key for the suite and every process it starts.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-key-" + "x" * 40)

from config.settings import *  # noqa: F403
