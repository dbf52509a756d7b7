"""`python manage.py demo_totp USERNAME`: the current second-factor code of a demo account."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (accounts created by seed_demo only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        code = mfa.current_demo_code(user) if user else None
        if code is None:
            raise CommandError(f"{username!r} is not a demo account with a demo authenticator.")
        self.stdout.write(code)
