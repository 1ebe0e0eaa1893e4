"""Named points where the crash tests kill this process outright (SIGKILL), to prove a rerun recovers.

Set LAKE_FAILPOINTS=name[,name…]; unset, a failpoint costs one environment lookup.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    if name in os.environ.get("LAKE_FAILPOINTS", "").split(","):
        print(f"failpoint {name}: killing this process", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
