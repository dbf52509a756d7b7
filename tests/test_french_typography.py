"""French typography in pages and documents: no-break space before : ; ? !, grouped thousands, plurals.

English stays English: no space before its punctuation.
"""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
# Punctuation that takes a space before it in French, then the end of a word (not "10:30", not "https://").
TIGHT = re.compile(r"[^\s\u00a0\u202f\d/:\"][:;?!](?=\s|$)")
LOOSE = re.compile(r" [:;?!](?=\s|$)")  # an ordinary space: the line may break before the colon


def french_catalogue() -> dict[str, str]:
    """The project's own French messages (Django's and other libraries' catalogues are theirs)."""
    messages: dict[str, str] = {}
    for mo in sorted(ROOT.glob("**/locale/fr/LC_MESSAGES/django.mo")):
        if ".venv" in mo.parts:
            continue
        with mo.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - every message of the file
        for key, value in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if msgid:
                messages[f"{msgid}#{key[1] if isinstance(key, tuple) else ''}"] = value
    return messages


def offences(text: str) -> list[str]:
    return [text[max(0, m.start() - 25) : m.end() + 5] for m in (*TIGHT.finditer(text), *LOOSE.finditer(text))]


def test_every_french_translation_puts_a_no_break_space_before_double_punctuation():
    bad = {msgid: msgstr for msgid, msgstr in french_catalogue().items() if offences(msgstr)}
    assert not bad, "\n".join(f"{k!r}: {v!r}" for k, v in list(bad.items())[:20])


class _Text(HTMLParser):
    """The text a reader sees: no script, style, code or attribute values."""

    SKIP = {"script", "style", "code", "pre", "textarea", "option", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIP

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIP

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data).strip())  # str.split() would eat no-break spaces


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def _pages(client, case) -> list[str]:
    # Not the history page: it shows values as they were recorded, the English wording of a rule included.
    return ["/", "/cases/", f"/cases/{case.reference}/", "/calendar/", "/reminders/preferences/"]


def test_french_pages_follow_french_typography_and_english_pages_english(org, dpo, open_case, login):
    case = open_case()
    client = login(dpo)
    for lang in ("fr", "en"):
        for path in _pages(client, case):
            texts = visible_text(client.get(path, HTTP_ACCEPT_LANGUAGE=lang).content.decode())
            if lang == "fr":
                bad = [o for text in texts for o in offences(text)]
                assert not bad, f"{path}: {bad[:10]}"
    english = visible_text(client.get(f"/cases/{case.reference}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert any(text.startswith("Severity (ENISA):") for text in english)  # English: no space before ":"


def test_english_source_texts_have_no_space_before_punctuation():
    msgids = {key.split("#")[0].split("\x04")[-1] for key in french_catalogue()}
    assert not [m for m in msgids if re.search(r"[ \u00a0][:;?!](?=\s|$)", m)]


def test_dashboard_counts_agree_in_number():
    with translation.override("fr"):
        assert translation.npgettext("cases", "open", "open", 1) == "ouvert"
        assert translation.npgettext("cases", "open", "open", 2) == "ouverts"
    with translation.override("en"):
        assert translation.npgettext("cases", "open", "open", 1) == "open"


def test_the_rules_french_wording_follows_french_typography():
    from cases import regimes

    bad = {}
    for rule in regimes.RULES:
        for name in ("source", "label_fr", "legal_text_fr", "status_note"):
            text = str(getattr(rule, name, "") or "")
            if offences(text):
                bad[f"{rule.code}.{name}"] = offences(text)
    assert not bad, bad
