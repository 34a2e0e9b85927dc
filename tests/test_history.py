"""History database: transactions, schema migrations, durability when the process is killed."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from posturecheck.history import MIGRATIONS, SCHEMA_VERSION, HistoryError, HistoryStore


def report(score: float = 80.0, fail: bool = True) -> dict:
    return {
        "schema": "posturecheck.analysis/1", "activity": "standing", "score": score, "duration_s": 10.0,
        "frames_analyzed": 250,
        "rules": [
            {"id": "standing.trunk_upright", "status": "fail" if fail else "pass", "value": 12.0, "fail_fraction": 0.4},
            {"id": "standing.hands", "status": "pass", "value": None, "fail_fraction": 0.0},
        ],
    }


def test_save_and_read_back(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite3") as h:
        assert h.version == SCHEMA_VERSION
        sid = h.save_session(report(), trainee="  Li   Na ", source="live", drill="standing")
        h.save_session(report(95.0, fail=False), trainee="li na", source="upload")
        h.save_session(report(50.0), trainee=None, source="kiosk")
        assert [t.name for t in h.trainees()] == ["Li Na"]
        rows = h.sessions("Li Na")
        assert len(rows) == 2 and {r.source for r in rows} == {"live", "upload"}
        assert h.report(sid)["score"] == 80.0
        trend = h.rule_trends("Li Na")
        assert [(p.rule_id, p.status) for p in trend if p.session_id == sid] == [
            ("standing.hands", "pass"), ("standing.trunk_upright", "fail")]
        assert len(h.sessions()) == 3
        text = h.export_csv("Li Na")
        rows_csv = list(csv.DictReader(io.StringIO(text)))
        assert len(rows_csv) == 4 and rows_csv[0]["trainee"] == "Li Na"
        assert set(rows_csv[0]) == set(HistoryStore.CSV_COLUMNS)
        assert h.delete_trainee("Li Na") and h.sessions("Li Na") == [] and len(h.sessions()) == 1
        assert h.integrity_ok()


def test_failed_write_is_rolled_back(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite3") as h:
        bad = report()
        bad["rules"].append(dict(bad["rules"][0]))  # duplicate rule id violates the primary key
        with pytest.raises(sqlite3.IntegrityError):
            h.save_session(bad, trainee="Wang", source="live")
        assert h.sessions() == [] and h.trainees() == []  # neither the session nor the new trainee


def test_bad_source_and_empty_name(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite3") as h:
        with pytest.raises(ValueError):
            h.save_session(report(), trainee="x", source="camera")
        with pytest.raises(ValueError):
            h.add_trainee("   ")


def test_migrates_an_old_database(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO trainees(name, created_at) VALUES ('Zhao', 1.0)")
    conn.commit()
    conn.close()
    with HistoryStore(path) as h:
        assert h.version == SCHEMA_VERSION
        assert [t.name for t in h.trainees()] == ["Zhao"]
        h.save_session(report(), trainee="Zhao", source="live", video_path=None)


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer"):
        HistoryStore(path)


WRITER = textwrap.dedent("""
    import sys
    from posturecheck.history import HistoryStore
    h = HistoryStore(sys.argv[1])
    big = [{"id": f"rule.{i}", "status": "fail", "value": float(i), "fail_fraction": 0.5} for i in range(300)]
    i = 0
    while True:
        rep = {"activity": "standing", "score": float(i % 100), "rules": big, "pad": "x" * 20000}
        sid = h.save_session(rep, trainee=f"t{i % 7}", source="live")
        print(sid, flush=True)
        i += 1
""")


def test_killed_writer_loses_no_finished_session(tmp_path):
    """SIGKILL a process that writes sessions in a loop: every session it reported is there."""
    path = tmp_path / "h.sqlite3"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True, env=env)
    reported: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while len(reported) < 25 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(int(line))
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-write: the loop never pauses
        proc.wait(10)
    assert len(reported) >= 25, "the writer did not get going"
    with HistoryStore(path) as h:
        assert h.integrity_ok()
        ids = {s.id for s in h.sessions()}
        assert set(reported) <= ids
        for sid in ids:  # every stored session is whole: all its rule rows are there
            assert len(h.report(sid)["rules"]) == 300
        trend_ids = {p.session_id for p in h.rule_trends()}
        assert trend_ids == ids
