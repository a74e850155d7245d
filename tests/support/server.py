"""Starts a real `openrek server` process on a free loopback port and stops it (gently or by kill -9).

Signatures are verified (the default), with the root keys below unless the test passes others."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.backends import server_env

_URL = re.compile(r"listening on (https?://\S+)")

# The root keys of every test server (signatures are verified, the default; an OPENREK_AUTH of the calling
# shell is not passed on): the keys of tests.support.clients.CREDENTIALS and of the AWS_* defaults
# tests/conftest.py sets. A test passes its own OPENREK_ROOT_* (or removes them from `env` after
# construction) to have others or generated ones, and OPENREK_AUTH or --auth to choose.
ROOT_KEY, ROOT_SECRET = "AKIDEXAMPLE", "secret"
ROOT_ENV = {"OPENREK_ROOT_ACCESS_KEY_ID": ROOT_KEY, "OPENREK_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}


class ServerProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, port: int = 0,
                 args: list[str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.args = list(args or [])  # extra `openrek server` flags, e.g. ["--tls", "self-signed"]
        inherited = {k: v for k, v in os.environ.items() if k != "OPENREK_AUTH"}
        self.env = {**inherited, **ROOT_ENV, **server_env(self.data_dir), **(env or {})}
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.output: list[str] = []  # stdout lines up to and including the "listening on" one
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    def start(self, timeout: float = 60.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "a")  # noqa: SIM115 - kept open for the process's lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openrek.server", "--port", str(self.port), "--data-dir", str(self.data_dir),
             *self.args],
            stdout=subprocess.PIPE, stderr=log, bufsize=0, env=self.env,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        pending = b""  # read with os.read: several lines may arrive in one chunk
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk and self.proc.poll() is not None:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace") + "\n"
                    self.output.append(line)
                    match = _URL.search(line)
                    if match:
                        self.endpoint = match.group(1)
                        host_port = self.endpoint.rsplit(":", 1)
                        self.port = int(host_port[1])
                        return self.endpoint
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"openrek server did not start; log:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def worker_pids(server_pid: int) -> list[int]:
    """The server's multiprocessing worker processes (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_pid and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


def peak_memory_kib(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])

