"""Liveness, readiness and Prometheus metrics."""

import hmac

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from trading.loops import loops_status


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def health_checks() -> dict[str, str]:
    """Whether the database and the cache answer: "ok", or why not."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"unavailable: {error.__class__.__name__}"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "unavailable"
    except Exception as error:  # the Redis client raises its own error classes
        checks["cache"] = f"unavailable: {error.__class__.__name__}"
    return checks


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database and the cache answer and no background loop is late (3 intervals without a beat)."""
    checks = health_checks()
    loops = loops_status()
    late = [loop["name"] for loop in loops if loop["state"] == "late"]
    ready = all(v == "ok" for v in checks.values()) and not late
    body = {"status": "ok" if ready else "unavailable", "checks": checks, "loops": loops, "late": late}
    return JsonResponse(body, status=200 if ready else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """The scraper's `Authorization: Bearer <METRICS_TOKEN>`, or an address in METRICS_ALLOWED_IPS."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return JsonResponse(
            {"code": "permission_denied", "message": "Metrics need `Authorization: Bearer <METRICS_TOKEN>`."},
            status=403,
        )
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
