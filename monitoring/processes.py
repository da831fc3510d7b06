"""Monitoring processes on this machine (Prometheus, Alertmanager, the expected-tenants exporter): each in its own
directory, on loopback, with a pid file. For a Prometheus:

    <root>/prometheus.yml, rules/     its configuration (checked with promtool before it is used)
    <root>/data/                      its TSDB
    <root>/prometheus.pid             the running process
    <root>/instance.json              the port it keeps across restarts
    <root>/prometheus.log             what it printed

An Alertmanager has alertmanager.yml (checked with amtool), alertmanager.pid and .log; the exporter expected.json.
"""
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from monitoring.render import write_files

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class MonitoringError(Exception):
    """A Prometheus could not be configured, started or stopped; the message says why."""


# the configuration file each program reads; its path on the command line tells our process from any other
CONFIG_NAMES = {"prometheus": "prometheus.yml", "alertmanager": "alertmanager.yml", "expected": "expected.json"}
PACKAGES = {"prometheus": "prometheus", "promtool": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager",
            "amtool": "prometheus-alertmanager"}


def binary(name: str) -> str:
    """The path of `prometheus`, `promtool`, `prometheus-alertmanager` or `amtool`, or a clear error saying how to
    install it."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        raise MonitoringError(f"{name} is not installed (Debian: apt-get install {PACKAGES.get(name, name)})")
    return found


@dataclass(frozen=True)
class Instance:
    """One process, named by the tenant it watches (or `fleet`, `alertmanager`, `expected`), living in `root`;
    `program` says which (prometheus, alertmanager, expected)."""

    name: str
    root: Path
    program: str = "prometheus"

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAMES[self.program]

    @property
    def pid_file(self) -> Path:
        return self.root / f"{self.program}.pid"

    @property
    def state_file(self) -> Path:
        return self.root / "instance.json"

    @property
    def log(self) -> Path:
        return self.root / f"{self.program}.log"

    def recorded_port(self) -> int | None:
        try:
            return int(json.loads(self.state_file.read_text())["port"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def url(self) -> str | None:
        port = self.recorded_port()
        return f"http://127.0.0.1:{port}" if port else None

    def pid(self) -> int | None:
        """The pid of this instance's process if it runs (a recycled pid running something else does not count)."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        # a zombie has an empty command line; a recycled pid has another one
        return pid if f"--config.file={self.config}".encode() in cmdline else None


def check_config(config: Path) -> None:
    """`promtool check config` (rule files included); a failure names the problem."""
    done = subprocess.run([binary("promtool"), "check", "config", str(config)], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())
        raise MonitoringError(f"{config} is not a valid Prometheus configuration: {detail}")


def check_alertmanager_config(config: Path) -> None:
    """`amtool check-config`; a failure names the problem."""
    done = subprocess.run([binary("amtool"), "check-config", str(config)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())
        raise MonitoringError(f"{config} is not a valid Alertmanager configuration: {detail}")


def ensure_running(instance: Instance, files: dict[str, str], port: int, *, retention: str = "15d") -> str:
    """Write the configuration and run Prometheus on 127.0.0.1:`port`: created, updated (reloaded) or unchanged."""
    command = [binary("prometheus"), f"--config.file={instance.config}",
               f"--storage.tsdb.path={instance.root / 'data'}", f"--storage.tsdb.retention.time={retention}",
               f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"]
    return _ensure(instance, files, port, command, check=check_config, ready="/-/ready")


def ensure_alertmanager(instance: Instance, config: str, port: int) -> str:
    """Write alertmanager.yml and run Alertmanager on 127.0.0.1:`port` alone (no cluster peers, nothing beyond
    loopback): created, updated (reloaded) or unchanged."""
    command = [binary("prometheus-alertmanager"), f"--config.file={instance.config}",
               f"--storage.path={instance.root / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
               "--cluster.listen-address="]
    return _ensure(instance, {instance.config.name: config}, port, command, check=check_alertmanager_config,
                   ready="/-/ready")


def ensure_process(instance: Instance, config: str, port: int, command: list[str], *, ready: str) -> str:
    """Run a process of ours (the exporter) whose command line names `instance.config`; a changed configuration
    restarts it (it has no reload)."""
    return _ensure(instance, {instance.config.name: config}, port, command, check=None, ready=ready, reload=False)


def _ensure(instance: Instance, files: dict[str, str], port: int, command: list[str], *, check, ready: str,
            reload: bool = True) -> str:
    instance.root.mkdir(parents=True, exist_ok=True)
    if check is not None:
        staged = instance.root / ".staged"
        write_files(staged, files)
        check(staged / instance.config.name)  # a bad configuration never reaches the running process
    changed = any(outcome != "unchanged" for outcome in write_files(instance.root, files).values())
    instance.state_file.write_text(json.dumps({"name": instance.name, "port": port}) + "\n")
    pid = instance.pid()
    if pid is not None:
        if not changed:
            return "unchanged"
        if reload:
            os.kill(pid, signal.SIGHUP)  # Prometheus and Alertmanager re-read their configuration on SIGHUP
            return "updated"
        stop(instance)
        _start(instance, port, command, ready)
        return "updated"
    _start(instance, port, command, ready)
    return "created"


def _start(instance: Instance, port: int, command: list[str], ready: str) -> None:
    with instance.log.open("ab") as log:
        # its own session: it outlives this command and a Ctrl-C at the terminal
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=instance.root)
    instance.pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            instance.pid_file.unlink(missing_ok=True)
            raise MonitoringError(f"{instance.program} {instance.name} exited: {_last_log_line(instance)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(instance)
    raise MonitoringError(f"{instance.program} {instance.name} was not ready on port {port} within "
                          f"{READY_TIMEOUT_SECONDS:.0f} s: {_last_log_line(instance)}")


def stop(instance: Instance) -> str:
    """Stop the instance's process (its data stays): deleted, or absent when it was not running."""
    pid = instance.pid()
    if pid is None:
        instance.pid_file.unlink(missing_ok=True)
        return "absent"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while instance.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    if instance.pid() is not None:
        os.kill(pid, signal.SIGKILL)
    _reap(pid)
    instance.pid_file.unlink(missing_ok=True)
    return "deleted"


def _reap(pid: int) -> None:
    # when this process started it (one `fsp` process doing up and down), collect it: no zombie is left
    deadline = time.monotonic() + 2
    try:
        while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.02)  # its command line is gone a moment before it can be collected
    except ChildProcessError:
        pass  # another process started it


def _last_log_line(instance: Instance) -> str:
    try:
        lines = instance.log.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return lines[-1] if lines else "no log"
