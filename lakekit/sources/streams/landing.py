"""Events landed as files in Firehose's layout, durably: append + fsync before an acknowledgement.

One open file per stream under landing/streams/<stream>/_open/ (hidden from readers: Spark skips
`_` folders). Each append is one gzip member (concatenated members are one valid gzip stream), written
and fsync'd, so whatever was acknowledged is readable after a kill -9. A file is published by an
atomic rename to landing/streams/<stream>/YYYY/MM/DD/HH/<stream>-<n>-<YYYY-MM-DD-HH-MM-SS>-<uuid>.jsonl.gz
when it reaches its size or age limit, on shutdown, or, after a crash, at the next start.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

OPEN_FOLDER = "_open"
SUFFIX = ".jsonl.gz"
FILE_VERSION = 1  # Firehose's delivery stream version in object names


def stream_root(lake_root: str, stream: str) -> Path:
    return Path(lake_root) / "landing" / "streams" / stream


def published_name(stream: str, opened: datetime) -> str:
    return f"{stream}-{FILE_VERSION}-{opened:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{SUFFIX}"


def published_path(lake_root: str, stream: str, name: str) -> Path:
    """Where a file named by `published_name` is published: the hour folder of the time in its name."""
    stamp = name[len(stream) + 1 :].split("-", 1)[1][:19]
    opened = datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")
    return stream_root(lake_root, stream) / f"{opened:%Y/%m/%d/%H}" / name


def _fsync_dir(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def complete_length(path: Path) -> int:
    """Bytes of the file made of complete gzip members (a torn last member, never acknowledged, is cut off)."""
    data = path.read_bytes()
    end = 0
    while end < len(data):
        decompressor = zlib.decompressobj(wbits=31)
        try:
            decompressor.decompress(data[end:])
        except zlib.error:
            break
        if not decompressor.eof:
            break
        end = len(data) - len(decompressor.unused_data)
    return end


@dataclass
class OpenFile:
    path: Path
    handle: int
    opened_at: float  # monotonic
    bytes: int = 0
    events: int = 0


class StreamLanding:
    """The landing writer of one stream: thread-safe appends, roll by size or age, publish by rename."""

    def __init__(self, lake_root: str, stream: str, roll_bytes: int, roll_seconds: float, compresslevel: int = 6):
        self.lake_root = lake_root
        self.stream = stream
        self.roll_bytes = roll_bytes
        self.roll_seconds = roll_seconds
        self.compresslevel = compresslevel
        self.open_dir = stream_root(lake_root, stream) / OPEN_FOLDER
        self.open_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: OpenFile | None = None
        self.published: list[Path] = []

    def recover(self) -> list[Path]:
        """Publish the files a crashed writer left open (each cut to its complete members); empty ones are removed.

        A file another live writer holds (its flock) is left alone.
        """
        recovered = []
        for path in sorted(self.open_dir.glob(f"*{SUFFIX}")):
            handle = os.open(path, os.O_RDWR)
            try:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                length = complete_length(path)
                os.ftruncate(handle, length)
                os.fsync(handle)
                if length == 0:
                    path.unlink()
                    continue
                recovered.append(self._publish(path))
            finally:
                os.close(handle)
        return recovered

    def _open(self) -> OpenFile:
        name = published_name(self.stream, datetime.now(UTC))
        path = self.open_dir / name
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _fsync_dir(self.open_dir)  # the file's name is durable before any event in it is acknowledged
        return OpenFile(path, handle, time.monotonic())

    def _publish(self, path: Path) -> Path:
        target = published_path(self.lake_root, self.stream, path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)
        _fsync_dir(target.parent)
        _fsync_dir(path.parent)
        self.published.append(target)
        return target

    def _close(self) -> Path | None:
        current, self._file = self._file, None
        if current is None:
            return None
        try:
            if current.events == 0:
                current.path.unlink()
                return None
            return self._publish(current.path)
        finally:
            os.close(current.handle)

    def append(self, lines: list[bytes]) -> None:
        """Append these lines (each ending in a newline) durably: when this returns, they survive a crash."""
        member = gzip.compress(b"".join(lines), compresslevel=self.compresslevel, mtime=0)
        with self._lock:
            if self._file is None:
                self._file = self._open()
            current = self._file
            written = 0
            while written < len(member):
                written += os.write(current.handle, member[written:])
            os.fsync(current.handle)
            current.bytes += len(member)
            current.events += len(lines)
            if current.bytes >= self.roll_bytes:
                self._close()

    def roll_if_old(self) -> Path | None:
        with self._lock:
            if self._file is not None and time.monotonic() - self._file.opened_at >= self.roll_seconds:
                return self._close()
        return None

    def close(self) -> Path | None:
        """Publish the open file (shutdown)."""
        with self._lock:
            return self._close()
