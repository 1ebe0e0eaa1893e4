"""Small file operations on the lake root, on a local disk or S3: state files, manifests, moving written files."""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

S3_SCHEMES = ("s3://", "s3a://")
# Glue's own default job timeout (48 hours); conf's jobs.<name>.timeout_minutes overrides it.
DEFAULT_TIMEOUT_MINUTES = 2880
_CONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict", "412")


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
        """An exclusive lock (flock) that the operating system releases when the holder dies (kill -9 included).

        The file holds `owner` (see lock_owner). A holder still alive past its `expires_at` is taken
        over: its file is unlinked (under a guard lock, so one taker wins) and a new one locked.
        """
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_lock(handle)
                handle.close()
                if not is_expired(holder):
                    raise LockedError(f"already running: {describe_lock(holder)}") from None
                self._unlink_if_held_by(path, holder)
                continue
            if not _same_file(handle, path):  # unlinked by a take-over or a release since we opened it
                handle.close()
                continue
            break
        else:
            raise LockedError(f"could not take {path}: it keeps changing hands")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(owner))
            handle.flush()
            yield
        finally:
            # Only our own file: after a take-over, `path` is the new holder's.
            if _same_file(handle, path):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
            handle.close()

    @staticmethod
    def _unlink_if_held_by(path: str, holder: dict[str, Any]) -> bool:
        """Take over an expired lock: remove its file if it is still `holder`'s (one taker at a time)."""
        with open(f"{path}.takeover", "a+") as guard:
            fcntl.flock(guard.fileno(), fcntl.LOCK_EX)
            try:
                current = json.loads(Path(path).read_text() or "{}")
            except (FileNotFoundError, json.JSONDecodeError):
                return False
            if current.get("token") != holder.get("token"):
                return False
            _log_take_over(path, holder)
            os.remove(path)
            return True

    def lock_state(self, path: str) -> tuple[dict[str, Any] | None, bool]:
        """(the lock's document or None, whether a live process holds it)."""
        if not os.path.exists(path):
            return None, False
        with open(path, "a+") as handle:
            document = _read_lock(handle)
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return document, True
            return document, False

    def unlock(self, path: str, force: bool = False) -> str:
        """Remove a lock left behind. A lock a live process holds is refused unless `force`; returns what was done."""
        document, held = self.lock_state(path)
        if document is None and not held:
            return "no lock"
        if held and not force and not is_expired(document):
            raise LockedError(
                f"held by a live run: {describe_lock(document)}; it is released when that run ends "
                "(--force removes it anyway and lets a second run in)"
            )
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        return f"removed (was {'held' if held else 'not held'} by {describe_lock(document)})"


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

    def _read_lock_object(self, path: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the lock's document, its ETag), or (None, None) when there is no lock."""
        bucket, key = self._split(path)
        try:
            found = self.s3.get_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None, None
            raise
        return _parse_lock(found["Body"].read().decode()), found["ETag"]

    def _put(self, path: str, owner: dict[str, Any], **condition: str) -> bool:
        """A conditional write; False when its condition does not hold (someone else wrote or removed it)."""
        bucket, key = self._split(path)
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(owner).encode(), **condition)
            return True
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in _CONDITION_FAILED:
                return False
            raise

    def _delete_if(self, path: str, etag: str) -> bool:
        bucket, key = self._split(path)
        try:
            self.s3.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
            return True
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in _CONDITION_FAILED:
                return False
            raise

    @contextlib.contextmanager
    def lock(self, path: str, owner: dict[str, Any]) -> Iterator[None]:
        """A lock object created only if absent (conditional write, If-None-Match); removed on exit if still ours.

        A run killed without cleaning up leaves it behind until its `expires_at`; after that the next
        run takes it over with a write conditional on the expired object's ETag (If-Match), so of two
        takers only one wins.
        """
        for _ in range(5):
            if self._put(path, owner, IfNoneMatch="*"):
                break
            holder, etag = self._read_lock_object(path)
            if holder is None:  # released in between
                continue
            if not is_expired(holder):
                raise LockedError(f"already running: {describe_lock(holder)}")
            if not self._put(path, owner, IfMatch=etag):
                raise LockedError(f"already running: another run took over the expired lock of {describe_lock(holder)}")
            log.warning(
                "lock %s expired at %s: taken over from %s", path, holder.get("expires_at"), describe_lock(holder)
            )
            break
        else:
            raise LockedError(f"could not take {path}: it keeps changing hands")
        try:
            yield
        finally:
            current, etag = self._read_lock_object(path)
            if current is not None and current.get("token") == owner.get("token"):
                self._delete_if(path, etag)

    def lock_state(self, path: str) -> tuple[dict[str, Any] | None, bool]:
        """(the lock's document or None, whether it is in force: present and not expired)."""
        document, _ = self._read_lock_object(path)
        return document, document is not None and not is_expired(document)

    def unlock(self, path: str, force: bool = False) -> str:
        """Remove a lock: an expired one, or the caller's own (same owner and host), or any with `force`."""
        document, etag = self._read_lock_object(path)
        if document is None:
            return "no lock"
        if not (force or is_expired(document) or is_own(document)):
            raise LockedError(
                f"held by {describe_lock(document)}, not by {_caller()}; it expires at "
                f"{document.get('expires_at', 'an unknown time')} (--force removes it anyway)"
            )
        if not self._delete_if(path, etag):
            raise LockedError("the lock changed while removing it; look again")
        return f"removed (was held by {describe_lock(document)})"


def is_s3(root: str) -> bool:
    return root.startswith(S3_SCHEMES)


def storage_for(root: str):
    """S3 for s3:// and s3a:// roots (every piece of state goes there too), else the local disk."""
    return S3Storage() if is_s3(root) else LocalStorage()


def _caller() -> str:
    return f"{os.environ.get('LAKE_LOCK_OWNER') or getpass.getuser()}@{socket.gethostname()}"


def lock_owner(job: str, timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES) -> dict[str, Any]:
    """A lock's document: who holds it (owner: $LAKE_LOCK_OWNER or the user), where, since when, until when.

    `token` is unique to this run: a release removes the lock only while it still holds it.
    """
    now = datetime.now(UTC)
    return {
        "job": job,
        "owner": os.environ.get("LAKE_LOCK_OWNER") or getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(minutes=timeout_minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "token": uuid.uuid4().hex,
    }


def is_expired(document: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """Past its `expires_at`. A document without one (written before locks expired) never expires."""
    expires = (document or {}).get("expires_at")
    if not expires:
        return False
    return (now or datetime.now(UTC)) >= datetime.fromisoformat(expires.replace("Z", "+00:00"))


def is_own(document: dict[str, Any]) -> bool:
    return f"{document.get('owner')}@{document.get('host')}" == _caller()


def describe_lock(document: dict[str, Any] | None) -> str:
    if not document:
        return "unknown holder"
    fields = ("owner", "host", "pid", "since", "expires_at")
    return json.dumps({k: document[k] for k in fields if k in document} or document)


def _log_take_over(path: str, holder: dict[str, Any]) -> None:
    log.warning("lock %s expired at %s: taken over from %s", path, holder.get("expires_at"), describe_lock(holder))


def _parse_lock(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {"unreadable": text[:200]}
    return document if isinstance(document, dict) else {"unreadable": text[:200]}


def _read_lock(handle) -> dict[str, Any]:
    handle.seek(0)
    return _parse_lock(handle.read())


def _same_file(handle, path: str) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False
