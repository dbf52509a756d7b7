"""French first, English on request: the project catalogue is complete, compiled, and the pages follow the browser.

The catalogue is read with a small .po parser (no polib): every message has a translation, none is fuzzy,
placeholders survive, and the compiled .mo says exactly what the .po says. A string added to the code and
extracted with `makemessages` but left untranslated fails here.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


# --- documents: one translation system, the language asked for -------------------------------------

CASES = Path(settings.BASE_DIR) / "cases"
# Everything the dossier, the member letter, the register CSV and the history print.
DOCUMENT_SOURCES = [
    *sorted((CASES / "dossier").rglob("*.py")),
    CASES / "register.py",
    CASES / "languages.py",
    CASES / "history.py",
    CASES / "deadlines.py",
    CASES / "selectors" / "history.py",
    CASES / "selectors" / "case_page.py",
]
# gettext function -> does it take a context first?
GETTEXT_FUNCTIONS = {"gettext": False, "gettext_lazy": False, "pgettext": True, "pgettext_lazy": True}


def gettext_calls(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(where, context, msgid) of each gettext call in `path`; msgid None when it is not a literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {}  # local name -> gettext function, from `from django.utils.translation import ... as ...`
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            names.update({a.asname or a.name: a.name for a in node.names if a.name in GETTEXT_FUNCTIONS})
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            function = names.get(func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "translation":
            function = func.attr if func.attr in GETTEXT_FUNCTIONS else None
        else:
            function = None
        if function is None:
            continue
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        context, msgid = (args[0], args[1]) if GETTEXT_FUNCTIONS[function] else (None, args[0])
        calls.append((f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}", context, msgid))
    return calls


def test_the_dossier_package_keeps_no_translation_table_of_its_own():
    assert not (CASES / "dossier" / "i18n.py").exists()
    for path in DOCUMENT_SOURCES:
        assert "dossier.i18n" not in path.read_text(encoding="utf-8"), path


def test_every_document_string_is_a_literal_with_a_french_translation(entries):
    """The dossier, letter, register and history words: each gettext call has its French in the .po."""
    catalogue = {(e.msgctxt, e.msgid): e.msgstr.get(0, "") for e in entries if e.msgid_plural is None}
    calls = [call for path in DOCUMENT_SOURCES for call in gettext_calls(path)]
    assert len(calls) > 250  # the scanner sees the documents' wording, not a handful of strings
    not_literal = [where for where, context, msgid in calls if msgid is None]
    missing = [
        (where, context, msgid) for where, context, msgid in calls if msgid and not catalogue.get((context, msgid))
    ]
    assert not not_literal, f"gettext needs literal strings (makemessages cannot see the others): {not_literal}"
    assert not missing, f"{len(missing)} without a French translation: {missing[:20]}"


@pytest.fixture
def rich(org, dpo, make_user, settings, tmp_path):
    from .dossier_cases import rich_case

    settings.MEDIA_ROOT = tmp_path
    return rich_case(org, dpo, make_user)


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def test_a_dossier_is_in_the_language_asked_for_whatever_the_requests(rich):
    from cases.dossier.builder import render_dossier

    at = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    with translation.override("en"):
        french = _pdf_text(render_dossier(rich, lang="fr", generated_at=at).pdf)
        assert translation.get_language() == "en"  # the request's language is left as it was
    with translation.override("fr"):
        english = _pdf_text(render_dossier(rich, lang="en", generated_at=at).pdf)
        assert translation.get_language() == "fr"
    assert "Sommaire" in french and "Page 1 sur" in french and "2. Chronologie" in french
    assert "Usage d'identifiants volés ou usurpés" in french  # a domain choice label, in French
    assert "Contents" not in french and "Page 1 of" not in french and "2. Chronology" not in french
    assert "Contents" in english and "Page 1 of" in english and "2. Chronology" in english
    assert "Use of stolen or usurped credentials" in english
    assert "Sommaire" not in english and "Page 1 sur" not in english and "Usage d'identifiants" not in english


def test_the_register_and_the_member_letter_ignore_the_requests_language(rich):
    from cases import register
    from cases.dossier.letter import build_member_letter

    with translation.override("en"):
        assert register.headers("fr")[:4] == ["Référence", "Organisme", "SIREN", "Intitulé"]
        french_row = register.row(register.register_cases([rich.organization]).get(), "fr")
        letter_during_english = build_member_letter(rich)
    with translation.override("fr"):
        assert register.headers("en")[:4] == ["Reference", "Organisation", "SIREN", "Title"]
        english_row = register.row(register.register_cases([rich.organization]).get(), "en")
        letter_during_french = build_member_letter(rich)
    assert "Usage d'identifiants volés ou usurpés" in french_row
    assert "Use of stolen or usurped credentials" in english_row
    assert letter_during_english == letter_during_french  # the letter is French, and reproducible


def test_authority_names_are_remembered_per_language_not_per_first_caller():
    from cases.regimes import authority_name
    from cases.templatetags.deadline_tags import authority_label

    with translation.override("en"):
        assert authority_name("prosecutor", "fr") == "Procureur de la République, police ou gendarmerie"
        assert authority_label("prosecutor") == "Public prosecutor, police or gendarmerie"
    with translation.override("fr"):
        assert authority_name("prosecutor", "en") == "Public prosecutor, police or gendarmerie"
        assert authority_label("prosecutor") == "Procureur de la République, police ou gendarmerie"
    assert authority_name("not-an-authority", "fr") == "not-an-authority"
