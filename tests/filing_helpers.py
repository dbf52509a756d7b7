"""Completing an obligation the only way the register allows: by recording the filing that fulfils it."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from cases import services
from cases.services.filings import filing_kind_for


def complete_by_filing(obligation, *, completed_at, acting_user, reference="", late_reason="", expected_version=None):
    """Record the filing that completes `obligation` (a bare "mark done" is refused for a filing obligation).

    The filing's `sent_at` is the obligation's completion: its errors are reported under `completed_at`,
    as the tests written for the completion expect.
    """
    try:
        services.filing_record(
            obligation.case,
            kind=filing_kind_for(obligation.rule_code),
            sent_at=completed_at,
            obligation=obligation,
            reference=reference,
            late_reason=late_reason,
            acting_user=acting_user,
        )
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {("completed_at" if k == "sent_at" else k): v for k, v in error.error_dict.items()}
        ) from error
    obligation.refresh_from_db()
    return obligation


def downloaded_before_and_after_sending(client, link: str, sub, monkeypatch, *, acting_user, **sending) -> tuple:
    """(the document at `link` once `sub` is approved, the same document three days after `sub` was recorded
    as sent with `sending`): a sent filing's document is the very file that was sent, whenever downloaded."""
    import time

    before = client.get(link).content
    services.submission_mark_sent(sub, acting_user=acting_user, expected_version=sub.version, **sending)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400)
    return before, client.get(link).content
