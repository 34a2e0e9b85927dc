"""A batch finishes when a worker is killed (issue 14): the out-of-memory killer's SIGKILL on one
review worker becomes an error row for that file; the other files are reviewed and summarised."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BATCH_TIMEOUT_S = 300


def clip(path: Path, frames: int = 120) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(frames):
        writer.write(np.full((240, 320, 3), (i * 3) % 255, np.uint8))
    writer.release()
    return path


def workers_of(pid: int) -> list[int]:
    """Spawned multiprocessing workers among the children of `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and "spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the worker processes through Linux /proc")
def test_batch_finishes_when_a_worker_is_killed(tmp_path):
    folder = tmp_path / "drills"
    folder.mkdir()
    for name in ("a", "b", "c", "d"):
        clip(folder / f"{name}.avi")
    out = tmp_path / "review"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "posturecheck", "analyze", str(folder), "--report", str(out),
                             "--workers", "2", "--lang", "en", "--model", "lite", "--no-face"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        pids = workers_of(proc.pid)
        if len(pids) == 2:
            time.sleep(3.0)  # both are busy with their first file (model loaded, frames flowing)
            victim = workers_of(proc.pid)[0]
        else:
            time.sleep(0.2)
    assert victim is not None, "no review workers appeared"
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)  # as the out-of-memory killer would
    try:
        stdout, stderr = proc.communicate(timeout=BATCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the batch hung after a worker was killed")
    finished = time.monotonic()
    print(f"batch finished {finished - killed_at:.1f} s after the kill ({finished - t0:.1f} s in all)")
    assert proc.returncode == 1, stderr  # partial: one file failed
    assert "Traceback" not in stderr
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 4
    errors = [r for r in rows if r.get("error")]
    assert len(errors) == 1 and "killed (e.g. out of memory)" in errors[0]["error"]
    assert (out / "summary.html").is_file()
    good = [r["file"] for r in rows if not r.get("error")]
    assert len(good) == 3 and all((out / Path(f).stem / "report.html").is_file() for f in good)


def test_worker_death_message_in_both_languages():
    from posturecheck.batch import ReviewOptions, _Job, died_result

    job = _Job(0, "/x/drill.mp4", "/out/drill", None, ReviewOptions(lang="zh"))
    assert "内存不足" in died_result(job, -signal.SIGKILL).error
    job_en = _Job(0, "/x/drill.mp4", "/out/drill", None, ReviewOptions(lang="en"))
    res = died_result(job_en, 3)
    assert res.error_code == "worker_died" and "exit code 3" in res.error and res.error.startswith("drill.mp4")
