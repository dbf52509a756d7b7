"""Every message the code and the templates ask for has its French translation.

tests/test_i18n.py checks the entries the catalogue holds; this one finds the entries it lacks: Django's
own `makemessages` (xgettext) extracts every message of a copy of the sources, and each one it could
not find translated (new, or only matched fuzzily) must come out in French from the catalogues Django
serves (the project's and the reminders app's).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("accounts", "api", "cases", "compliance", "reminders", "templates", "webhooks", "locale", "manage.py")


def _messages_not_translated(po: Path) -> list[tuple[str, str]]:
    """(context, message) of each entry of `po` that is untranslated or fuzzy."""
    found = []
    for option in ("--untranslated", "--only-fuzzy"):
        text = subprocess.run(
            ["msgattrib", option, "--no-obsolete", str(po)], check=True, capture_output=True, text=True
        ).stdout
        for block in text.split("\n\n"):
            fields: dict[str, str] = {}
            current = None
            for line in block.splitlines():
                match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$', line)
                if match:
                    current = match.group(1)
                    fields[current] = _unquote(match.group(2))
                elif line.startswith('"') and current:
                    fields[current] += _unquote(line)
            if fields.get("msgid"):
                found.append((fields.get("msgctxt", ""), fields["msgid"]))
    return found


def _unquote(quoted: str) -> str:
    return ast.literal_eval(quoted)  # a PO string is a C string: the same escapes as a Python literal


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_message_of_the_code_and_templates_has_a_french_translation(tmp_path):
    copy = tmp_path / "src"
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, copy / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--no-location"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    # What Django serves in French: every catalogue merged (a word may be the same in both languages).
    catalog = trans_real.translation("fr")._catalog
    missing = []
    for context, message in _messages_not_translated(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"):
        key = f"{context}\x04{message}" if context else message
        if key not in catalog and (key, 0) not in catalog:
            missing.append(f"{context + ' | ' if context else ''}{message}")
    assert missing == [], "append their French translations to locale/fr/LC_MESSAGES/django.po:\n" + "\n".join(missing)
