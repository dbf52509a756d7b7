"""`manage.py checkpoint_history`: sign (and time-stamp) a checkpoint of every history chain; run it from cron."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases import services
from cases.checkpoints import key_id, published_keys


class Command(BaseCommand):
    help = (
        "Make a signed checkpoint of every history chain head (none when nothing changed since the last one, "
        "unless --force), time-stamped when HISTORY_TSA_URL is set. Exits 1 when the time stamp failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="make one even when no chain changed")
        parser.add_argument("--new-key", metavar="FILE", help="create a new Ed25519 signing key in FILE and stop")
        parser.add_argument("--keys", action="store_true", help="print the current and retired public keys and stop")

    def handle(self, *args, force: bool = False, new_key: str | None = None, keys: bool = False, **options) -> None:
        if new_key:
            self._new_key(Path(new_key))
            return
        if keys:
            for key in published_keys():
                self.stdout.write(f"{key['status']}: {key['key_id']} {key['public_key']}")
            return
        checkpoint = services.checkpoint_create(reason="checkpoint_history", force=force)
        stamps = list(checkpoint.timestamps.all())
        self.stdout.write(
            f"checkpoint #{checkpoint.seq} of {checkpoint.created_at.isoformat()}: {checkpoint.tree_size} chains, "
            f"root {checkpoint.root}, signed by key {checkpoint.key_id}"
        )
        for stamp in stamps:
            self.stdout.write(f"time-stamped {stamp.gen_time.isoformat()} by {stamp.tsa_url}")
        if settings.HISTORY_TSA_URL and not stamps:
            raise CommandError(f"checkpoint #{checkpoint.seq} has no time stamp from {settings.HISTORY_TSA_URL}.")

    def _new_key(self, path: Path) -> None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{path} exists: choose a new file (a key is never overwritten).") from exc
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public_path = path.with_suffix(".pub.pem")
        public_path.write_bytes(public)
        self.stdout.write(
            f"new signing key {key_id(key.public_key())} in {path} (public part in {public_path}); "
            "set HISTORY_CHECKPOINT_KEY_FILE to it and add the previous public key to HISTORY_CHECKPOINT_RETIRED_KEYS."
        )
