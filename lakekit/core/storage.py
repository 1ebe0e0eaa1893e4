"""Small file operations on the lake root, on a local disk or S3: state files, manifests, moving written files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

S3_SCHEMES = ("s3://", "s3a://")


class LockedError(RuntimeError):
    """Another run holds the lock; the message names it."""


class StorageError(RuntimeError):
    """The lake root cannot be used as given; the message names the setting to fix."""


class LocalStorage:
    """Paths are plain absolute paths."""

    def check_root(self, root: str) -> None:
        """A lake root folder is created on first use, but only inside a folder that exists (a typo fails)."""
        parent = Path(root).parent
        if not Path(root).is_dir() and not parent.is_dir():
            raise StorageError(
                f"lake root {root}: {parent} does not exist; fix --lake-root (Glue: --lake_root) or LAKE_ROOT"
            )

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

    def list_files(self, path: str, start_after: str | None = None) -> list[str]:
        if not os.path.isdir(path):
            return []
        return sorted(e.path for e in os.scandir(path) if e.is_file() and (not start_after or e.name > start_after))

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


# S3 requests made by this process, by operation (ListObjectsV2, GetObject, HeadObject, ...): the cost of a
# run that must not grow with the lake's history is counted here (tests, `lake` diagnostics).
S3_REQUESTS: Counter[str] = Counter()


def _count_request(model, **_) -> None:
    S3_REQUESTS[model.name] += 1


@cache
def s3_client():
    """One S3 client per process, configured by the standard AWS variables alone.

    boto3 reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (another S3 API, e.g. a local one), AWS_REGION /
    AWS_DEFAULT_REGION, and the usual credential chain; the project adds no switch of its own.
    """
    import boto3

    client = boto3.client("s3")
    client.meta.events.register("before-call.s3", _count_request)
    return client


class S3Storage:
    """Paths are s3://bucket/key or s3a://bucket/key URIs; listings keep the scheme they were asked with."""

    def __init__(self, client=None):
        if client is None:
            client = s3_client()
        else:
            client.meta.events.register_first("before-call.s3", _count_request, unique_id="lakekit-count")
        self.s3 = client

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        rest = uri.split("://", 1)[1]
        bucket, _, key = rest.partition("/")
        return bucket, key

    @staticmethod
    def _scheme(uri: str) -> str:
        return uri.split("://", 1)[0]

    def check_root(self, root: str) -> None:
        """The bucket exists and the credentials reach it: else one line naming what to fix."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        bucket, _ = self._split(root)
        try:
            self.s3.head_bucket(Bucket=bucket)
        except NoCredentialsError:
            raise StorageError(
                f"lake root {root}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_PROFILE, or run with an IAM role)"
            ) from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(
                    f"lake root {root}: bucket {bucket} does not exist; fix --lake_root (--lake-root, LAKE_ROOT) "
                    "or create the bucket"
                ) from None
            if code in ("403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageError(
                    f"lake root {root}: access to bucket {bucket} denied ({code}); check the AWS credentials "
                    "(AWS_ACCESS_KEY_ID / AWS_PROFILE / the job's IAM role)"
                ) from None
            raise StorageError(f"lake root {root}: S3 answered {code or error}") from None
        except BotoCoreError as error:  # endpoint unreachable, bad region, ...
            endpoint = self.s3.meta.endpoint_url
            raise StorageError(
                f"lake root {root}: cannot reach S3 at {endpoint} ({error}); check AWS_ENDPOINT_URL_S3 / "
                "AWS_ENDPOINT_URL and AWS_REGION"
            ) from None

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

    def _list(self, path: str, dirs: bool, start_after: str | None = None) -> list[str]:
        bucket, key = self._split(path)
        scheme = self._scheme(path)
        prefix = key.rstrip("/") + "/"
        found: list[str] = []
        extra = {"StartAfter": prefix + start_after} if start_after else {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/", **extra)
        for page in pages:
            if dirs:
                found += [f"{scheme}://{bucket}/{p['Prefix'].rstrip('/')}" for p in page.get("CommonPrefixes", [])]
            else:
                found += [f"{scheme}://{bucket}/{o['Key']}" for o in page.get("Contents", [])]
        return sorted(found)

    def list_dirs(self, path: str) -> list[str]:
        return self._list(path, dirs=True)

    def list_files(self, path: str, start_after: str | None = None) -> list[str]:
        """Files directly under `path`; with `start_after`, only those whose name sorts after it (one request)."""
        return self._list(path, dirs=False, start_after=start_after)

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
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:  # a page holds at most 1000 keys, what one DeleteObjects accepts
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})

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


def is_s3(root: str) -> bool:
    return root.startswith(S3_SCHEMES)


def storage_for(root: str):
    """S3 for s3:// and s3a:// roots (every piece of state goes there too), else the local disk."""
    return S3Storage() if is_s3(root) else LocalStorage()


def lock_owner(job: str) -> dict[str, Any]:
    return {
        "job": job,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
