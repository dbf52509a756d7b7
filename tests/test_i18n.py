"""French first, English on request: the project catalogue is complete, compiled, and the pages follow the browser.

The catalogue is read with a small .po parser (no polib): every message has a translation, none is fuzzy,
placeholders survive, and the compiled .mo says exactly what the .po says. A string added to the code and
extracted with `makemessages` but left untranslated fails here.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from cases.models import Membership

LOCALE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"

# %(name)s / %(n)d / %(minutes)02d, and str.format's {name}.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfi]|\{\w*\}")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first; comments and obsolete `#~` entries are skipped."""
    entries: list[Entry] = []
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # the field a continuation line extends
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"line {number}: a continuation without a keyword"
            name, index, text = *target, ast.literal_eval(line)
        else:
            keyword, _, quoted = line.partition(" ")
            text = ast.literal_eval(quoted.strip())
            match = re.fullmatch(r"(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])?", keyword)
            assert match, f"line {number}: unexpected {raw!r}"
            name, index = match[1], int(match[2] or 0)
            if name == "msgctxt" or (name == "msgid" and (target is None or target[0] != "msgctxt")):
                entries.append(Entry(line=number, flags=flags))
                flags = set()
            target = (name, index)
            if name == "msgstr":
                entries[-1].msgstr[index] = ""
            else:
                setattr(entries[-1], name, "")
        entry = entries[-1]
        if name == "msgstr":
            entry.msgstr[index] += text
        else:
            setattr(entry, name, getattr(entry, name) + text)
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    parsed = parse_po(PO)
    assert parsed and parsed[0].msgid == "", "the .po starts with its header"
    return parsed[1:]


def test_the_catalogue_declares_french_plural_forms():
    header = parse_po(PO)[0].msgstr[0]
    assert "Language: fr" in header
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header
    assert "charset=UTF-8" in header


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    assert len(entries) > 500  # the whole project, not a stub
    untranslated = [e.label for e in entries if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"


def test_plural_messages_have_both_french_forms(entries):
    for entry in entries:
        if entry.msgid_plural is not None:
            assert sorted(entry.msgstr) == [0, 1], entry.label


def test_translations_keep_their_placeholders(entries):
    for entry in entries:
        expected = {frozenset(PLACEHOLDER.findall(entry.msgid))}
        if entry.msgid_plural is not None:
            expected.add(frozenset(PLACEHOLDER.findall(entry.msgid_plural)))
        for text in entry.msgstr.values():
            assert frozenset(PLACEHOLDER.findall(text)) in expected, f"{entry.label} -> {text!r}"


def test_the_compiled_catalogue_is_up_to_date_with_the_po(entries):
    """The .mo says what the .po says: run `manage.py compilemessages` after editing the .po."""
    with MO.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)._catalog
    expected: dict[object, str] = {}
    for entry in entries:
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(key, index)] = text
    compiled = {key: text for key, text in compiled.items() if key != ""}  # "" is the header
    assert compiled == expected


def test_django_serves_every_translation_in_french(entries):
    """The project catalogue wins over apps' and Django's own (LOCALE_PATHS come first)."""
    with translation.override("fr"):
        for entry in entries:
            if entry.msgid_plural is None:
                if entry.msgctxt is None:
                    got = translation.gettext(entry.msgid)
                else:
                    got = translation.pgettext(entry.msgctxt, entry.msgid)
                assert got == entry.msgstr[0], entry.label
            else:
                for n, index in ((1, 0), (2, 1)):
                    if entry.msgctxt is None:
                        got = translation.ngettext(entry.msgid, entry.msgid_plural, n)
                    else:
                        got = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    assert got == entry.msgstr[index], entry.label
    with translation.override("en"):
        assert translation.gettext("Case opened.") == "Case opened."


# --- pages: French by default, English when the browser asks for it ---------------------------------

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_login_page_is_french_by_default_and_english_on_request(client):
    french = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="fr">' in french
    assert "Se connecter" in french and "Mot de passe" in french and "Étape 1 sur 2" in french
    assert "Password" not in french
    english = client.get(reverse("accounts:login"), **ENGLISH).content.decode()
    assert '<html lang="en">' in english
    assert "Log in" in english and "Password" in english and "Step 1 of 2" in english
    assert "Mot de passe" not in english


def test_the_dashboard_is_french_by_default_and_english_on_request(open_case, dpo, login):
    open_case()
    client = login(dpo)
    french = client.get(reverse("home")).content.decode()
    assert "Délais en cours" in french and "Échéance (heure de Paris)" in french
    assert "Se déconnecter" in french and "Exports et calendriers" in french
    assert "Running clocks" not in french
    english = client.get(reverse("home"), **ENGLISH).content.decode()
    assert "Running clocks" in english and "Due (Paris time)" in english and "Log out" in english
    assert "Délais en cours" not in english


def test_the_case_page_is_french_by_default_and_english_on_request(open_case, dpo, login):
    case = open_case()
    client = login(dpo)
    url = reverse("cases:case_detail", kwargs={"reference": case.reference})
    french = client.get(url).content.decode()
    assert "Obligations et échéances" in french and "Chronologie" in french and "Historique" in french
    assert "Ouvert par dpo le" in french and "Ce qui manque encore au formulaire de la CNIL" in french
    assert "Obligations and deadlines" not in french
    english = client.get(url, **ENGLISH).content.decode()
    assert "Obligations and deadlines" in english and "Timeline" in english and "Opened by dpo on" in english
    assert "Obligations et échéances" not in english


def test_a_validation_error_is_french_by_default_and_english_on_request(org, dpo, login):
    client = login(dpo)
    data = {
        "organization": org.pk,
        "title": "Identifiants volés",
        "first_signal_at": "2024-02-01T09:00",
        "aware_at": "2024-02-01T08:00",  # before the first signal
        "aware_justification": "Journaux analysés.",
    }
    french = client.post(reverse("cases:case_open"), data)
    assert french.status_code == 400
    assert french.context["form"].errors["aware_at"] == [
        "La prise de connaissance ne peut pas précéder le premier signalement."
    ]
    assert "Rien n'a été enregistré" in html.unescape(french.content.decode())
    english = client.post(reverse("cases:case_open"), data, **ENGLISH)
    assert english.status_code == 400
    assert english.context["form"].errors["aware_at"] == ["Awareness cannot precede the first signal."]
    assert "Nothing was saved" in english.content.decode()


def test_choice_labels_follow_the_active_language():
    with translation.override("fr"):
        assert str(Membership.Role.DPO.label) == "Délégué à la protection des données (DPO)"
    with translation.override("en"):
        assert str(Membership.Role.DPO.label) == "Data protection officer"
