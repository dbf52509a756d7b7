"""Which evidence files are accepted, judged by their content rather than their name."""

from __future__ import annotations

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
