"""Small file operations on the lake root, on a local disk or S3: state files, manifests, moving written files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class LockedError(RuntimeError):
    """Another run holds the lock; the message names it."""


class LocalStorage:
    """Paths are plain absolute paths."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def read_text(self, path: str) -> str:
        return Path(path).read_text()

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def write_text(self, path: str, text: str) -> None:
        """Atomic: readers see the old content or the new, never half of it."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def list_dirs(self, path: str) -> list[str]:
        if not os.path.isdir(path):
            return []
        return sorted(e.path for e in os.scandir(path) if e.is_dir())

    def list_files(self, path: str) -> list[str]:
        if not os.path.isdir(path):
            return []
        return sorted(e.path for e in os.scandir(path) if e.is_file())

    def move(self, source: str, target: str) -> None:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)

    def delete_tree(self, path: str) -> None:
        import shutil

        shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, path: str, owner: dict[str, Any]) -> Iterator[None]:
        """An exclusive lock that the operating system releases when the holder dies (kill -9 included)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise LockedError(f"already running: {holder}") from None
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(owner))
            handle.flush()
            yield
        finally:
            handle.close()


class S3Storage:
    """Paths are s3://bucket/key URIs."""

    def __init__(self, client=None):
        import boto3

        self.s3 = client or boto3.client("s3")

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        rest = uri.split("://", 1)[1]
        bucket, _, key = rest.partition("/")
        return bucket, key

    def exists(self, path: str) -> bool:
        bucket, key = self._split(path)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def read_bytes(self, path: str) -> bytes:
        bucket, key = self._split(path)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode()

    def write_text(self, path: str, text: str) -> None:
        bucket, key = self._split(path)
        self.s3.put_object(Bucket=bucket, Key=key, Body=text.encode())

    def _list(self, path: str, dirs: bool) -> list[str]:
        bucket, key = self._split(path)
        prefix = key.rstrip("/") + "/"
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            if dirs:
                found += [f"s3://{bucket}/{p['Prefix'].rstrip('/')}" for p in page.get("CommonPrefixes", [])]
            else:
                found += [f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", [])]
        return sorted(found)

    def list_dirs(self, path: str) -> list[str]:
        return self._list(path, dirs=True)

    def list_files(self, path: str) -> list[str]:
        return self._list(path, dirs=False)

    def move(self, source: str, target: str) -> None:
        sb, sk = self._split(source)
        tb, tk = self._split(target)
        self.s3.copy_object(Bucket=tb, Key=tk, CopySource={"Bucket": sb, "Key": sk})
        self.s3.delete_object(Bucket=sb, Key=sk)

    def delete(self, path: str) -> None:
        bucket, key = self._split(path)
        self.s3.delete_object(Bucket=bucket, Key=key)

    def delete_tree(self, path: str) -> None:
        bucket, key = self._split(path)
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key.rstrip("/") + "/"):
            for obj in page.get("Contents", []):
                self.s3.delete_object(Bucket=bucket, Key=obj["Key"])

    @contextlib.contextmanager
    def lock(self, path: str, owner: dict[str, Any]) -> Iterator[None]:
        """A lock object created only if absent (S3 conditional write); removed on exit.

        A run killed without cleaning up leaves it behind: `lake bookmarks unlock JOB` removes it.
        """
        bucket, key = self._split(path)
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(owner).encode(), IfNoneMatch="*")
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise LockedError(f"already running: {self.read_text(path)}") from None
            raise
        try:
            yield
        finally:
            self.s3.delete_object(Bucket=bucket, Key=key)


def storage_for(root: str):
    return S3Storage() if root.startswith("s3://") else LocalStorage()


def lock_owner(job: str) -> dict[str, Any]:
    return {
        "job": job,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
