"""Named points where the crash tests kill this process outright (SIGKILL), to prove a rerun recovers.

Each point sits just before or just after a commit (a file published, a Delta version, a state
document). Set LAKE_FAILPOINTS to a comma-separated list; an entry names a point as `name`,
`name:detail` (the table or source it commits to), `job/name` or `job/name:detail`, so one entry
can kill one job's first use of a shared point. Unset, a failpoint costs one environment lookup.
LAKE_FAILPOINTS_TRACE=<file> appends the full id (`job/name:detail`) of every point passed, which
is how the crash matrix learns the points a run goes through.
"""

from __future__ import annotations

import os
import signal

_job: str | None = None  # the job running in this process (set by lakekit.core.job.job_run)


def set_job(name: str | None) -> None:
    global _job
    _job = name


def point_id(name: str, detail: str | None = None) -> str:
    qualified = f"{name}:{detail}" if detail else name
    return f"{_job}/{qualified}" if _job else qualified


def failpoint(name: str, detail: str | None = None) -> None:
    wanted = os.environ.get("LAKE_FAILPOINTS")
    trace = os.environ.get("LAKE_FAILPOINTS_TRACE")
    if not wanted and not trace:
        return
    full = point_id(name, detail)
    if trace:
        with open(trace, "a") as handle:
            handle.write(full + "\n")
    names = {name, f"{name}:{detail}" if detail else name, full, point_id(name)}
    if wanted and names & set(wanted.split(",")):
        print(f"failpoint {full}: killing this process", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
