"""Waiting for a started app server (Streamlit) to answer, shared by the tests that start one."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from typing import Callable


def wait_until_serving(proc: subprocess.Popen, port: int, timeout_s: float,
                       output: Callable[[], str] = lambda: "") -> None:
    """Return once http://127.0.0.1:PORT/_stcore/health answers 200; raise with the server's output
    when the process ends first or the time runs out (the process is then killed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}): {output()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the server did not come up within {timeout_s} s: {output()[-2000:]}")
