"""Errors reach the trainer's terminal: `posturecheck app` must not exec the server with stderr on /dev/null."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import os, sys
from posturecheck.cli import quiet_native_stderr, restore_native_stderr
quiet_native_stderr()          # what `main` does for every real command-line run
if sys.argv[1] == "restore":
    restore_native_stderr()    # what `posturecheck app` now does before it becomes the server
os.execv("/bin/sh", ["sh", "-c", "echo server-error-line >&2"])
"""


def _run(mode: str) -> str:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return proc.stderr


def test_exec_after_quieting_loses_stderr_and_restoring_keeps_it():
    assert "server-error-line" not in _run("quiet")  # the bug of issue 9: the server's stderr was /dev/null
    assert "server-error-line" in _run("restore")


def test_app_command_restores_stderr_before_exec(monkeypatch, tmp_path):
    from posturecheck import cli

    calls: list[str] = []
    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "restore_native_stderr", lambda: calls.append("restore"))
    monkeypatch.setattr(cli.os, "execv", lambda *a: calls.append("exec") or (_ for _ in ()).throw(SystemExit(0)))
    monkeypatch.setattr(cli, "port_problem", lambda *a: None)
    try:
        cli.main(["app", "--port", "8599"])
    except SystemExit:
        pass
    assert calls[:2] == ["restore", "exec"]
