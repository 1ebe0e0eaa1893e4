"""The job lock as `lake` uses it: its timeout from conf; `lake bookmarks unlock` refusing a live lock."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from lakekit import cli
from lakekit.core.job import JobError, job_timeout_minutes, lock_path
from lakekit.core.settings import Settings, load_settings
from lakekit.core.storage import DEFAULT_TIMEOUT_MINUTES, LocalStorage, lock_owner

JOB = "raw_user_campaign"


def _settings(jobs: dict) -> Settings:
    return Settings(env="local", lake_root="/tmp/lake", metastore="derby", jobs=jobs)


def test_the_lock_timeout_comes_from_the_jobs_conf_then_the_default_then_glues():
    assert job_timeout_minutes(_settings({JOB: {"timeout_minutes": 30}, "default": {"timeout_minutes": 60}}), JOB) == 30
    assert job_timeout_minutes(_settings({"default": {"timeout_minutes": 60}}), JOB) == 60
    assert job_timeout_minutes(_settings({}), JOB) == DEFAULT_TIMEOUT_MINUTES == 2880
    with pytest.raises(JobError, match=f"jobs.{JOB}.timeout_minutes must be a number of minutes, got 'soon'"):
        job_timeout_minutes(_settings({JOB: {"timeout_minutes": "soon"}}), JOB)
    with pytest.raises(JobError, match="must be positive"):
        job_timeout_minutes(_settings({JOB: {"timeout_minutes": 0}}), JOB)


def test_the_shipped_conf_gives_every_job_glues_default_timeout():
    assert job_timeout_minutes(load_settings("local", "/tmp/lake"), JOB) == 2880


def _hold(path: str, ready) -> None:
    with LocalStorage().lock(path, lock_owner(JOB)):
        ready.set()
        time.sleep(600)


def test_unlock_refuses_a_lock_a_live_run_holds_and_force_removes_it(tmp_path, capsys):
    root = str(tmp_path / "lake")
    path = lock_path(load_settings("local", root), JOB)
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, ready))
    holder.start()
    try:
        assert ready.wait(30)
        assert cli.main(["bookmark", "unlock", JOB, "--lake-root", root]) == 1
        err = capsys.readouterr().err
        assert f"lock of {JOB} not removed: held by a live run: " in err
        assert f'"pid": {holder.pid}' in err
        assert LocalStorage().lock_state(path)[1] is True  # a second run still refuses

        assert cli.main(["bookmark", "unlock", JOB, "--lake-root", root, "--force"]) == 0
        assert f"lock of {JOB}: removed (was held by " in capsys.readouterr().out
        assert LocalStorage().lock_state(path) == (None, False)
    finally:
        holder.kill()
        holder.join()


def test_unlock_of_a_lock_file_no_run_holds_removes_it(tmp_path, capsys):
    root = str(tmp_path / "lake")
    path = lock_path(load_settings("local", root), JOB)
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, ready))
    holder.start()
    assert ready.wait(30)
    holder.kill()  # kill -9: the file stays, the OS lock goes
    holder.join()
    assert cli.main(["bookmark", "unlock", JOB, "--lake-root", root]) == 0
    assert f"lock of {JOB}: removed (was not held by " in capsys.readouterr().out
    assert cli.main(["bookmark", "unlock", JOB, "--lake-root", root]) == 0
    assert capsys.readouterr().out == f"lock of {JOB}: no lock\n"


def test_a_renamed_job_takes_and_unlocks_the_lock_of_its_state_name(tmp_path, capsys):
    """curated_users was users_daily: a run of the old job holding users_daily.lock keeps the renamed one out."""
    root = str(tmp_path / "lake")
    path = lock_path(load_settings("local", root), "users_daily")
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, ready))
    holder.start()
    try:
        assert ready.wait(30)
        assert cli.main(["job", "run", "curated_users", "--lake-root", root, "--arg", "date=2026-11-20"]) == 1
        assert "lake: job curated_users is already running: " in capsys.readouterr().err
        assert cli.main(["bookmark", "unlock", "curated_users", "--lake-root", root, "--force"]) == 0
        assert "lock of curated_users: removed (was held by " in capsys.readouterr().out
        assert LocalStorage().lock_state(path) == (None, False)
    finally:
        holder.kill()
        holder.join()
