"""A throwaway PostgreSQL server for tests: initdb into a temp folder, pg_ctl on 127.0.0.1 and a free port.

Uses Debian's `postgresql` binaries (`.ci/run` installs them under CI). PostgreSQL refuses to
run as root, so as root every server command runs as the `postgres` user (`runuser`). The
server listens on 127.0.0.1 only, its unix socket in the temp folder; `stop()` ends it by its
data folder (`pg_ctl stop`), never by name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_ROOTS = (Path("/usr/lib/postgresql"),)


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), else initdb on PATH."""
    for root in PG_ROOTS:
        if root.is_dir():
            versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").is_file()),
                              key=lambda p: int(p.name) if p.name.isdigit() else 0)
            if versions:
                return versions[-1] / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """initdb + pg_ctl start/stop; `url(dbname)` for clients."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pctest-pg-", dir="/tmp"))  # short: the socket lives here
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.is_file() else ""
            raise RuntimeError(f"{tool} failed ({res.returncode}): {res.stderr.strip()}\n{log}")
        return res

    def start(self) -> None:
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off "
                "-c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").is_file()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def cleanup(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
