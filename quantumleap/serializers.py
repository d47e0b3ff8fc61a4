"""Serializer bases shared by every app's API."""

import re
from collections.abc import Mapping

from django.utils import timezone
from rest_framework import serializers

# Ids are 64-bit (BigAutoField): anything larger names nothing, and must not reach the database.
ID_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


class StrictFieldsMixin:
    """Refuses fields it does not know, so a typo never passes silently.

    A read-only field is known: a document read with GET may be sent back as it is.
    """

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]}, code="invalid")
        errors = {name: ["This field is not part of the API."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**error.detail, **errors}) from error
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A serializer that refuses fields it does not know."""


class IdField(serializers.IntegerField):
    """A row id: 1 to 2**63 - 1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


def query_integer(params: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int | None:
    """A query parameter that must be a plain decimal integer in range, when given; ValidationError otherwise."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise serializers.ValidationError({name: [f"Give a whole number from {minimum} to {maximum}."]})
    return int(raw)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its zone: a naive time in trading is a bug, not a default."""

    default_error_messages = {"naive": "Give an ISO 8601 time with a time zone."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
