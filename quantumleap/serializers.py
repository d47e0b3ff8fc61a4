"""Serializer bases shared by every app's API."""

from django.utils import timezone
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo never passes silently."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]}, code="invalid")
        errors = {name: ["This field is not part of the API."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**error.detail, **errors}) from error
        if errors:
            raise serializers.ValidationError(errors)
        return value


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its zone: a naive time in trading is a bug, not a default."""

    default_error_messages = {"naive": "Give an ISO 8601 time with a time zone."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
