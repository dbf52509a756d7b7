"""`python manage.py seed_demo`: load the February 2024 tiers-payant breach demo (idempotent)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from cases import demo


class Command(BaseCommand):
    help = (
        "Load the demo built from the February 2024 Viamedis / Almerys breach: operators, client insurers, "
        "their cases, obligations, filings and evidence, and one demo user per role. Running it again "
        "changes nothing."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        # One transaction: a failure leaves nothing half-seeded.
        with transaction.atomic():
            report = demo.seed()
        elapsed = time.perf_counter() - started

        if report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded in {elapsed:.1f} s: {report.organizations_created} organisations, "
                    f"{report.users_created} users, {report.memberships_created} memberships, "
                    f"scenarios {', '.join(report.scenarios_created) or '-'}."
                )
            )
        else:
            self.stdout.write("Demo data already present: nothing changed.")

        rows = demo.logins()
        width = max(len(username) for username, *_ in rows)
        pwidth = max(len(password) for _, password, *_ in rows)
        swidth = max(len(secret) for _, _, secret, _ in rows)
        self.stdout.write("")
        self.stdout.write("Demo logins (password set when the user was first created):")
        self.stdout.write(
            f"  {'username':<{width}}  {'password':<{pwidth}}  {'TOTP secret':<{swidth}}  role @ organisation"
        )
        for username, password, secret, roles in rows:
            self.stdout.write(f"  {username:<{width}}  {password:<{pwidth}}  {secret:<{swidth}}  {roles}")
        self.stdout.write("")
        self.stdout.write(
            "Every account needs its second factor: add the TOTP secret to an authenticator app, or print "
            "the current code with `.venv/bin/python manage.py demo_totp USERNAME` (demo accounts only)."
        )
        self.stdout.write(f"Application: {demo.APP_URL}")
        self.stdout.write(f"Django admin: {demo.ADMIN_URL} (log in as 'admin')")
