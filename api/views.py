"""API v1 endpoints. Reads are scoped to the user's organisations by the same selectors as the
pages; writes call the same services (roles, organisation, history, versions, validation)."""

from __future__ import annotations

from contextlib import ExitStack

from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.security_log import record
from cases import register, services
from cases.access import case_and_role_for_user
from cases.deadlines import Status as ClockStatus
from cases.models import BreachCase, Obligation, Organization
from cases.permissions import DECISION_ROLES, READ_ROLES, WRITE_ROLES
from cases.regimes import Authority
from cases.selectors import board
from cases.services.common import acting_via

from . import serializers as s
from .models import ApiToken
from .rest import JSONParser
from .tokens import LOG_KIND

ERRORS = {
    400: OpenApiTypes.OBJECT,
    401: OpenApiTypes.OBJECT,
    403: OpenApiTypes.OBJECT,
    404: OpenApiTypes.OBJECT,
    409: OpenApiTypes.OBJECT,
    429: OpenApiTypes.OBJECT,
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in (401, 403, 404, 429, *codes)}


class ApiMixin:
    """Names the token in the history of every write made with it (`acting_via`).

    `method_roles` says which roles may use each method on a case URL (as `cases.access.case_view`):
    another organisation's case answers 404, a role not listed 403, before any input is read.
    """

    method_roles: dict[str, frozenset[str]] = {}

    def dispatch(self, request, *args, **kwargs):
        # The channel is set for this request only, and reset however it ends (a server error too):
        # otherwise the next write on the same worker thread would name this token in its history.
        with ExitStack() as self._channel:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, ApiToken):
            self._channel.enter_context(acting_via(request.auth.label))

    def case(self) -> BreachCase:
        case, role = case_and_role_for_user(self.request.user, self.kwargs["reference"])
        if role not in self.method_roles.get(self.request.method, READ_ROLES):
            raise PermissionDenied
        return case


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _organizations_readable(user) -> QuerySet[Organization]:
    return Organization.objects.filter(
        memberships__user=user, memberships__is_active=True, memberships__role__in=READ_ROLES
    ).order_by("name")


@extend_schema(tags=["cases"])
class CaseListView(ApiMixin, generics.GenericAPIView):
    serializer_class = s.CaseSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=BreachCase.Status.values),
            OpenApiParameter("organization", str, description="An organisation code."),
            OpenApiParameter("q", str, description="Searches reference and title."),
        ],
        responses={200: s.CaseSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        """The cases of your organisations, most urgent next due date first."""
        filters = _valid(s.CaseListFilterSerializer, request.query_params)
        cases = board.case_list(
            request.user,
            q=filters.get("q", ""),
            organization=filters.get("organization"),
            status=filters.get("status"),
            now=timezone.now(),
        ).select_related("organization")
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(s.CaseSerializer(page, many=True).data)

    @extend_schema(request=s.CaseOpenSerializer, responses={201: s.CaseSerializer, **errors(400)})
    def post(self, request):
        """Open a case (the facts that start the clocks; the rest can follow)."""
        data = _valid(s.CaseOpenSerializer, request.data, organizations=board.user_organizations(request.user))
        organization = data.pop("organization")
        case = services.case_open(organization=organization, acting_user=request.user, **data)
        return Response(s.CaseSerializer(case).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["cases"])
class CaseDetailView(ApiMixin, APIView):
    method_roles = {"GET": READ_ROLES, "PATCH": WRITE_ROLES}

    @extend_schema(responses={200: s.CaseSerializer, **errors()})
    def get(self, request, reference: str):
        """One case."""
        return Response(s.CaseSerializer(self.case()).data)

    @extend_schema(request=s.CaseFactsSerializer, responses={200: s.CaseSerializer, **errors(400, 409)})
    def patch(self, request, reference: str):
        """Change facts of a case; `version` is the version you read (409 if it changed since)."""
        case = self.case()
        data = _valid(s.CaseFactsSerializer, request.data)
        version = data.pop("version")
        reason = data.pop("change_reason", "")
        case = services.case_update_facts(
            case, acting_user=request.user, change_reason=reason, expected_version=version, **data
        )
        case.refresh_from_db()
        return Response(s.CaseSerializer(case).data)


@extend_schema(tags=["obligations"])
class ObligationListView(ApiMixin, APIView):
    @extend_schema(responses={200: s.ObligationSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """The obligations of a case."""
        case = self.case()
        obligations = case.obligations.select_related("case__organization").order_by("due_at", "pk")
        return Response(s.ObligationSerializer(obligations, many=True).data)


class ObligationActionView(ApiMixin, APIView):
    def obligation(self) -> Obligation:
        case = self.case()
        obligation = get_object_or_404(Obligation.objects.filter(case=case), pk=self.kwargs["obligation_id"])
        obligation.case = case
        return obligation

    def answer(self, obligation: Obligation) -> Response:
        obligation.refresh_from_db()
        return Response(s.ObligationSerializer(obligation).data)


@extend_schema(tags=["obligations"])
class ObligationCompleteView(ObligationActionView):
    method_roles = {"POST": WRITE_ROLES}

    @extend_schema(request=s.ObligationCompleteSerializer, responses={200: s.ObligationSerializer, **errors(400, 409)})
    def post(self, request, reference: str, obligation_id: int):
        """Mark done an obligation no filing fulfils (the Art. 33(5) register entry); after its due date
        `late_reason` is required. A filing obligation is refused (400): it is completed only by its filing."""
        obligation = self.obligation()
        data = _valid(s.ObligationCompleteSerializer, request.data)
        version = data.pop("version")
        services.obligation_complete(obligation, acting_user=request.user, expected_version=version, **data)
        return self.answer(obligation)


@extend_schema(tags=["obligations"])
class ObligationNotApplicableView(ObligationActionView):
    method_roles = {"POST": DECISION_ROLES}

    @extend_schema(
        request=s.ObligationNotApplicableSerializer, responses={200: s.ObligationSerializer, **errors(400, 409)}
    )
    def post(self, request, reference: str, obligation_id: int):
        """Record that an obligation does not apply, and why."""
        obligation = self.obligation()
        data = _valid(s.ObligationNotApplicableSerializer, request.data)
        services.obligation_mark_not_applicable(
            obligation,
            reason=data["reason"],
            decided_at=data.get("decided_at"),
            acting_user=request.user,
            expected_version=data["version"],
        )
        return self.answer(obligation)


@extend_schema(tags=["timeline"])
class TimelineView(ApiMixin, APIView):
    method_roles = {"GET": READ_ROLES, "POST": WRITE_ROLES}

    @extend_schema(responses={200: s.TimelineEventSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """The dated steps of the response to a case, oldest first."""
        events = self.case().events.order_by("occurred_at", "pk")
        return Response(s.TimelineEventSerializer(events, many=True).data)

    @extend_schema(request=s.TimelineEventSerializer, responses={201: s.TimelineEventSerializer, **errors(400, 409)})
    def post(self, request, reference: str):
        """Add a dated step (detection, containment, recovery...)."""
        case = self.case()
        data = _valid(s.TimelineEventSerializer, request.data)
        event = services.timeline_event_add(case, acting_user=request.user, **data)
        return Response(s.TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)


class DeadlineFilterSerializer(serializers.Serializer):
    organization = serializers.SlugField(required=False, max_length=50)
    authority = serializers.ChoiceField(choices=[a.value for a in Authority], required=False)
    status = serializers.ChoiceField(
        choices=[ClockStatus.OVERDUE.value, ClockStatus.DUE_SOON.value, ClockStatus.RUNNING.value], required=False
    )


@extend_schema(tags=["deadlines"])
class DeadlineListView(ApiMixin, generics.GenericAPIView):
    serializer_class = s.ObligationSerializer

    @extend_schema(
        parameters=[DeadlineFilterSerializer],
        responses={200: s.ObligationSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        """Running deadlines of your organisations (pending, with a due date), overdue first, as on the dashboard."""
        filters = _valid(DeadlineFilterSerializer, request.query_params)
        obligations = board.running_obligations(request.user, now=timezone.now(), **filters)
        page = self.paginate_queryset(obligations)
        return self.get_paginated_response(s.ObligationSerializer(page, many=True).data)


class RegisterFilterSerializer(serializers.Serializer):
    organization = serializers.SlugField(required=False, max_length=50)


@extend_schema(tags=["register"])
class RegisterView(ApiMixin, generics.GenericAPIView):
    serializer_class = s.RegisterEntrySerializer

    @extend_schema(
        parameters=[RegisterFilterSerializer],
        responses={200: s.RegisterEntrySerializer(many=True), **errors(400)},
    )
    def get(self, request):
        """The Art. 33(5) breach register of your organisations (as the CSV export); logged as an export."""
        filters = _valid(RegisterFilterSerializer, request.query_params)
        organizations = list(_organizations_readable(request.user))
        code = filters.get("organization")
        if code:
            organizations = [o for o in organizations if o.code == code]
            if not organizations:
                raise NotFound
        cases = register.register_cases(organizations)
        # The page's ids from a narrow query (sorted on the sort's columns only), then those cases with
        # everything the register prints: the database no longer joins and sorts every case's wide row.
        page_ids = self.paginate_queryset(register.register_case_ids(organizations))
        by_pk = {case.pk: case for case in cases.filter(pk__in=page_ids)}
        page = [by_pk[pk] for pk in page_ids]
        record(
            LOG_KIND,
            request._request,
            user=request.user,
            organization=organizations[0] if len(organizations) == 1 else None,
            detail=f"breach register API ({len(page)} cases)",
        )
        return self.get_paginated_response(s.RegisterEntrySerializer(page, many=True).data)


@extend_schema(tags=["filings"])
class FilingListView(ApiMixin, APIView):
    @extend_schema(responses={200: s.FilingSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """What was sent for a case (to an authority, a controller, the persons), oldest first."""
        return Response(s.FilingSerializer(self.case().filings.order_by("sent_at", "pk"), many=True).data)


@extend_schema(tags=["filings"])
class SubmissionListView(ApiMixin, APIView):
    @extend_schema(responses={200: s.SubmissionSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """The drafted notifications of a case (draft, in review, approved, sent)."""
        return Response(s.SubmissionSerializer(self.case().submissions.order_by("pk"), many=True).data)


@extend_schema(tags=["filings"])
class SubmissionDetailView(ApiMixin, APIView):
    @extend_schema(responses={200: s.SubmissionSerializer, **errors()})
    def get(self, request, reference: str, submission_id: int):
        """One drafted notification, with its content."""
        submission = get_object_or_404(self.case().submissions, pk=submission_id)
        return Response(s.SubmissionSerializer(submission).data)


@extend_schema(tags=["evidence"])
class EvidenceListView(ApiMixin, APIView):
    method_roles = {"GET": READ_ROLES, "POST": WRITE_ROLES}
    parser_classes = [MultiPartParser, JSONParser]  # JSON only to answer a clear 400 (no file)

    @extend_schema(responses={200: s.EvidenceSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """The evidence files of a case, with their SHA-256."""
        return Response(s.EvidenceSerializer(self.case().evidence.order_by("uploaded_at", "pk"), many=True).data)

    @extend_schema(
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={201: s.EvidenceSerializer, **errors(400, 409)},
    )
    def post(self, request, reference: str):
        """Upload a proof file (multipart `file`, optional `description`); stored with its SHA-256, type
        checked from its content (PDF, images, text, e-mail, CSV, office files)."""
        case = self.case()
        data = _valid(s.EvidenceUploadSerializer, request.data)
        evidence = services.evidence_add(
            case, uploaded_file=data["file"], description=data.get("description", ""), acting_user=request.user
        )
        return Response(s.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["evidence"])
class EvidenceDownloadView(ApiMixin, APIView):
    @extend_schema(
        responses={(200, "*/*"): OpenApiTypes.BINARY, **errors()},
    )
    def get(self, request, reference: str, evidence_id: int):
        """The file as uploaded (header `X-Content-SHA256`: its SHA-256); logged as an export."""
        case = self.case()
        evidence = get_object_or_404(case.evidence, pk=evidence_id)
        response = FileResponse(
            evidence.file.open("rb"), content_type=evidence.content_type, as_attachment=True, filename="evidence"
        )
        response["X-Content-SHA256"] = evidence.sha256
        record(
            LOG_KIND,
            request._request,
            user=request.user,
            organization=case.organization,
            detail=f"evidence {evidence.sha256[:12]} of {case.reference} (API)",
        )
        return response


@extend_schema(tags=["controller notices"])
class ControllerNoticeListView(ApiMixin, APIView):
    @extend_schema(responses={200: s.ControllerNoticeSerializer(many=True), **errors()})
    def get(self, request, reference: str):
        """The controllers this case's processor has to inform, and when each was informed."""
        notices = self.case().controller_notices.order_by("pk")
        return Response(s.ControllerNoticeSerializer(notices, many=True).data)
