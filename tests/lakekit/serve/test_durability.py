"""A 200 means durable: kill -9 the service between acknowledgements, restart it, and every acknowledged event
is in landing (the files it left open are recovered, a torn last write cut off); SIGTERM publishes."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import yaml

from lakekit.core.settings import read_conf
from lakekit.pipelines.orders import make_order_event
from lakekit.sources.streams.landing import StreamLanding, complete_length
from tests.lakekit.serve.conftest import free_port

LAKE = Path(sys.executable).with_name("lake")
REPO = Path(__file__).resolve().parents[3]


def start_service(lake_root: Path, conf_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "LAKE_CONF_DIR": str(conf_dir), "LAKE_API_KEYS": "k"}
    process = subprocess.Popen(
        [str(LAKE), "serve", "--port", str(port), "--lake-root", str(lake_root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120  # a busy machine starts Python slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read()) from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("lake serve did not start")


def landed_ids(lake_root: Path) -> list[str]:
    ids = []
    for path in sorted((lake_root / "landing" / "streams" / "orders").glob("*/*/*/*/*.jsonl.gz")):
        ids += [json.loads(line)["record_id"] for line in gzip.decompress(path.read_bytes()).splitlines()]
    return ids


def test_kill_9_between_acknowledgements_loses_no_acknowledged_event(tmp_path):
    conf = read_conf("local", REPO / "conf").merged  # written whole as local.yaml: a folder without base.yaml
    conf["serve"].update({"roll_bytes": 1 << 30, "roll_seconds": 3600})  # everything stays in the open file
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "local.yaml").write_text(yaml.safe_dump(conf))
    lake_root, port = tmp_path / "lake", free_port()
    lake_root.mkdir()
    service = start_service(lake_root, conf_dir, port)
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                events = [make_order_event(rng, n) for n in range(rng.randint(1, 20))]
                try:
                    answer = http.post(
                        f"http://127.0.0.1:{port}/v1/streams/orders/records",
                        json={"records": events},
                        headers={"x-api-key": "k"},
                    )
                except httpx.TransportError:
                    return  # the service died with this request in flight: it was never acknowledged
                assert answer.status_code == 200, answer.text
                acknowledged.extend(answer.json()["record_ids"])

    clients = [threading.Thread(target=client, args=(seed,)) for seed in range(3)]
    for thread in clients:
        thread.start()
    while len(acknowledged) < 400:
        time.sleep(0.01)
    service.send_signal(signal.SIGKILL)  # requests are in flight: some written, not yet answered
    service.wait(10)
    stop.set()
    for thread in clients:
        thread.join(10)
    left_open = list((lake_root / "landing" / "streams" / "orders" / "_open").iterdir())
    assert left_open, "the kill left no open file: the test did not test recovery"
    assert landed_ids(lake_root) == []  # nothing published: the acknowledged events are only in the open file

    restarted = start_service(lake_root, conf_dir, port)
    restarted.send_signal(signal.SIGTERM)
    output = restarted.communicate(timeout=30)[0]
    assert "recovered 1 landing file(s) of stream orders left open by an earlier run" in output
    after = landed_ids(lake_root)
    assert set(acknowledged) <= set(after)
    assert len(after) == len(set(after))  # each stored once
    assert not list((lake_root / "landing" / "streams" / "orders" / "_open").iterdir())


def test_a_torn_last_write_is_cut_off_and_a_member_less_file_removed(tmp_path):
    writer = StreamLanding(str(tmp_path), "orders", roll_bytes=1 << 20, roll_seconds=3600)
    writer.append([b'{"n":1}\n', b'{"n":2}\n'])
    writer.append([b'{"n":3}\n'])
    open_file = writer._file.path
    whole = open_file.read_bytes()
    torn = gzip.compress(b'{"n":4}\n', mtime=0)
    with open(open_file, "ab") as handle:
        handle.write(torn[: len(torn) // 2])  # a write the kill interrupted: never acknowledged
    assert complete_length(open_file) == len(whole)
    empty = open_file.with_name("orders-1-2026-11-30-11-20-09-00000000-0000-0000-0000-000000000000.jsonl.gz")
    empty.write_bytes(torn[:5])
    os.close(writer._file.handle)  # the writer "dies": its flock goes with it

    [published] = StreamLanding(str(tmp_path), "orders", roll_bytes=1 << 20, roll_seconds=3600).recover()
    assert gzip.decompress(published.read_bytes()) == b'{"n":1}\n{"n":2}\n{"n":3}\n'
    assert published.parent.parent.parent.parent.parent == tmp_path / "landing" / "streams" / "orders"
    assert not empty.exists() and not open_file.exists()


def test_a_file_another_live_writer_holds_is_not_recovered(tmp_path):
    live = StreamLanding(str(tmp_path), "orders", roll_bytes=1 << 20, roll_seconds=3600)
    live.append([b'{"n":1}\n'])
    assert StreamLanding(str(tmp_path), "orders", roll_bytes=1 << 20, roll_seconds=3600).recover() == []
    assert live._file.path.exists()
    live.close()
