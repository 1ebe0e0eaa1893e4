"""Where the ingest service stores events: landing files under the lake root, or a Kinesis stream."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from lakekit.sources.streams.landing import StreamLanding


class SinkFullError(RuntimeError):
    """The sink cannot take these events now; the client should retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Record:
    line: bytes  # the stored event: one JSON object and a newline
    partition_key: str


class Sink(Protocol):
    def put(self, stream: str, records: list[Record]) -> None: ...
    def tick(self) -> None: ...
    def close(self) -> None: ...


class FileSink:
    """Landing files in Firehose's layout, appended and fsync'd before `put` returns."""

    def __init__(
        self,
        lake_root: str,
        streams: list[str],
        roll_bytes: int = 5 * 1024 * 1024,
        roll_seconds: float = 60,
        max_inflight: int = 64,
        min_free_bytes: int = 0,
    ):
        if "://" in lake_root and not lake_root.startswith("file://"):
            raise ValueError(f"the file sink writes under a local lake root, not {lake_root}: use the kinesis sink")
        self.lake_root = lake_root.removeprefix("file://")
        self.min_free_bytes = min_free_bytes
        self.writers = {s: StreamLanding(self.lake_root, s, roll_bytes, roll_seconds) for s in streams}
        self._slots = threading.BoundedSemaphore(max_inflight)
        self.recovered = {s: w.recover() for s, w in self.writers.items()}

    def _free_bytes(self) -> int:
        stats = os.statvfs(self.lake_root)
        return stats.f_bavail * stats.f_frsize

    def put(self, stream: str, records: list[Record]) -> None:
        if self.min_free_bytes and self._free_bytes() < self.min_free_bytes:
            raise SinkFullError(f"less than {self.min_free_bytes} bytes free under {self.lake_root}", retry_after=30)
        if not self._slots.acquire(blocking=False):
            raise SinkFullError("too many requests being written", retry_after=1)
        try:
            self.writers[stream].append([r.line for r in records])
        except OSError as error:
            raise SinkFullError(f"cannot write the landing file: {error}", retry_after=5) from None
        finally:
            self._slots.release()

    def tick(self) -> None:
        for writer in self.writers.values():
            writer.roll_if_old()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


class KinesisSink:
    """PutRecords to one Kinesis stream per event stream, retrying the records Kinesis failed (throttling)."""

    def __init__(self, stream_names: dict[str, str], client=None, attempts: int = 5, backoff_seconds: float = 0.1):
        import boto3

        self.stream_names = stream_names
        self.client = client or boto3.client("kinesis")
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds

    def put(self, stream: str, records: list[Record]) -> None:
        pending = [{"Data": r.line, "PartitionKey": r.partition_key} for r in records]
        delay = self.backoff_seconds
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.put_records(StreamName=self.stream_names[stream], Records=pending)
            except self.client.exceptions.ProvisionedThroughputExceededException:
                results = [{"ErrorCode": "ProvisionedThroughputExceededException"}] * len(pending)
            else:
                results = response["Records"]
            pending = [record for record, result in zip(pending, results, strict=True) if result.get("ErrorCode")]
            if not pending:
                return
            if attempt < self.attempts:
                time.sleep(delay)
                delay *= 2
        raise SinkFullError(f"Kinesis refused {len(pending)} record(s) after {self.attempts} tries", retry_after=1)

    def tick(self) -> None:
        pass

    def close(self) -> None:
        pass
