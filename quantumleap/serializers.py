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
        for name, field in self.fields.items():
            # DRF's CharField would take 0 for "0": a number where text is asked for is a mistake, not a symbol.
            text = isinstance(field, serializers.CharField) and not isinstance(field, serializers.ChoiceField)
            if text and name in data and data[name] is not None and not isinstance(data[name], str):
                errors[name] = ["Give a string."]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**error.detail, **errors}) from error
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A serializer that refuses fields it does not know."""


def query_data(params: Mapping[str, str]) -> dict[str, str]:
    """Query parameters for a serializer: a plain dict, so that `?since=` is refused rather than taken as absent."""
    return {name: params.get(name) for name in params}


class IdField(serializers.IntegerField):
    """A row id: 1 to 2**63 - 1, as a JSON integer or plain digits (never 5.0, " 5" or a non-ASCII digit)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        plain = (isinstance(data, int) and not isinstance(data, bool)) or (
            isinstance(data, str) and re.fullmatch(r"[0-9]+", data)
        )
        if not plain:
            self.fail("invalid")
        return super().to_internal_value(data)


def query_integer(params: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int | None:
    """A query parameter that must be a plain decimal integer in range, when given; ValidationError otherwise."""
    raw = params.get(name)
    if raw is None:
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


def decimal_pattern(*, places: int, whole_digits: int, positive: bool, at_most: str = "") -> str:
    """The regex of a plain decimal string (no sign, exponent or spaces) in a range.

    ``at_most`` is "one" ([.., 1]) or "below_one" ([.., 1)); otherwise ``whole_digits`` bound it.
    ``positive`` leaves zero out. JSON Schema cannot compare strings as numbers: the pattern says the range.
    """
    fraction = rf"(?:\.[0-9]{{1,{places}}})?"
    # A fraction of `places` digits at most with a non-zero digit: by the position of the first one.
    nonzero_fraction = "|".join(f"0{{{k}}}[1-9][0-9]{{0,{places - 1 - k}}}" for k in range(places))
    small = rf"0\.(?:{nonzero_fraction})" if positive else rf"0{fraction}"
    if at_most == "one":
        body = rf"{small}|1(?:\.0{{1,{places}}})?"
    elif at_most == "below_one":
        body = small
    else:
        body = rf"{small}|[1-9][0-9]{{0,{whole_digits - 1}}}{fraction}"
    return rf"^(?:{body})$"


class DecimalField(serializers.DecimalField):
    """A decimal taken as a JSON number or as a plain decimal string, never as a float's approximation.

    A string must be plain (``0.25``, not `` .25``, ``+0.25`` or ``2.5e-1``) so that the schema's
    pattern is exactly what is accepted. Requests may not be negative.
    """

    default_error_messages = {"plain": "Give a plain decimal number, e.g. 0.25."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        low, high = self.min_value, self.max_value
        assert low is not None and low >= 0, "request decimals are never negative"
        self.positive = low > 0
        self.at_most = "one" if high == 1 else "below_one" if high is not None and high < 1 else ""
        self.pattern = decimal_pattern(
            places=self.decimal_places,
            whole_digits=self.max_digits - self.decimal_places,
            positive=self.positive,
            at_most=self.at_most,
        )
        self._plain = re.compile(self.pattern)

    def validate_empty_values(self, data):
        # DRF would take "" for null; a blank is no number, null says "none" (where allowed).
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data):
        if isinstance(data, str) and not self._plain.match(data):
            # Out of range or malformed: DRF's messages say which, and "plain" covers the rest.
            value = super().to_internal_value(data)
            self.fail("plain")
            return value
        return super().to_internal_value(data)
