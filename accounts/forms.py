"""Forms of the login, second-factor and security-log pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from cases.forms import CheckedForm
from cases.inputs import CheckedFormMixin

from .lockout import capped_username

# Longer than any passphrase; bounds what hashing one attempt costs.
PASSWORD_MAX = 1024


class LoginForm(CheckedFormMixin, AuthenticationForm):
    """Username and password; a username longer than any account's is refused before any database work.

    Django's form shows the username's maximum length but does not enforce it, and an overlong
    name reached the lockout tables (a database error, and no failure counted). Such a name, or
    one with control characters, now fails like a wrong password: the failure is counted (capped
    name and address) and the same message is shown.
    """

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=PASSWORD_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(get_user_model()._meta.get_field("username").max_length))

    def clean(self):
        posted = self.data.get("username")
        if posted and "username" not in self.cleaned_data:
            user_login_failed.send(
                sender=__name__, credentials={"username": capped_username(posted)}, request=self.request
            )
            raise self.get_invalid_login_error()
        return super().clean()


class TokenForm(CheckedForm):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code of your authenticator app, or one of your 8-digit backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class UnlockForm(CheckedForm):
    """The member whose lockout an administrator lifts (a hidden field of the security log)."""

    username = forms.CharField(max_length=150, widget=forms.HiddenInput)
