"""Sealing: with a PKCS#12 certificate configured the dossier is PAdES-signed and any change is detected."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cases.dossier.builder import render_dossier

GENERATED_AT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
PASSWORD = "dossier-seal-test"  # noqa: S105 - throwaway test certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def throwaway_pki(tmp_path_factory):
    """A CA and a signing certificate issued by it, the latter in a PKCS#12 file."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test dossier CA"))
        .issuer_name(_name("Test dossier CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Mutuelle Exemple — scellement"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=10))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("pki")
    p12 = folder / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, [ca_cert], serialization.BestAvailableEncryption(PASSWORD.encode())
        )
    )
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return p12, ca_pem


@pytest.fixture
def sealed(settings, throwaway_pki, open_case):
    p12, _ = throwaway_pki
    settings.DOSSIER_SIGNING_P12 = str(p12)
    settings.DOSSIER_SIGNING_PASSWORD = PASSWORD
    return render_dossier(open_case(), generated_at=GENERATED_AT)


def _status(pdf: bytes, ca_pem):
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca_pem))])
    return validate_pdf_signature(signature, context)


def test_a_configured_certificate_seals_the_dossier_as_pades(sealed, throwaway_pki):
    assert sealed.signed
    status = _status(sealed.pdf, throwaway_pki[1])
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert "ETSI.CAdES.detached" in sealed.pdf.decode("latin-1")


def test_any_change_to_the_sealed_file_is_detected(sealed, throwaway_pki):
    pdf = bytearray(sealed.pdf)
    offset = pdf.index(b"/Producer")
    pdf[offset + 1 : offset + 9] = b"Producex"
    status = _status(bytes(pdf), throwaway_pki[1])
    assert not status.intact
    assert not status.bottom_line


def test_without_a_certificate_the_dossier_is_not_signed(settings, open_case):
    settings.DOSSIER_SIGNING_P12 = ""
    result = render_dossier(open_case(), generated_at=GENERATED_AT)
    assert not result.signed
    assert b"/ByteRange" not in result.pdf
