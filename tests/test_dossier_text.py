"""Text the dossier's font cannot draw is never lost silently; right-to-left text is shaped and ordered."""

from __future__ import annotations

from cases.dossier.text import clean, esc, placeholder, visual


def test_a_character_missing_from_the_font_is_printed_as_its_code_point():
    assert clean("clé 🔐 ok") == "clé [U+1F510] ok"
    assert placeholder("\U0001f984") == "[U+1F984]"
    assert clean("😀 é € ✓") == "😀 é € ✓"  # DejaVu has these


def test_cleaning_twice_changes_nothing():
    for text in ("clé 🔐", "שלום עולם", "مرحبا", "a\tb\r\nc\x00"):
        assert clean(clean(text)) == clean(text)


def test_hebrew_is_put_in_display_order_and_arabic_is_joined():
    assert visual("שלום עולם") == "םלוע םולש"
    shaped = visual("مرحبا")
    assert all("\ufe70" <= char <= "\ufeff" for char in shaped)  # contextual (presentation) forms
    assert shaped[0] == "\ufe8e"  # display order: the final alef is drawn first, at the left
    assert visual("Dossier CRC-2024 : שלום") == "Dossier CRC-2024 : םולש"  # left-to-right text untouched
    assert visual("plain ASCII") == "plain ASCII"


def test_each_line_is_ordered_on_its_own_and_markup_stays_text():
    assert visual("שלום\nעולם") == "םולש\nםלוע"
    assert "םולש" in esc("<b>שלום</b>") and "&lt;" in esc("<b>שלום</b>")
