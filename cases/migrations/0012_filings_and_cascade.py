"""Joins the five branches of migration 0011 (the cascade's notices, the ANSSI, complaint, Art. 34 and DORA
filings, the record's consistency and past facts), and gives the submission's kind its full list of choices."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_anssi_submissions"),
        ("cases", "0011_controller_notices_at_scale"),
        ("cases", "0011_dora_facts"),
        ("cases", "0011_record_consistency_past_facts"),
        ("cases", "0011_submissions_complaint_art34"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalsubmission",
            name="kind",
            field=models.CharField(
                choices=[
                    ("cnil_initial", "CNIL initial notification"),
                    ("cnil_complementary", "CNIL complementary notification"),
                    ("nis2_early_warning", "NIS2 early warning"),
                    ("nis2_notification", "NIS2 incident notification"),
                    ("nis2_intermediate", "NIS2 intermediate report"),
                    ("nis2_final", "NIS2 final report"),
                    ("nis2_progress", "NIS2 progress report"),
                    ("nis2_final_after_handling", "NIS2 final report after handling"),
                    ("nis1_ose", "ANSSI incident declaration (NIS1 OSE)"),
                    ("oiv", "ANSSI incident declaration (OIV)"),
                    ("complaint_prosecutor", "Complaint to the public prosecutor"),
                    ("complaint_station", "Complaint lodged at a police or gendarmerie station"),
                    ("art34_letter", "Art. 34 letter to the persons (mail merge)"),
                    ("dora_initial", "DORA initial notification"),
                    ("dora_intermediate", "DORA intermediate report"),
                    ("dora_final", "DORA final report"),
                ],
                max_length=30,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="submission",
            name="kind",
            field=models.CharField(
                choices=[
                    ("cnil_initial", "CNIL initial notification"),
                    ("cnil_complementary", "CNIL complementary notification"),
                    ("nis2_early_warning", "NIS2 early warning"),
                    ("nis2_notification", "NIS2 incident notification"),
                    ("nis2_intermediate", "NIS2 intermediate report"),
                    ("nis2_final", "NIS2 final report"),
                    ("nis2_progress", "NIS2 progress report"),
                    ("nis2_final_after_handling", "NIS2 final report after handling"),
                    ("nis1_ose", "ANSSI incident declaration (NIS1 OSE)"),
                    ("oiv", "ANSSI incident declaration (OIV)"),
                    ("complaint_prosecutor", "Complaint to the public prosecutor"),
                    ("complaint_station", "Complaint lodged at a police or gendarmerie station"),
                    ("art34_letter", "Art. 34 letter to the persons (mail merge)"),
                    ("dora_initial", "DORA initial notification"),
                    ("dora_intermediate", "DORA intermediate report"),
                    ("dora_final", "DORA final report"),
                ],
                max_length=30,
                verbose_name="kind",
            ),
        ),
    ]
