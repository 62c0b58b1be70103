from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    center = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """Who the token or session belongs to, with roles: what clients use to build their menus."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "username": user.username,
            "full_name": user.full_name,
            "center": str(user.center) if user.center_id else None,
            "department": user.department.name if user.department_id else None,
            "roles": sorted(user.role_codes),
        }
        return Response(MeSerializer(data).data)
