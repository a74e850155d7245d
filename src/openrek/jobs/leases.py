"""Job leases: who holds a running job and whether that holder is gone.

Several servers (and their runners) may share one database. A runner claims a job under its own owner
name (host:pid:token) with a lease it renews while the job runs; a RUNNING job is orphaned, and may be
recovered by any runner, once its lease has run out, or at once when its owner was a process of this host
that no longer runs (a server killed and restarted here recovers its jobs without waiting out the lease).
"""

from __future__ import annotations

import os
import socket
import time
import uuid

LEASE_S = 60.0  # how long a claimed job stays its runner's without a renewal
RENEW_EVERY_S = LEASE_S / 4


def new_owner() -> str:
    """A runner's name: unique even where a restarted server gets its predecessor's pid (pid 1 in a container)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True


def is_orphaned(owner: str | None, lease_until: float | None, me: str, now: float | None = None) -> bool:
    """Whether a RUNNING job held by `owner` may be recovered by the runner named `me`."""
    if owner == me:
        return False
    if owner is None or lease_until is None:  # claimed before leases existed
        return True
    if lease_until < (time.time() if now is None else now):
        return True
    host, _, rest = owner.partition(":")
    pid, _, _token = rest.partition(":")
    my_host, _, my_rest = me.partition(":")
    if host != my_host or not pid.isdigit():
        return False  # another machine's runner: only its lease tells
    if pid == my_rest.partition(":")[0]:
        return True  # this pid, another token: an earlier process that had this pid
    return not _process_runs(int(pid))
