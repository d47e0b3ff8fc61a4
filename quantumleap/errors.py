"""Every API error answers with a machine code and a human sentence: ``{"code", "message", "errors"?}``.

DRF's views answer through ``api_exception_handler``. What happens outside them (no URL matched, a
body over the size limit, a crash anywhere) reaches Django's error handlers, which answer the same
JSON under ``/api/`` and the usual pages elsewhere.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.response import Response
from rest_framework.views import exception_handler

from quantumleap import codes

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: Django logs it and server_error answers
    detail = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(detail, dict) and "detail" in detail and len(detail) == 1:
        message = str(detail["detail"])
        code = getattr(detail["detail"], "code", code)
        response.data = {"code": code, "message": message}
    else:
        errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = {"code": code, "message": "The request is not valid.", "errors": errors}
    extra = getattr(exc, "extra", None)  # more for the answer, e.g. the figures behind a refusal's sentence
    if isinstance(extra, dict):
        response.data.update(extra)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(413, codes.PAYLOAD_TOO_LARGE, f"The body is larger than {limit:,} bytes.")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _too_large()
    return error_response(400, codes.INVALID, "The request is not valid.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return error_response(403, codes.PERMISSION_DENIED, "You may not do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return error_response(404, codes.NOT_FOUND, f"There is nothing at {request.path}.")


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    # Django has logged the exception with its traceback; the client learns nothing of the internals.
    return error_response(500, codes.SERVER_ERROR, "The server failed to answer this request; it has been logged.")


class ApiBodyLimitMiddleware:
    """Refuses an API body larger than DATA_UPLOAD_MAX_MEMORY_SIZE with 413 before anything reads it.

    Only methods that carry a body: a GET's body is never read.

    DRF reads a JSON body from the stream, past Django's own check on ``request.body``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_api(request) and request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                return _too_large()
        return self.get_response(request)
