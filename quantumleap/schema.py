"""The OpenAPI schema, exact: every status an operation answers and every constraint its fields enforce.

drf-spectacular describes the happy path; this adds what a client generated from the schema must
also know: the error answers (``quantumleap/errors.py``) each operation can give, decimals as the
plain strings or numbers they are taken as, and that a strict serializer refuses unknown fields.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from quantumleap import codes
from quantumleap.serializers import DecimalField, StrictFieldsMixin

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(codes.ERRORS), help_text="quantumleap/codes.py, README's table")
    message = serializers.CharField(help_text="A sentence for a person")
    errors = serializers.DictField(
        required=False, help_text="On 400 invalid: each field (or list position) and its sentences"
    )


class RefusalOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(codes.ORDER_REFUSALS), help_text="Why the command was refused")
    message = serializers.CharField()


ERROR_DESCRIPTIONS = {
    400: "Bad input: `invalid` with `errors` per field, or `parse_error`; nothing changed",
    401: "No key or session, or a key that is unknown or revoked",
    403: "Not allowed: the role or key may not (accounts.permissions), another strategy's key, a missing CSRF token",
    404: "Nothing of yours there",
    406: "The Accept header asks for something other than JSON",
    409: "Refused in the order's, position's or strategy's present state; nothing changed",
    413: "The body is larger than 2 MiB",
    415: "The body is not application/json",
    429: "Too many requests (per API key, per user): `throttled`, with `Retry-After` in seconds",
}


class ApiSchema(AutoSchema):
    """Views name the statuses beyond the usual they answer in ``error_statuses``: {404}, or {"PATCH": {409}};
    a view whose 409 is not an order's refusal names its body in ``refusal_output``."""

    def _error_statuses(self) -> set[int]:
        # Any operation may be refused to a role (accounts.permissions) or throttled (accounts.throttles).
        statuses = {401, 403, 406, 429}
        has_body = self.method in UNSAFE and self.get_request_serializer() is not None
        if has_body:
            statuses |= {400, 415}
        if self.method in UNSAFE:
            statuses.add(413)  # any body is held to the limit
        if (self._is_list_view() and self._get_paginator()) or self.get_override_parameters():
            statuses.add(400)
        if "{" in self.path:
            statuses.add(404)
        extra = getattr(self.view, "error_statuses", ())
        if isinstance(extra, dict):  # per method: {"PATCH": {409}}
            extra = extra.get(self.method, ())
        return statuses | set(extra)

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in sorted(self._error_statuses()):
            refusal = getattr(self.view, "refusal_output", RefusalOutput)
            serializer = refusal if status == 409 else ErrorOutput
            response = self._get_response_for_code(serializer, str(status), direction=direction)
            response["description"] = ERROR_DESCRIPTIONS[status]
            responses.setdefault(str(status), response)
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, DecimalField) and direction == "request":
            return _decimal_request(field, schema)
        plain_text = not isinstance(field, serializers.ChoiceField | serializers.RegexField)
        if direction == "request" and isinstance(field, serializers.CharField) and plain_text:
            # DRF refuses NUL in any text and, trimming it first, a blank one.
            blank = field.allow_blank or not field.trim_whitespace
            schema.setdefault("pattern", r"^[^\u0000]*$" if blank else r"^[^\u0000]*[^\s\u0000][^\u0000]*$")
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictFieldsMixin):
            schema["additionalProperties"] = False
        for name, field in serializer.fields.items():
            prop = schema.get("properties", {}).get(name, {})
            # DRF's many=True lists (a batch's signals) carry min_length / max_length spectacular leaves out.
            if isinstance(field, serializers.ListSerializer) and prop.get("type") == "array":
                if field.min_length is not None:
                    prop["minItems"] = field.min_length
                if field.max_length is not None:
                    prop["maxItems"] = field.max_length
        return schema


def _decimal_request(field: DecimalField, schema: dict[str, Any]) -> dict[str, Any]:
    step = 10**-field.decimal_places
    number = {"type": "number", "minimum": float(field.min_value), "multipleOf": step}
    if field.max_value is not None:
        number["maximum"] = float(field.max_value)
    else:  # below 10 ** whole digits (as a float, 99999999999999.999999 would round up to it)
        number.update(maximum=10 ** (field.max_digits - field.decimal_places), exclusiveMaximum=True)
    text = {"type": "string", "format": "decimal", "pattern": field.pattern}
    described = {key: value for key, value in schema.items() if key in ("description", "nullable", "default")}
    return {"anyOf": [text, number], **described}
