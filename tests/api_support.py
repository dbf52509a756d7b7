"""Helpers of the API tests: tokens issued as after the second factor, and a client that sends them."""

from __future__ import annotations

from rest_framework.test import APIClient

from api import tokens


def issue_token(user, *, read_only: bool = False, days: int = 30, name: str = "SIEM") -> tuple[object, str]:
    """A token of `user`, as the tokens page issues it once the second factor is verified."""
    user.is_verified = lambda: True
    return tokens.issue(user=user, name=name, days=days, read_only=read_only)


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
