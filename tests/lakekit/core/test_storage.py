"""Storage on a local disk and on S3 (moto in server mode as the local stand-in for S3)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from pathlib import Path

import boto3
import pytest

from lakekit.core.storage import LocalStorage, LockedError, S3Storage, lock_owner


@pytest.fixture(scope="module")
def s3_client():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    client = _client(f"http://{host}:{port}")
    client.create_bucket(Bucket="lake")
    yield client
    server.stop()


def _client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(), str(tmp_path)
    return S3Storage(request.getfixturevalue("s3_client")), f"s3://lake/{tmp_path.name}"


def test_files_round_trip_list_move_and_delete(store):
    storage, root = store
    storage.write_text(f"{root}/a/one.json", "1")
    storage.write_text(f"{root}/a/two.json", "2")
    storage.write_text(f"{root}/a/sub/three.json", "3")
    assert storage.read_text(f"{root}/a/one.json") == "1"
    assert storage.list_files(f"{root}/a") == [f"{root}/a/one.json", f"{root}/a/two.json"]
    assert storage.list_dirs(f"{root}/a") == [f"{root}/a/sub"]
    storage.move(f"{root}/a/two.json", f"{root}/b/two.json")
    assert (storage.exists(f"{root}/a/two.json"), storage.read_text(f"{root}/b/two.json")) == (False, "2")
    storage.delete_tree(f"{root}/a")
    assert storage.list_files(f"{root}/a") == [] and storage.list_dirs(f"{root}/a") == []
    assert storage.list_files(f"{root}/missing") == []


def test_a_held_lock_refuses_a_second_holder_and_is_released(store):
    storage, root = store
    path = f"{root}/locks/job.lock"
    first, second = lock_owner("job"), lock_owner("job")
    with storage.lock(path, first), pytest.raises(LockedError, match=f'"since": "{first["since"]}"'):  # noqa: SIM117
        with storage.lock(path, second):
            pass
    assert storage.lock_state(path) == (None, False)  # released: removed
    with storage.lock(path, second):
        assert storage.lock_state(path) == (second, True)


def test_the_lock_records_owner_host_pid_start_and_expiry(store):
    storage, root = store
    path = f"{root}/locks/job.lock"
    owner = lock_owner("job", timeout_minutes=90)
    with storage.lock(path, owner):
        document, held = storage.lock_state(path)
    assert held
    assert document == owner
    assert {"owner", "host", "pid", "since", "expires_at", "token"} <= set(document)
    assert document["pid"] == os.getpid()
    since = time.strptime(document["since"], "%Y-%m-%dT%H:%M:%SZ")
    expires = time.strptime(document["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert time.mktime(expires) - time.mktime(since) == 90 * 60


def test_an_expired_lock_is_taken_over_with_a_log_line_and_its_old_holder_does_not_remove_the_new_one(store, caplog):
    storage, root = store
    path = f"{root}/locks/job.lock"
    stale, fresh = lock_owner("job", timeout_minutes=-1), lock_owner("job")
    with caplog.at_level(logging.WARNING, logger="lakekit.core.storage"), storage.lock(path, stale):  # noqa: SIM117
        with storage.lock(path, fresh):
            assert storage.lock_state(path) == (fresh, True)
            assert f"lock {path} expired at {stale['expires_at']}: taken over from" in caplog.text
        # the new holder released its own lock; the old one still believes it holds one, and leaves
    assert storage.lock_state(path) == (None, False)


def test_the_release_of_a_lock_taken_over_leaves_the_new_holders_lock(store):
    storage, root = store
    path = f"{root}/locks/job.lock"
    stale, fresh, third = lock_owner("job", timeout_minutes=-1), lock_owner("job"), lock_owner("job")
    lock = storage.lock(path, stale)
    lock.__enter__()
    with storage.lock(path, fresh):
        lock.__exit__(None, None, None)  # the old holder wakes up and releases
        assert storage.lock_state(path) == (fresh, True)
        with pytest.raises(LockedError, match=fresh["since"]), storage.lock(path, third):
            pass


def test_of_two_runs_taking_over_one_expired_s3_lock_only_one_wins(s3_client, tmp_path):
    storage = S3Storage(s3_client)
    path = f"s3://lake/{tmp_path.name}/locks/job.lock"
    stale = lock_owner("job", timeout_minutes=-1)
    assert storage._put(path, stale, IfNoneMatch="*")
    seen = storage._read_lock_object(path)  # both takers read the expired lock before either writes
    first, second = lock_owner("job"), lock_owner("job")
    late = S3Storage(s3_client)
    late._read_lock_object = lambda _path: seen
    with storage.lock(path, first):
        with pytest.raises(LockedError, match="another run took over the expired lock"), late.lock(path, second):
            pass
        assert storage.lock_state(path) == (first, True)


def _hold_s3_lock_forever(endpoint: str, path: str, ready) -> None:
    owner = lock_owner("job", timeout_minutes=2 / 60)
    with S3Storage(_client(endpoint)).lock(path, owner):
        ready.set()
        time.sleep(600)


def test_an_s3_lock_of_a_killed_holder_blocks_until_it_expires_then_the_next_run_proceeds(s3_client, tmp_path):
    storage = S3Storage(s3_client)
    path = f"s3://lake/{tmp_path.name}/locks/job.lock"
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_s3_lock_forever, args=(s3_client.meta.endpoint_url, path, ready))
    child.start()
    assert ready.wait(30)
    child.kill()  # SIGKILL: the lock object stays behind
    child.join()
    holder, in_force = storage.lock_state(path)
    assert (holder["pid"], in_force) == (child.pid, True)
    with pytest.raises(LockedError, match=f'"pid": {child.pid}'), storage.lock(path, lock_owner("job")):
        pass
    time.sleep(max(0.0, time.mktime(time.strptime(holder["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.time()) + 1.1)
    mine = lock_owner("job")
    with storage.lock(path, mine):
        assert storage.lock_state(path) == (mine, True)


def test_unlock_of_a_strangers_s3_lock_is_refused_unless_forced(s3_client, tmp_path, monkeypatch):
    storage = S3Storage(s3_client)
    path = f"s3://lake/{tmp_path.name}/locks/job.lock"
    monkeypatch.setenv("LAKE_LOCK_OWNER", "stranger")
    theirs = lock_owner("job")
    assert storage._put(path, theirs, IfNoneMatch="*")
    monkeypatch.setenv("LAKE_LOCK_OWNER", "me")
    with pytest.raises(LockedError, match="held by .*stranger.*not by me@"):
        storage.unlock(path)
    assert storage.lock_state(path) == (theirs, True)
    assert storage.unlock(path, force=True).startswith("removed")
    assert storage.lock_state(path) == (None, False)


def test_unlock_removes_the_callers_own_or_an_expired_s3_lock(s3_client, tmp_path, monkeypatch):
    storage = S3Storage(s3_client)
    path = f"s3://lake/{tmp_path.name}/locks/job.lock"
    monkeypatch.setenv("LAKE_LOCK_OWNER", "me")
    assert storage._put(path, lock_owner("job"), IfNoneMatch="*")
    assert storage.unlock(path).startswith("removed")
    monkeypatch.setenv("LAKE_LOCK_OWNER", "stranger")
    assert storage._put(path, lock_owner("job", timeout_minutes=-1), IfNoneMatch="*")
    monkeypatch.setenv("LAKE_LOCK_OWNER", "me")
    assert storage.unlock(path).startswith("removed")
    assert storage.unlock(path) == "no lock"


def _hold_lock_forever(path: str, ready) -> None:
    with LocalStorage().lock(path, {**lock_owner("job"), "owner": "child"}):
        ready.set()
        time.sleep(600)


def test_a_local_lock_dies_with_its_holder(tmp_path):
    path = str(tmp_path / "job.lock")
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_lock_forever, args=(path, ready))
    child.start()
    assert ready.wait(30)
    with pytest.raises(LockedError, match="child"), LocalStorage().lock(path, lock_owner("job")):
        pass
    # Unlocking a lock a live run holds would let a second run in: refused, whoever asks.
    with pytest.raises(LockedError, match='held by a live run: .*"owner": "child"'):
        LocalStorage().unlock(path)
    assert LocalStorage().lock_state(path)[1]
    child.kill()  # SIGKILL: no cleanup runs in the holder
    child.join()
    assert LocalStorage().lock_state(path)[1] is False
    with LocalStorage().lock(path, lock_owner("job")):
        pass
    assert not os.path.exists(path)


def test_a_forced_local_unlock_removes_a_live_holders_lock(tmp_path):
    path = str(tmp_path / "job.lock")
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_lock_forever, args=(path, ready))
    child.start()
    try:
        assert ready.wait(30)
        assert LocalStorage().unlock(path, force=True).startswith("removed (was held by")
        with LocalStorage().lock(path, lock_owner("job")):
            assert json.loads(Path(path).read_text())["pid"] == os.getpid()
    finally:
        child.kill()
        child.join()
