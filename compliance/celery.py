"""The Celery application: configured from Django's settings (the CELERY_* names), tasks found in each app.

Workers: `celery -A compliance worker`; the schedule (reminders, stale jobs): `celery -A compliance beat`.
Without CELERY_BROKER_URL every task runs inline (settings.CELERY_TASK_ALWAYS_EAGER).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

app = Celery("compliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
