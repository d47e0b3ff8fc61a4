"""Paging every list of the API: `limit` up to LIST_MAX_LIMIT, `offset` from 0, refused when not so."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from quantumleap.serializers import ID_MAX, query_integer

LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 500


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset paging, except that a limit or offset it cannot honour is a 400, not a silent default."""

    default_limit = LIST_DEFAULT_LIMIT
    max_limit = LIST_MAX_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name, low, high in (("limit", 1, LIST_MAX_LIMIT), ("offset", 0, ID_MAX)):
            try:
                query_integer(request.query_params, name, minimum=low, maximum=high)
            except ValidationError as error:
                errors.update(error.detail)
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] = {"type": "integer", "minimum": 1, "maximum": LIST_MAX_LIMIT, "default": LIST_DEFAULT_LIMIT}
        limit["description"] = f"Rows to return, 1 to {LIST_MAX_LIMIT} (default {LIST_DEFAULT_LIMIT})."
        offset["schema"] = {"type": "integer", "minimum": 0, "maximum": ID_MAX, "default": 0}
        offset["description"] = "Rows to skip (default 0)."
        return [limit, offset]
