"""The regulator-ready PDF dossier of a breach case (reportlab): `build_dossier(case) -> bytes`."""
