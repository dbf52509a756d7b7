"""Section 10: how anyone can verify this dossier without the application, and the bundle embedded for it.

Built after the history section, which has streamed every row (and the lines it prints for
each) into the context's bundle: this section closes the bundle (checkpoints, time stamps,
inclusion proofs, keys), prints what an auditor compares (the signing key, the checkpoint, the
printed-history fingerprint) and embeds the bundle in the PDF as an attached file.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.platypus import Flowable

from ...bundle import FILENAME, BundleWriter
from ...checkpoints import bundle_keys
from ..context import Context
from ..document import Heading
from ..styles import SMALL, kv_table, para, spacer

KEY = "s10"


class EmbeddedBundle(Flowable):
    """Zero-size: attaches the bundle to the PDF (an embedded file, listed in the document's
    EmbeddedFiles) when the final pass draws it. The stream is the bundle's zlib data as it is."""

    def __init__(self, data: bytes, description: str) -> None:
        super().__init__()
        self.data = data
        self.description = description

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        if getattr(self.canv, "layout_only", False):
            return
        doc = self.canv._doc
        stream = PDFStream(
            PDFDictionary(
                {
                    "Type": PDFName("EmbeddedFile"),
                    "Subtype": PDFName("application/json"),
                    "Filter": PDFArray([PDFName("FlateDecode")]),
                }
            ),
            content=self.data,
            filters=[],
        )
        spec = PDFDictionary(
            {
                "Type": PDFName("Filespec"),
                "F": PDFString(FILENAME),
                "UF": PDFString(FILENAME),
                "Desc": PDFString(self.description),
                "AFRelationship": PDFName("Data"),
                "EF": PDFDictionary({"F": doc.Reference(stream)}),
            }
        )
        names = PDFDictionary({"Names": PDFArray([PDFString(FILENAME), doc.Reference(spec)])})
        doc.Catalog.Names = PDFDictionary({"EmbeddedFiles": names})


def build(ctx: Context) -> list[Flowable]:
    bundle: BundleWriter = ctx.bundle
    data = bundle.finish()
    proofs = bundle.proofs
    keys = bundle_keys(proofs.key_ids)
    site = settings.SITE_URL
    verifier_url = site + reverse("cases:history_verifier")
    keys_url = site + reverse("cases:history_keys")
    with translation.override(ctx.lang):
        rows = [
            (_("Attached file"), FILENAME),
            (_("History rows in the bundle"), ctx.number(bundle.rows)),
            (_("Printed-history fingerprint (SHA-256)"), bundle.fingerprint),
        ]
        if proofs.checkpoints:
            anchor = proofs.checkpoints[-1]
            stamps = [s for s in anchor.timestamps.all()]
            rows += [
                (
                    _("Latest checkpoint"),
                    _("No. %(seq)s of %(when)s, %(n)s chains, Merkle root %(root)s")
                    % {
                        "seq": anchor.seq,
                        "when": ctx.dt(anchor.created_at, seconds=True),
                        "n": anchor.tree_size,
                        "root": anchor.root,
                    },
                ),
                (
                    _("Time stamp (RFC 3161)"),
                    "; ".join(f"{ctx.dt(s.gen_time, seconds=True)} — {s.tsa_url}" for s in stamps)
                    or _("none on this checkpoint (see the bundle)"),
                ),
            ]
        else:
            rows.append((_("Latest checkpoint"), _("none yet: the rows are not anchored by a signed checkpoint")))
        for key in keys:
            rows += [
                (_("Signing key identifier"), key["key_id"]),
                (_("Public key (Ed25519, base64)"), key["public_key"]),
            ]
        title = _("10. Verifying this dossier without the application")
        flowables: list[Flowable] = [
            Heading(title, KEY),
            para(
                _(
                    "This PDF carries an attached file, %(file)s: the history rows of this case in their exact "
                    "recorded form, the signed checkpoints that cover them, their time stamps and the proofs that "
                    "the case's history is in each checkpoint. Anyone can check it, without access to this "
                    "application and without any secret:"
                )
                % {"file": FILENAME}
            ),
            para(_("1. download the verifier, a single Python file: %(url)s") % {"url": verifier_url}),
            para(_("2. install its only dependency: pip install cryptography")),
            para(_("3. run: python3 verify_bundle.py <this PDF file> --trust <signing key identifier below>")),
            para(
                _(
                    "It recomputes every row and every link of the chain, checks the signatures and time stamps, "
                    "and names the first row altered, missing, moved or added. It prints the fingerprint of the "
                    "printed history, which must be the one below. Compare the key identifier with the keys the "
                    "organisation publishes at %(url)s."
                )
                % {"url": keys_url}
            ),
            spacer(4),
            *kv_table(rows, label_share=0.32),
            spacer(4),
            para(
                _(
                    "The bundle is also downloadable on its own from the case page. A signed checkpoint commits to "
                    "the head of every history chain; a time stamp from an independent authority proves it existed "
                    "at that time, so rows it covers cannot be rewritten later, even by the operator."
                ),
                SMALL,
            ),
            EmbeddedBundle(data, _("History verification bundle of %(ref)s") % {"ref": ctx.case.reference}),
        ]
    return flowables
