"""Login, second factor (enrolment, verification, backup codes), logout and the security log."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.contrib.sessions.models import Session
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from cases.models import Membership

from . import mfa
from .forms import LoginForm, TokenForm, UnlockForm
from .models import SecurityEvent, UserSession
from .security_log import record

BACKUP_CODES_SESSION_KEY = "accounts_new_backup_codes"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _with_next(url: str, target: str) -> str:
    """`url?next=target`, the target encoded so its own query string (`?q=...&status=...`) survives."""
    return f"{url}?{urlencode({'next': target})}"


class PasswordLoginView(LoginView):
    """First step: username and password (django-axes counts failures per account and address)."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        step = "accounts:verify" if mfa.has_second_factor(self.request.user) else "accounts:enrol"
        return _with_next(reverse(step), _safe_next(self.request))


def _locked_out(request, username: str):
    logout(request)
    return render(request, "accounts/locked_out.html", {"username": username}, status=429)


@sensitive_post_parameters("token")
def enrol(request):
    """Enrol an authenticator app by QR code; only for an account without a confirmed second factor."""
    if mfa.has_second_factor(request.user):
        return redirect("accounts:verify")
    device = mfa.pending_totp_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("token", _("Too many attempts: wait a few seconds, then enter the current code."))
            return render(request, "accounts/enrol.html", _enrol_context(form, device))
        codes = mfa.confirm_enrolment(request, device, form.cleaned_data["token"])
        if codes is not None:
            record(SecurityEvent.Kind.OTP_ENROLLED, request, user=request.user)
            record(SecurityEvent.Kind.BACKUP_CODES, request, user=request.user)
            request.session[BACKUP_CODES_SESSION_KEY] = codes
            return redirect(_with_next(reverse("accounts:backup_codes"), _safe_next(request)))
        form.add_error("token", _("This code is not valid. Check your phone's clock and try the current code."))
    return render(request, "accounts/enrol.html", _enrol_context(form, device))


def _enrol_context(form, device) -> dict:
    return {"form": form, "qr_svg": mfa.qr_svg(device), "secret": mfa.base32_secret(device)}


@sensitive_post_parameters("token")
def verify(request):
    """Second step of every login: a TOTP code or a single-use backup code."""
    user = request.user
    if user.is_verified():
        return HttpResponseRedirect(_safe_next(request))
    if not mfa.has_second_factor(user):
        return redirect("accounts:enrol")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return _locked_out(request, user.get_username())
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and mfa.authenticator_throttled(user, form.cleaned_data["token"]):
        # django-otp refuses every code for a moment after a failure: say so rather than "not valid".
        form.add_error("token", _("Too many attempts: wait a few seconds, then enter the current code."))
    elif request.method == "POST" and form.is_valid():
        device = mfa.verify(request, form.cleaned_data["token"])
        if device is not None:
            kind = SecurityEvent.Kind.BACKUP_CODE_USED if device.name == mfa.BACKUP_DEVICE_NAME else None
            record(kind or SecurityEvent.Kind.OTP_VERIFIED, request, user=user)
            return HttpResponseRedirect(_safe_next(request))
        user_login_failed.send(sender=__name__, credentials={**credentials, "second_factor": True}, request=request)
        if AxesProxyHandler.is_locked(request, credentials):
            return _locked_out(request, user.get_username())
        form.add_error("token", _("This code is not valid."))
    return render(request, "accounts/verify.html", {"form": form})


def backup_codes(request):
    """Show freshly generated backup codes once; POST generates a new set (the old ones stop working)."""
    if request.method == "POST":
        request.session[BACKUP_CODES_SESSION_KEY] = mfa.regenerate_backup_codes(request.user)
        record(SecurityEvent.Kind.BACKUP_CODES, request, user=request.user)
        return redirect("accounts:backup_codes")
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _safe_next(request)})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("accounts:login")


@require_POST
def logout_everywhere(request):
    """End every session of the user, on every browser, then this one."""
    user = request.user
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    record(SecurityEvent.Kind.LOGOUT_EVERYWHERE, request, user=user, detail=f"{len(keys)} sessions")
    logout(request)
    messages.info(request, _("All your sessions are closed."))
    return redirect("accounts:login")


def _admin_org_ids(user) -> list[int]:
    return list(
        Membership.objects.filter(user=user, role=Membership.Role.ADMIN, is_active=True).values_list(
            "organization_id", flat=True
        )
    )


def visible_events(org_ids: list[int]):
    """The security events an administrator of `org_ids` may read.

    An event about an organisation (an export, a feed) is shown only to that organisation's
    administrators, whoever made it: a member of two organisations exporting the other one's
    dossier is not this organisation's business. An event about no organisation (logins, second
    factor, lockouts) is shown when it concerns one of the organisations' members.
    """
    members = Membership.objects.filter(organization_id__in=org_ids)
    about_a_member = Q(user_id__in=members.values("user_id")) | Q(
        user__isnull=True, username__in=members.values("user__username")
    )
    return SecurityEvent.objects.filter(Q(organization_id__in=org_ids) | Q(organization__isnull=True) & about_a_member)


@require_GET
def security_log(request):
    """The security log of the organisations the user administers."""
    org_ids = _admin_org_ids(request.user)
    if not org_ids:
        raise Http404
    events = visible_events(org_ids).select_related("user", "organization").order_by("-at", "-pk")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    locked = {e.username for e in page if e.kind == SecurityEvent.Kind.LOCKED_OUT}
    # The unlock button only for current members: a removed member's account is not the admin's to unlock.
    unlockable = set(
        Membership.objects.filter(organization_id__in=org_ids, is_active=True, user__username__in=locked).values_list(
            "user__username", flat=True
        )
    )
    return render(request, "accounts/security_log.html", {"page": page, "unlockable": unlockable})


@require_POST
def unlock(request):
    """An organisation admin lifts the lockout of one of the organisation's members."""
    org_ids = _admin_org_ids(request.user)
    form = UnlockForm(request.POST)
    if not org_ids or not form.is_valid():
        raise Http404
    username = form.cleaned_data["username"]
    # A current member only: a removed member's account is no longer this organisation's to unlock.
    if not Membership.objects.filter(organization_id__in=org_ids, user__username=username, is_active=True).exists():
        raise Http404
    axes_reset(username=username)
    record(SecurityEvent.Kind.UNLOCKED, request, user=request.user, detail=f"unlocked {username}")
    messages.success(request, _("%(user)s can log in again.") % {"user": username})
    return redirect("accounts:security_log")
