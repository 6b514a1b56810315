"""The error every scoring service raises for a request it refuses."""

from __future__ import annotations

from core.common.errors import ServiceError


class ScoringError(ServiceError):
    code = "scoring"
