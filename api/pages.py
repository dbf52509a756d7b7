"""The API's pages, behind login and the second factor like every page: personal tokens and the
interactive documentation (Swagger UI served from this app's static files, no CDN)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cases.forms import CheckedForm

from . import tokens
from .models import NAME_MAX, ApiToken


class TokenForm(CheckedForm):
    name = forms.CharField(label=gettext_lazy("Name (what will use it)"), max_length=NAME_MAX)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=365, initial=90)
    read_only = forms.BooleanField(label=gettext_lazy("Read only"), required=False, initial=True)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; a new one is shown once, right after its creation."""
    form = TokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _token, secret = tokens.issue(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                    read_only=form.cleaned_data["read_only"],
                    request=request,
                )
            except ValidationError as error:
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form, status = TokenForm(), 200
    token_rows = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
    return render(request, "api/tokens.html", {"form": form, "secret": secret, "tokens": token_rows}, status=status)


@login_required
@require_http_methods(["POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        tokens.revoke(user=request.user, token_id=token_id, request=request)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    messages.success(request, _("The token is revoked: it no longer works."))
    return redirect("api:tokens")


@login_required
@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html")
