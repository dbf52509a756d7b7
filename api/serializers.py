"""What the API reads and writes. Input serializers only shape and bound the input; every rule of
the register is checked by the services, exactly as for the pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.inputs import LONG_TEXT_MAX, has_forbidden_characters
from cases.models import (
    BreachCase,
    ControllerNotice,
    Evidence,
    Filing,
    Obligation,
    Organization,
    Submission,
    TimelineEvent,
)

# The facts the API reads and changes (a subset of services.cases.UPDATABLE_FACTS: plain values).
FACT_FIELDS = (
    "title",
    "first_signal_at",
    "first_signal_source",
    "aware_at",
    "aware_justification",
    "incident_known_at",
    "occurred_from",
    "occurred_to",
    "ongoing",
    "nature",
    "breach_confidentiality",
    "breach_integrity",
    "breach_availability",
    "origin",
    "cause",
    "description",
    "persons_approx",
    "records_approx",
    "directly_identifiable",
    "likely_consequences",
    "measures_immediate",
    "measures_medium",
    "measures_long",
    "processor_name",
    "processor_alerted_at",
    "nis2_significant",
    "dora_major",
    "dora_classified_at",
)
OPENING_FIELDS = ("title", "first_signal_at", "aware_at", "aware_justification")
# Counts of persons and records: what a PostgreSQL bigint holds.
COUNT_MAX = 2**63 - 1


class CaseSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Blank until the severity is assessed (read-only model fields lose their allow_blank).
    severity_level = serializers.ChoiceField(choices=BreachCase.SeverityLevel.choices, allow_blank=True, read_only=True)

    class Meta:
        model = BreachCase
        fields = (
            "reference",
            "organization",
            "status",
            "version",
            *FACT_FIELDS,
            "contained_at",
            "closed_at",
            "severity_score",
            "severity_level",
            "notify_authority",
            "inform_persons",
            "created_at",
        )
        read_only_fields = fields


def _fact_kwargs(required: frozenset[str]) -> dict:
    kwargs: dict = {name: {"required": name in required} for name in FACT_FIELDS}
    for name in ("persons_approx", "records_approx"):
        kwargs[name]["max_value"] = COUNT_MAX
    return kwargs


class CodeField(serializers.SlugRelatedField):
    """A record named by its code: a value with a control character names nothing and is refused before the
    lookup (PostgreSQL refuses NUL in any text it is given: the lookup itself was a server error)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and has_forbidden_characters(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class CaseOpenSerializer(serializers.ModelSerializer):
    organization = CodeField(slug_field="code", queryset=Organization.objects.none())

    class Meta:
        model = BreachCase
        fields = ("organization", *FACT_FIELDS)
        extra_kwargs = _fact_kwargs(frozenset(OPENING_FIELDS))

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations


class CaseFactsSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(
        min_value=0, max_value=COUNT_MAX, help_text=_("The version of the case you read (409 if it changed since).")
    )
    change_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=LONG_TEXT_MAX,
        help_text=_("Required when a clock's start time changes; kept in the history."),
    )

    class Meta:
        model = BreachCase
        fields = ("version", "change_reason", *FACT_FIELDS)
        extra_kwargs = _fact_kwargs(frozenset())


class ObligationSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    organization = serializers.CharField(source="case.organization.code", read_only=True)

    class Meta:
        model = Obligation
        fields = (
            "id",
            "case",
            "organization",
            "rule_code",
            "label_fr",
            "label_en",
            "authority",
            "legal_source",
            "state",
            "anchor_at",
            "due_at",
            "completed_at",
            "reference",
            "late_reason",
            "not_applicable_reason",
            "version",
        )
        read_only_fields = fields


class ObligationCompleteSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, max_value=COUNT_MAX)
    completed_at = serializers.DateTimeField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    late_reason = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT_MAX)


class ObligationNotApplicableSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, max_value=COUNT_MAX)
    reason = serializers.CharField(max_length=LONG_TEXT_MAX)
    decided_at = serializers.DateTimeField(
        required=False, help_text="When the decision was taken (default now; never in the future)."
    )


class RegisterEntrySerializer(serializers.ModelSerializer):
    """One line of the Art. 33(5) register (cases/register.py), as data rather than CSV text."""

    organization = serializers.SlugRelatedField(slug_field="code", read_only=True)
    severity_level = serializers.ChoiceField(choices=BreachCase.SeverityLevel.choices, allow_blank=True, read_only=True)
    cnil_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cnil_completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cnil_reference = serializers.CharField(read_only=True, allow_null=True)
    cnil_late_reason = serializers.CharField(read_only=True, allow_null=True)
    communications_sent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BreachCase
        fields = (
            "reference",
            "organization",
            "title",
            "status",
            "first_signal_at",
            "aware_at",
            "occurred_from",
            "occurred_to",
            "nature",
            "description",
            "persons_approx",
            "records_approx",
            "likely_consequences",
            "measures_immediate",
            "notify_authority",
            "notify_authority_reason",
            "inform_persons",
            "inform_persons_reason",
            "severity_level",
            "cnil_due_at",
            "cnil_completed_at",
            "cnil_reference",
            "cnil_late_reason",
            "communications_sent",
        )
        read_only_fields = fields


class CaseListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BreachCase.Status.choices, required=False)
    organization = serializers.SlugField(required=False, max_length=50)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TimelineEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimelineEvent
        fields = ("id", "occurred_at", "kind", "title", "description", "created_at", "version")
        read_only_fields = ("id", "created_at", "version")
        extra_kwargs = {"kind": {"required": False}, "description": {"required": False}}


class FilingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Filing
        fields = ("id", "obligation", "kind", "sent_at", "channel", "recipient", "reference", "evidence", "created_at")
        read_only_fields = fields


class SubmissionSerializer(serializers.ModelSerializer):
    content = serializers.DictField(read_only=True)

    class Meta:
        model = Submission
        fields = (
            "id",
            "obligation",
            "kind",
            "state",
            "version",
            "content",
            "created_at",
            "submitted_at",
            "approved_at",
            "sent_at",
            "channel",
            "recipient",
            "authority_reference",
            "content_sha256",
            "filing",
        )
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ("id", "original_name", "description", "sha256", "size", "content_type", "uploaded_at")
        read_only_fields = fields


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ControllerNoticeSerializer(serializers.ModelSerializer):
    recipients = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ControllerNotice
        fields = (
            "id",
            "controller_name",
            "notice_period_hours",
            "informed_at",
            "channel",
            "reference",
            "recipients",
            "version",
        )
        read_only_fields = fields
