"""gunicorn settings of `make serve` and the systemd unit (docs/deployment.md); each one an environment variable.

Behind a reverse proxy on the same host, bind to loopback (the default); the proxy terminates TLS
and sends X-Forwarded-Proto (set DJANGO_SECURE_PROXY_SSL_HEADER=1).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Synchronous workers: every request is short (the dossier is built by the Celery workers).
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then: a slow leak in a library never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's own heartbeat files
accesslog = "-"
errorlog = "-"
# Addresses whose X-Forwarded-* headers gunicorn trusts (the reverse proxy).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
