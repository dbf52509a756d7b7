"""The user's own reminder preferences (behind login and the second factor, like every page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import ReminderPreferenceForm
from .models import ReminderPreference
from .services import preferences_save


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    instance = ReminderPreference.for_user(request.user)
    form = ReminderPreferenceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        preferences_save(acting_user=request.user, values=form.cleaned_data)
        messages.success(request, _("Your reminder preferences are saved."))
        return redirect("reminders:preferences")
    return render(request, "reminders/preferences.html", {"form": form})
