"""Starts a real local Ray cluster for the tests: a head node on 127.0.0.2 and worker nodes on 127.0.0.3,
127.0.0.4, ... (Ray would otherwise advertise the machine's first interface address; these keep all
traffic on loopback). Each node is its own `ray start` with its own CPUs; `kill_node` SIGKILLs one node's
raylet and everything under it, as a machine that drops off the network would vanish."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.postgres import free_port


def _ray() -> str:
    path = Path(sys.executable).parent / "ray"
    return str(path) if path.exists() else (shutil.which("ray") or "ray")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out.append((int(entry.name), ppid, cmdline))
    return out


class RayCluster:
    """A head (no CPUs of its own unless given) and worker nodes, each on a 127.0.0.x address."""

    def __init__(self, head_cpus: int = 0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rk-ray-", dir="/tmp"))  # Ray's socket paths must be short
        self.port = free_port()
        self.head_cpus = head_cpus
        self.nodes: list[str] = []  # the worker nodes' addresses, in start order
        self._env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}

    @property
    def address(self) -> str:
        return f"127.0.0.2:{self.port}"

    def _run(self, *args: str) -> None:
        result = subprocess.run([_ray(), "start", *args], capture_output=True, text=True, env=self._env,
                                timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"ray start {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def start(self) -> RayCluster:
        self._run("--head", "--node-ip-address=127.0.0.2", f"--port={self.port}", f"--num-cpus={self.head_cpus}",
                  "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.root}",
                  f"--dashboard-agent-listen-port={free_port()}")
        return self

    def add_node(self, cpus: int = 1) -> str:
        ip = f"127.0.0.{3 + len(self.nodes)}"
        self._run(f"--address={self.address}", f"--node-ip-address={ip}", f"--num-cpus={cpus}", "--num-gpus=0",
                  f"--resources={json.dumps({'node-' + ip: 1})}", "--disable-usage-stats",
                  f"--dashboard-agent-listen-port={free_port()}")
        self.nodes.append(ip)
        return ip

    def _node_tree(self, ip: str) -> list[int]:
        """The pids of a node's raylet and every process below it."""
        procs = _processes()
        roots = [pid for pid, _, cmd in procs if "raylet" in cmd and f"--node_ip_address={ip}" in cmd]
        tree, frontier = set(roots), list(roots)
        while frontier:
            parent = frontier.pop()
            for pid, ppid, _ in procs:
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        return sorted(tree)

    def running_task(self, ip: str, name: str) -> bool:
        """Whether a worker process on the node at `ip` is running the task function `name` now."""
        tree = set(self._node_tree(ip))
        return any(pid in tree and cmd.startswith(f"ray::{name}") for pid, _, cmd in _processes())

    def actor_processes(self, name: str) -> int:
        """How many worker processes on this cluster's nodes are actors of class `name` (idle or busy)."""
        tree = {pid for ip in ["127.0.0.2", *self.nodes] for pid in self._node_tree(ip)}
        return sum(1 for pid, _, cmd in _processes()
                   if pid in tree and (cmd.startswith(f"ray::{name} ") or cmd.startswith(f"ray::{name}.")
                                       or cmd.strip() == f"ray::{name}"))

    def stop_models(self) -> None:
        """Kills every model deployment (and so its replicas) placed on this cluster, as StopProjectVersion
        would: for tests whose servers are gone while their models still run."""
        script = ("import ray\n"
                  f"ray.init(address={self.address!r}, log_to_driver=False, configure_logging=False)\n"
                  "for actor in ray.util.list_named_actors(all_namespaces=True):\n"
                  "    if actor['name'].startswith('openrek-model-'):\n"
                  "        ray.kill(ray.get_actor(actor['name'], namespace=actor['namespace']), no_restart=True)\n")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=self._env,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"could not stop the cluster's models:\n{result.stderr[-2000:]}")

    def kill_node(self, ip: str) -> None:
        for pid in self._node_tree(ip):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Stops every node of this cluster (and only this one's: `ray stop` would stop any on the machine)."""
        # The node trees first, while their agents (which retitle themselves) are still below a raylet.
        doomed = {pid for ip in ["127.0.0.2", *self.nodes] for pid in self._node_tree(ip)}
        doomed |= {pid for pid, _, cmd in _processes() if str(self.root) in cmd or f"127.0.0.2:{self.port}" in cmd}
        for pid in sorted(doomed):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)
