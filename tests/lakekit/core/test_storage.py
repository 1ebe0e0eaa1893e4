"""Storage on a local disk and on S3 (moto in server mode as the local stand-in for S3)."""

from __future__ import annotations

import multiprocessing
import time

import boto3
import pytest

from lakekit.core.storage import LocalStorage, LockedError, S3Storage


@pytest.fixture(scope="module")
def s3_client():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket="lake")
    yield client
    server.stop()


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
    with storage.lock(path, {"pid": 1}), pytest.raises(LockedError, match='"pid": 1'), storage.lock(path, {"pid": 2}):
        pass
    with storage.lock(path, {"pid": 3}):
        pass


def _hold_lock_forever(path: str, ready) -> None:
    with LocalStorage().lock(path, {"pid": "child"}):
        ready.set()
        time.sleep(600)


def test_a_local_lock_dies_with_its_holder(tmp_path):
    path = str(tmp_path / "job.lock")
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_lock_forever, args=(path, ready))
    child.start()
    assert ready.wait(30)
    with pytest.raises(LockedError, match="child"), LocalStorage().lock(path, {"pid": "me"}):
        pass
    child.kill()  # SIGKILL: no cleanup runs in the holder
    child.join()
    with LocalStorage().lock(path, {"pid": "me"}):
        pass
