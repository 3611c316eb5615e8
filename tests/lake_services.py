"""The real parts a scaled-out newsroom runs, started for the tests on loopback and torn down at the end:
a throwaway PostgreSQL cluster (Debian's ``postgresql`` binaries, ``initdb`` in a temporary folder,
127.0.0.1 on a free port) and an S3-compatible server (``moto`` in server mode, from PyPI).

As root (CI runs as root), PostgreSQL refuses to run: the cluster is then initialised and started as
the ``postgres`` OS user Debian's package creates (or ``nobody``), in a folder that user owns.
Where a binary is missing, :func:`missing_postgres` / :func:`missing_moto` say so (the tests skip
with that reason, and only then).
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return shutil.which(name)


def missing_postgres() -> str | None:
    """Why no cluster can start here (``None``: it can)."""
    for name in ("initdb", "pg_ctl", "psql"):
        if _pg_bin(name) is None:
            return f"PostgreSQL's {name} not found (Debian: apt-get install postgresql; `make system-deps` does)"
    return None


def missing_moto() -> str | None:
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        return f"moto[server] is not installed ({exc}): pip install -e '.[test]'"
    return None


def _os_user() -> str | None:
    """The user the cluster runs as: ourselves, or as root the ``postgres`` (else ``nobody``) user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no postgres or nobody user to run PostgreSQL as")


@dataclasses.dataclass
class Postgres:
    folder: Path
    port: int
    user: str | None

    def conninfo(self, dbname: str) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=tiktok"

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(args, check=True, capture_output=True, text=True, user=self.user, env=env, timeout=120, **kwargs)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        return self._run(
            _pg_bin("psql"), "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", str(self.port), "-U", "tiktok", "-d", dbname, "-c", sql
        ).stdout

    def create_database(self, name: str) -> str:
        """A new, empty database owned by the ``tiktok`` role; its DuckLake conninfo."""
        self.psql(f'CREATE DATABASE "{name}" OWNER tiktok')
        return self.conninfo(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb in a new folder, started on 127.0.0.1 on a free port with a ``tiktok`` superuser (trust on loopback)."""
    user = _os_user()
    folder = Path(tempfile.mkdtemp(prefix="tiktok-intel-pg-"))
    if user is not None:
        info = pwd.getpwnam(user)
        os.chown(folder, info.pw_uid, info.pw_gid)
    pg = Postgres(folder, free_port(), user)
    try:
        pg._run(_pg_bin("initdb"), "-D", str(folder / "data"), "-U", "tiktok", "-A", "trust", "-E", "UTF8", "--no-locale")
        options = f"-c listen_addresses=127.0.0.1 -p {pg.port} -k {folder} -c fsync=off -c max_connections=100"
        pg._run(_pg_bin("pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"), "-o", options, "-w", "-t", "60", "start")
    except BaseException:
        pg.stop()
        raise
    return pg


@dataclasses.dataclass
class S3:
    endpoint: str
    process: subprocess.Popen
    key_id: str = "testing-key-id"
    secret: str = "testing-secret-CANARY-s3"
    region: str = "us-east-1"

    def settings(self) -> dict:
        """The workbench's settings for this server (``configure(**s3.settings())``)."""
        return {"s3_endpoint": self.endpoint, "s3_key_id": self.key_id, "s3_secret": self.secret, "s3_region": self.region}

    def environ(self) -> dict[str, str]:
        return {f"TIKTOK_INTEL_{k.upper()}": v for k, v in self.settings().items()}

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.key_id, aws_secret_access_key=self.secret, region_name=self.region
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return [o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_moto() -> S3:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    s3 = S3(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                s3.stop()
                raise RuntimeError(f"moto_server did not start on port {port}") from None
            time.sleep(0.1)
    return s3
