"""History database: transactions, schema migrations, durability when the process is killed."""

from __future__ import annotations

import csv
import json
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


# ----------------------------------------------------------------------------- bad luck (issue 14)

from posturecheck.history import HistoryPending, csv_safe  # noqa: E402

DAMAGED = {
    "garbage": lambda p: p.write_bytes(os.urandom(8192)),
    "text": lambda p: p.write_text("name,score\nLi,80\n" * 50, encoding="utf-8"),
    "truncated": None,  # a real database cut in half
}


@pytest.mark.parametrize("kind", list(DAMAGED))
def test_damaged_database_is_moved_aside_and_a_fresh_one_starts(tmp_path, kind):
    path = tmp_path / "history.sqlite3"
    if kind == "truncated":
        with HistoryStore(path) as h:
            for i in range(40):
                h.save_session({**report(), "pad": "x" * 4000}, trainee=f"t{i}", source="live")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        DAMAGED[kind](path)
    with HistoryStore(path) as h:
        assert h.notice is not None and "damaged" in h.notice[0] and "损坏" in h.notice[1]
        assert h.moved_to is not None and h.moved_to.is_file() and h.moved_to.name.startswith("history.sqlite3.corrupt-")
        assert h.sessions() == [] and h.integrity_ok()
        h.save_session(report(), trainee="Li", source="live")
        assert len(h.sessions()) == 1
    with HistoryStore(path) as h:  # the fresh one is healthy: nothing moved again
        assert h.notice is None and len(h.sessions()) == 1


def test_database_damaged_while_open_keeps_the_session_being_saved(tmp_path):
    path = tmp_path / "history.sqlite3"
    h = HistoryStore(path)
    h.save_session(report(), trainee="Li", source="live")
    h._conn.close()  # simulate another program overwriting the file under us
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        side.unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    h._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    h._conn.row_factory = sqlite3.Row
    sid = h.save_session(report(70.0), trainee="Wang", source="live")  # never lost
    assert h.notice is not None and h.report(sid)["score"] == 70.0
    assert h.pending() == []
    h.close()


def hold_write_lock(path: Path, seconds: float) -> subprocess.Popen:
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(float(sys.argv[2]))\n"
            "c.execute('ROLLBACK')\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_write_lock_held_15_s_is_waited_out_with_backoff(tmp_path):
    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    holder = hold_write_lock(path, 15)
    try:
        with HistoryStore(path) as h:
            t0 = time.monotonic()
            sid = h.save_session(report(), trainee="Li", source="live")
            waited = time.monotonic() - t0
            assert waited >= 10 and h.report(sid) is not None and h.pending() == []
    finally:
        holder.wait(30)


def test_lock_held_too_long_keeps_the_session_pending_then_writes_it(tmp_path):
    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    holder = hold_write_lock(path, 6)
    try:
        h = HistoryStore(path, save_budget_s=1.0)
        with pytest.raises(HistoryPending) as err:
            h.save_session(report(55.0), trainee="Zhao", source="kiosk")
        kept = err.value.path
        assert kept.is_file() and "稍后会自动写入" in err.value.message_zh
        assert json.loads(kept.read_text(encoding="utf-8"))["report"]["score"] == 55.0
    finally:
        holder.wait(30)
    h.save_session(report(60.0), trainee="Zhao", source="kiosk")  # the next save writes both
    assert sorted(s.score for s in h.sessions("Zhao")) == [55.0, 60.0] and h.pending() == []
    h.close()
    with HistoryStore(path) as again:  # written once, not again at the next open
        assert len(again.sessions("Zhao")) == 2


def test_pending_session_is_written_at_the_next_open_once(tmp_path):
    path = tmp_path / "history.sqlite3"
    h = HistoryStore(path)
    entry = {"uid": "abc123", "report": report(42.0), "trainee": "Sun", "source": "live", "drill": None,
             "started_at": 1.0, "video_path": None}
    kept = h._write_pending(entry)
    h.close()
    with HistoryStore(path) as h2:
        assert [s.score for s in h2.sessions("Sun")] == [42.0] and not kept.exists()
    h2._write_pending(entry)  # a crash after the insert but before the unlink: no duplicate
    with HistoryStore(path) as h3:
        assert len(h3.sessions("Sun")) == 1 and h3.pending() == []


OPENER = textwrap.dedent("""
    import sys, threading, time
    from posturecheck.history import HistoryStore
    path, start, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    errors = []
    def one():
        time.sleep(max(0.0, start - time.time()))
        try:
            HistoryStore(path).close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    threads = [threading.Thread(target=one) for _ in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(errors))
    for e in errors:
        print(e)
""")


def test_120_simultaneous_first_opens_all_succeed(tmp_path):
    """8 processes x 15 threads open a new database at the same instant: one migrates, none fails."""
    path = tmp_path / "fresh.sqlite3"
    script = tmp_path / "opener.py"
    script.write_text(OPENER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.time() + 4.0  # every process is up and waiting by then
    procs = [subprocess.Popen([sys.executable, str(script), str(path), str(start), "15"], stdout=subprocess.PIPE,
                              text=True, env=env) for _ in range(8)]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    failures = [line for out in outputs for line in out.splitlines()[1:]]
    assert sum(int(out.splitlines()[0]) for out in outputs) == 0, failures[:5]
    with HistoryStore(path) as h:
        assert h.version == SCHEMA_VERSION and h.integrity_ok()


def test_csv_export_neutralises_formulas(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite3") as h:
        h.save_session(report(), trainee='=HYPERLINK("http://evil","x")', source="live", drill="@SUM(A1)")
        h.save_session(report(), trainee="+1 555", source="live", drill="-2+3")
        rows = list(csv.DictReader(io.StringIO(h.export_csv())))
    assert {r["trainee"] for r in rows} == {"'=HYPERLINK(\"http://evil\",\"x\")", "'+1 555"}
    assert {r["drill"] for r in rows} == {"'@SUM(A1)", "'-2+3"}
    assert all(not r[k].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for k in r)
    assert csv_safe(-3.5) == -3.5 and csv_safe("\tx") == "'\tx" and csv_safe(None) == ""
