"""Which evidence files are accepted, judged by their content rather than their name."""

from __future__ import annotations

import zipfile
from typing import BinaryIO

# Executables and archives are refused whatever their name says, even when their first bytes would
# pass for text (Windows executables need no entry: their header always holds NUL bytes).
REFUSED_MAGIC = (
    b"\x7fELF",  # Linux executable
    b"\xfe\xed\xfa\xce",  # Mach-O 32
    b"\xfe\xed\xfa\xcf",  # Mach-O 64
    b"\xcf\xfa\xed\xfe",  # Mach-O 64 (little-endian)
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # script with an interpreter line
    b"Rar!",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
)
# Entries an office container must hold for its extension (OOXML part folders, ODF mimetype).
OFFICE_MARKERS = {
    ".docx": "word/",
    ".xlsx": "xl/",
}
ODF_MIMETYPES = {
    ".odt": b"application/vnd.oasis.opendocument.text",
    ".ods": b"application/vnd.oasis.opendocument.spreadsheet",
}

OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "text/plain": {".txt", ".log", ".md", ""},
    "text/csv": {".csv"},
    "message/rfc822": {".eml"},
}


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed prefix is still text.
        return exc.start >= len(head) - 3
    return True


def sniff_content_type(head: bytes, name: str) -> str | None:
    """The content type of an upload from its first bytes, or None if it is not accepted.

    The extension must agree with the content: a PDF renamed .png, or an executable
    renamed .pdf, is refused.
    """
    ext = _extension(name)
    if head.startswith(REFUSED_MAGIC):
        return None
    if head.startswith(b"%PDF-"):
        kind = "application/pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "image/png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "image/jpeg"
    elif head.startswith(b"PK\x03\x04") and ext in OFFICE_TYPES:
        return OFFICE_TYPES[ext]
    elif _is_text(head) and head.strip():
        if ext == ".eml":
            kind = "message/rfc822"
        elif ext == ".csv":
            kind = "text/csv"
        else:
            kind = "text/plain"
    else:
        return None
    return kind if ext in EXTENSIONS[kind] else None


def is_office_container(fileobj: BinaryIO, name: str) -> bool:
    """True if a zip named .docx/.xlsx/.odt/.ods really is that kind of office document.

    Reads only the archive's directory (and the small ODF `mimetype` entry), never
    decompresses the content, so a zip bomb costs nothing here.
    """
    ext = _extension(name)
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
            if ext in ODF_MIMETYPES:
                info = archive.getinfo("mimetype") if "mimetype" in names else None
                if info is None or info.file_size > 100:
                    return False
                return archive.read(info).strip() == ODF_MIMETYPES[ext]
            marker = OFFICE_MARKERS.get(ext)
            return marker is not None and "[Content_Types].xml" in names and any(n.startswith(marker) for n in names)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
    finally:
        fileobj.seek(0)
