"""The user's own reminder preferences (behind login and the second factor, like every page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import ReminderPreferenceForm
from .models import ReminderPreference


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    instance = ReminderPreference.for_user(request.user)
    form = ReminderPreferenceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:
            # A first save from another tab (or a double click) created the user's row since it was read:
            # this one updates that row instead of failing on the one-row-per-user constraint.
            instance = ReminderPreference.objects.get(user=request.user)
            ReminderPreferenceForm(request.POST, instance=instance).save()
        messages.success(request, _("Your reminder preferences are saved."))
        return redirect("reminders:preferences")
    return render(request, "reminders/preferences.html", {"form": form})
