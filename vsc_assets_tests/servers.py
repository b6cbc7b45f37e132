"""Servers and processes a test starts on loopback, and stops: PostgreSQL, Redis, any command.

PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
Each helper waits for its server with an explicit timeout, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vsc_assets_tests.support import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def missing_servers() -> list[str]:
    """What the cluster test needs and this machine lacks."""
    missing = []
    if postgres_bin() is None:
        missing.append("PostgreSQL server (Debian: postgresql)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server (Debian: redis-server)")
    for module in ("dagster_celery", "dagster_postgres"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{module} (pip install -e '.[cluster]')")
    return missing


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@dataclass
class Postgres:
    port: int
    user: str = "postgres"
    db: str = "vsc"

    def env(self) -> dict[str, str]:
        return {"VSC_PG_HOST": "127.0.0.1", "VSC_PG_PORT": str(self.port), "VSC_PG_USER": self.user, "VSC_PG_PASSWORD": "", "VSC_PG_DB": self.db}

    def query(self, sql: str) -> str:
        psql = postgres_bin() / "psql"
        out = subprocess.run(
            [str(psql), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", self.db, "-tAc", sql],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return out.stdout.strip()


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server():
    """A throwaway cluster on a free loopback port (trust auth, no fsync), removed afterwards."""
    bin_dir = postgres_bin()
    base = Path(tempfile.mkdtemp(prefix="vsc-pg-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    server = Postgres(port)
    started = False
    try:
        subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", server.user, "--no-sync"]),
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "-t", "120", "start"]),
                       check=True, capture_output=True, timeout=180)  # fmt: skip
        started = True
        subprocess.run(_as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", server.user, server.db]),
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        yield server
    finally:
        if started:
            subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "60", "stop"]),
                           capture_output=True, timeout=90)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def redis_server():
    port = free_port()
    with started(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {}) as proc:
        wait_until(lambda: _port_open(port) or proc.poll() is not None, 60, "redis-server to listen")
        assert proc.poll() is None, "redis-server exited"
        yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def started(command: list[str], env: dict, log: Path | None = None, cwd: Path | None = None):
    """A process in its own process group; the whole group is stopped afterwards."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)
        if log:
            out.close()


def stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever the group still holds (celery's children)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
