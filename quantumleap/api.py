"""Project-wide REST views: what operations watch."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import OPERATE
from quantumleap.operations import operations_overview


class OperationsApi(APIView):
    access = {"GET": OPERATE}
    error_statuses = {403}

    @extend_schema(responses=dict)
    def get(self, request):
        return Response(operations_overview(now=timezone.now()))
