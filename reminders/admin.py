"""Reminders in the admin: read-only, since a reminder sent is a fact."""

from django.contrib import admin

from .models import ReminderSent


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "kind", "obligation", "recipient", "recipient_email", "due_at_when_sent"]
    list_filter = ["kind"]
    list_select_related = ["obligation__case", "recipient"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
