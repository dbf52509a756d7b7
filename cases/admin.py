"""Django admin: organisations and memberships are edited here; cases are read-only.

Case facts change only through `cases.services` (which recompute the clocks and ask
for reasons), so the admin shows cases and their history without offering edits.
History is read-only everywhere: no revert (SIMPLE_HISTORY_REVERT_DISABLED) and no
deletion.
"""

from django.contrib import admin
from django.http import HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from .models import BreachCase, ControllerNotice, Evidence, Filing, Membership, Obligation, Organization, TimelineEvent


class NoDeleteAdmin(SimpleHistoryAdmin):
    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history saves a POST here (a revert) even with SIMPLE_HISTORY_REVERT_DISABLED: read only.
        if request.method not in {"GET", "HEAD"}:
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "is_active")
    readonly_fields = fields


@admin.register(Organization)
class OrganizationAdmin(NoDeleteAdmin):
    list_display = ("name", "code", "kind", "siren", "is_nis2_entity", "is_dora_entity", "has_cyber_insurance")
    list_filter = ("kind", "is_nis2_entity", "is_ose", "is_oiv", "is_health_establishment", "is_dora_entity")
    search_fields = ("name", "code", "siren")
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("name", "code", "kind", "siren", "address")}),
        ("DPO", {"fields": ("dpo_name", "dpo_email", "dpo_phone")}),
        ("Legal representative", {"fields": ("legal_rep_name", "legal_rep_title", "legal_rep_email")}),
        (
            "Regimes",
            {
                "fields": (
                    "is_nis2_entity",
                    "is_ose",
                    "is_oiv",
                    "is_health_establishment",
                    "is_dora_entity",
                    "dora_authority",
                    "dora_relief_excluded",
                    "has_cyber_insurance",
                )
            },
        ),
        ("Internal targets", {"fields": ("undue_delay_target_hours", "internal_targets")}),
    )


@admin.register(Membership)
class MembershipAdmin(NoDeleteAdmin):
    list_display = ("user", "organization", "role", "is_active")
    list_filter = ("role", "is_active", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("user",)


class ObligationInline(ReadOnlyInline):
    model = Obligation
    fields = ("rule_code", "authority", "due_at", "state", "completed_at", "reference", "late_reason")
    readonly_fields = fields


class FilingInline(ReadOnlyInline):
    model = Filing
    fields = ("kind", "sent_at", "recipient", "reference")
    readonly_fields = fields


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fields = ("occurred_at", "kind", "title")
    readonly_fields = fields


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields


class ControllerNoticeInline(ReadOnlyInline):
    model = ControllerNotice
    fk_name = "case"
    fields = ("controller_name", "relationship", "notice_period_hours", "informed_at", "reference")
    readonly_fields = fields


@admin.register(BreachCase)
class BreachCaseAdmin(NoDeleteAdmin):
    list_display = ("reference", "title", "organization", "status", "aware_at", "severity_level")
    list_filter = ("status", "organization", "severity_level")
    search_fields = ("reference", "title")
    date_hierarchy = "aware_at"
    list_select_related = ("organization",)
    inlines = [ObligationInline, FilingInline, TimelineInline, EvidenceInline, ControllerNoticeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
