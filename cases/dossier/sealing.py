"""PAdES sealing of a dossier with the organisation's PKCS#12 certificate (pyHanko).

Configured by the settings (from environment variables) DOSSIER_SIGNING_P12, the path of the
PKCS#12 file, and DOSSIER_SIGNING_PASSWORD. The signature certifies the document with no
changes allowed, so a PDF reader flags any later modification.
"""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "")


def signing_configured() -> bool:
    return bool(_setting("DOSSIER_SIGNING_P12"))


def seal(pdf: bytes, *, reason: str, location: str = "") -> bytes:
    """`pdf` signed as PAdES (certification signature, no changes permitted)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    path = _setting("DOSSIER_SIGNING_P12")
    password = _setting("DOSSIER_SIGNING_PASSWORD")
    try:
        signer = signers.SimpleSigner.load_pkcs12(path, passphrase=password.encode() if password else None)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"DOSSIER_SIGNING_P12 could not be loaded: {exc}") from exc
    if signer is None:
        raise ImproperlyConfigured("DOSSIER_SIGNING_P12 could not be loaded (wrong file or password).")
    meta = signers.PdfSignatureMetadata(
        field_name="DossierSeal",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location or None,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()
