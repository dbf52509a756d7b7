"""Evidence types are judged by content: the name must agree with the bytes, executables never pass."""

from __future__ import annotations

import io

import pytest

from cases.uploads import is_office_container, sniff_content_type
from tests.conftest import zip_bytes

PDF = b"%PDF-1.4\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (PDF, "receipt.pdf", "application/pdf"),
        (PDF, "RECEIPT.PDF", "application/pdf"),
        (PNG, "screenshot.png", "image/png"),
        (JPEG, "photo.jpeg", "image/jpeg"),
        (JPEG, "photo.jpg", "image/jpeg"),
        (b"2024-02-01 09:00 alert\n", "soc.log", "text/plain"),
        ("Récépissé de plainte".encode(), "note.txt", "text/plain"),
        (b"date;event\n", "events.csv", "text/csv"),
        (b"From: cnil@example.fr\nSubject: accuse\n\n", "accuse.eml", "message/rfc822"),
    ],
)
def test_accepted_types_are_named_by_their_content(head, name, expected):
    assert sniff_content_type(head, name) == expected


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (PDF, "scan.png"),  # a PDF renamed .png
        (PNG, "letter.pdf"),  # an image renamed .pdf
        (b"MZ\x90\x00\x03\x00\x00\x00", "invoice.pdf"),  # Windows executable
        (b"MZ\x90\x00\x03\x00\x00\x00", "invoice.txt"),
        (b"\x7fELF\x02\x01\x01\x00", "report.pdf"),  # Linux executable
        (b"\xcf\xfa\xed\xfe\x07\x00", "report.pdf"),  # macOS executable
        (b"#!/bin/sh\necho pwned\n", "notes.txt"),  # script with an innocent name
        (zip_bytes({"a.exe": b"MZ"}), "archive.pdf"),  # zip renamed .pdf
        (zip_bytes({"a.exe": b"MZ"})[:16], "archive.txt"),
        (b"\x1f\x8b\x08\x00", "logs.txt"),  # gzip
        (b"Rar!\x1a\x07\x00", "logs.txt"),
        (b"plain text", "page.html"),  # not an accepted type
        (b"", "empty.txt"),
        (b"\x00\x01\x02\x03", "data.bin"),
    ],
)
def test_disguised_and_unlisted_types_are_refused(head, name):
    assert sniff_content_type(head, name) is None


def test_a_multibyte_character_cut_by_the_sniffed_prefix_is_still_text():
    head = ("é" * 10).encode()[:-1]
    assert sniff_content_type(head, "note.txt") == "text/plain"


def test_an_office_document_must_be_the_container_its_name_says():
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    xlsx = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    odt = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    assert is_office_container(io.BytesIO(docx), "a.docx")
    assert is_office_container(io.BytesIO(xlsx), "a.xlsx")
    assert is_office_container(io.BytesIO(odt), "a.odt")
    assert not is_office_container(io.BytesIO(docx), "a.xlsx")
    assert not is_office_container(io.BytesIO(odt), "a.ods")
    assert not is_office_container(io.BytesIO(zip_bytes({"payload.exe": b"MZ"})), "a.docx")
    assert not is_office_container(io.BytesIO(b"PK\x03\x04 truncated"), "a.docx")


def test_the_office_check_leaves_the_file_at_its_start():
    stream = io.BytesIO(zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}))
    stream.seek(10)
    is_office_container(stream, "a.docx")
    assert stream.tell() == 0
