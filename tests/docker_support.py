"""A Docker engine for the tests: reuse a reachable one, or start a private `dockerd` and stop it afterwards.

The private engine runs with no bridge and no iptables rules (`--bridge=none --iptables=false`), with its own
data root, exec root, pid file and socket under a fresh temporary folder, so it never clashes with a system
engine; its log goes to `<tmp>/dockerd.log` and is quoted when it fails to start. Every failure to get an
engine is a reason string (the tests skip with it), never an exception.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

START_TIMEOUT_S = 30.0
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Engine:
    base_url: str
    client: Any
    started: bool  # True when we started dockerd here (and so must stop it)
    proc: subprocess.Popen | None = None
    root: str | None = None
    log_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass
        if not self.started or self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.root:
            _unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)


def _ping(base_url: str) -> Any | None:
    import docker

    try:
        client = docker.DockerClient(base_url=base_url, timeout=10)
        client.ping()
        return client
    except Exception:
        return None


def _unmount_under(root: str) -> None:
    """Unmount anything dockerd left mounted below `root` (overlay layers, shm, netns) before deleting it."""
    try:
        with open("/proc/self/mounts") as fh:
            points = [line.split()[1] for line in fh]
    except OSError:
        return
    for point in sorted((p for p in points if p.startswith(root.rstrip("/") + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def get_engine() -> Engine | str:
    """A reachable engine, or a started one, or the reason why there is none."""
    try:
        import docker  # noqa: F401  (only whether the SDK is there; `_ping` uses it)
    except ImportError:
        return "the Docker SDK is not installed (pip install 'verifier-suite[docker]')"
    for url in filter(None, [os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"]):
        client = _ping(url)
        if client is not None:
            return Engine(url, client, started=False)
    search = os.pathsep.join([os.environ.get("PATH", ""), SYSTEM_PATH])
    dockerd = shutil.which("dockerd", path=search)
    if dockerd is None:
        return "no Docker engine reachable and no dockerd binary to start one"
    if os.geteuid() != 0:
        return "no Docker engine reachable, and starting dockerd needs root"
    root = tempfile.mkdtemp(prefix="vdk-", dir="/tmp")
    sock = os.path.join(root, "docker.sock")
    log_path = os.path.join(root, "dockerd.log")
    argv = [
        dockerd,
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--userland-proxy=false",
        f"--data-root={root}/data",
        f"--exec-root={root}/exec",
        f"--pidfile={root}/docker.pid",
        f"--host=unix://{sock}",
        "--log-level=warn",
    ]
    log = open(log_path, "wb")
    try:
        env = dict(os.environ, PATH=search)  # dockerd finds containerd and runc on PATH
        env.pop("DOCKER_HOST", None)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    except OSError as exc:
        log.close()
        shutil.rmtree(root, ignore_errors=True)
        return f"cannot start dockerd: {exc}"
    log.close()
    url = f"unix://{sock}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if os.path.exists(sock):
            client = _ping(url)
            if client is not None:
                return Engine(url, client, started=True, proc=proc, root=root, log_path=log_path)
        time.sleep(0.1)
    tail = ""
    try:
        with open(log_path, "rb") as fh:
            tail = fh.read()[-1500:].decode(errors="replace").strip()
    except OSError:
        pass
    engine = Engine(url, None, started=True, proc=proc, root=root)
    if proc.poll() is None:
        engine.client = _NoClient()
        engine.stop()
        return f"dockerd did not answer within {START_TIMEOUT_S:.0f} s; log tail: {tail}"
    engine.client = _NoClient()
    engine.stop()
    return f"dockerd exited with status {proc.returncode}; log tail: {tail}"


class _NoClient:
    def close(self) -> None:
        pass
