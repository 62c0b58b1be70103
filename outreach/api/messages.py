"""Messages to the petitioner under /api/v1/: ``GET cases/{id}/messages/`` lists what was sent
on a case (or queued, failed, not sent to a person who opted out), masked: the text with its
secrets replaced, the masked number. The case is reached through get_case_for (not-yours and
not-found are the same 404). A case has a handful of messages, so the list is not paginated."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.models import Message
from outreach.selectors_messages import messages_of_case
from petitions.api.views import actor_of
from petitions.selectors import get_case_for


class MessageSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    text = serializers.CharField(source="body_masked", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "kind_display",
            "text",
            "phone_masked",
            "state",
            "state_display",
            "attempts",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class CaseMessagesView(APIView):
    @extend_schema(
        tags=["outreach"],
        summary="Messages to the petitioner on a case (masked)",
        responses={
            200: MessageSerializer(many=True),
            404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        case = get_case_for(actor_of(request), pk)
        return Response(MessageSerializer(messages_of_case(case), many=True).data)


urlpatterns = [
    path("cases/<int:pk>/messages/", CaseMessagesView.as_view(), name="case-messages"),
]
