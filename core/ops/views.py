"""GET /health (JSON for load balancers), /health/live (the process answers) and /metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from core.ops.health import health_report
from core.ops.metrics import exposition


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness only (container restarts): the process serves requests. Dependencies are
    /health's business, so a database outage does not restart every web container."""
    return JsonResponse({"ok": True})


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        # Only "Bearer <token>" (the scheme is case-insensitive); a bare token is refused too.
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), settings.METRICS_TOKEN.encode()):
            response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
