"""The only request body the API takes: one JSON document that means exactly one thing."""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body of ours needs (a signal's metadata may nest 8); refused before any field sees it.
MAX_JSON_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _RepeatedKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        # json.dumps: the key goes into the message escaped, whatever it holds.
        raise _RepeatedKey(f"The key {json.dumps(repeated)} appears more than once in one object.")
    return value


def _constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number.")


def _holds_nul(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _too_deep(data: Any) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


class StrictJSONParser(JSONParser):
    """JSON as RFC 8259 means it, refused when it could be read two ways.

    A key repeated in one object is refused (Python would keep the last: a HOLD became a BUY), and
    so are NaN and Infinity, bytes that are not UTF-8, an escaped lone surrogate or NUL character (no
    database stores them: PostgreSQL refuses ``\\u0000`` in text and JSON) and nesting deeper than
    ``MAX_JSON_DEPTH`` (it would exhaust the stack further on).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(settings.DEFAULT_CHARSET)
            data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
        except _RepeatedKey as error:
            raise ParseError(str(error)) from None
        except RecursionError:
            raise ParseError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if isinstance(data, dict | list) and _too_deep(data):
            raise ParseError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.")
        if _SURROGATE_ESCAPE.search(text):
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise ParseError("The JSON holds a lone UTF-16 surrogate escape.") from None
        if "\\u0000" in text and _holds_nul(data):
            raise ParseError("The JSON holds a NUL character (\\u0000), which is stored nowhere.")
        return data
