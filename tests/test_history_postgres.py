"""The history on a real PostgreSQL server (`--history-url postgresql://…`, issue 10).

The same API gives the same answers as SQLite; two processes writing at once lose and double
nothing; a server stopped mid-session keeps the session pending (one clear line) and writes it
when the server is back; the schema is versioned and migrated like SQLite's. The server is a
throwaway cluster from tests/pgserver.py (Debian `postgresql`, installed by `.ci/run` under CI).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from posturecheck.history import (MIGRATIONS, PG_MIGRATIONS, SCHEMA_VERSION, HistoryError, HistoryPending,
                                  HistoryStore, redact_url)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgserver import PgServer, find_bindir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI") == "true"


def _need(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason + "; CI must run the PostgreSQL history tests (.ci/run installs postgresql)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pg():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _need("psycopg is not installed (pip install -e '.[test]' installs it)")
    bindir = find_bindir()
    if bindir is None:
        _need("PostgreSQL server binaries are not installed (Debian: apt-get install postgresql)")
    server = PgServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture()
def url(pg):
    if not pg.running():
        pg.start()
    return pg.create_database(f"t_{uuid.uuid4().hex[:12]}")


def report(score: float = 80.0, fail: bool = True) -> dict:
    return {
        "schema": "posturecheck.analysis/1", "activity": "standing", "score": score, "duration_s": 10.0,
        "frames_analyzed": 250,
        "rules": [
            {"id": "standing.trunk_upright", "status": "fail" if fail else "pass", "value": 12.0, "fail_fraction": 0.4},
            {"id": "standing.hands", "status": "pass", "value": None, "fail_fraction": 0.0},
        ],
    }


def exercise(h: HistoryStore) -> dict:
    """Every public call of the history API; what they answer (times that depend on the clock left out)."""
    out: dict = {"version": h.version}
    sid = h.save_session(report(), trainee="  Li   Na ", source="live", drill="standing", started_at=100.0)
    h.save_session(report(95.0, fail=False), trainee="li na", source="upload", started_at=200.0, video_path="v.mp4")
    h.save_session(report(50.0), trainee=None, source="kiosk", started_at=300.0)
    h.save_session({**report(61.5), "note": "中文 ✓"}, trainee="王芳", source="kiosk", started_at=400.0)
    out["added"] = [(t.name, t.note) for t in (h.add_trainee("WANG fang"), h.add_trainee("Zhao", note="new"))]
    out["trainees"] = [(t.id, t.name, t.note) for t in h.trainees()]
    out["sessions"] = [s for s in h.sessions()]
    out["sessions_li"] = [s for s in h.sessions("LI NA")]
    out["limit"] = [s.id for s in h.sessions(limit=2)]
    out["report"] = h.report(sid)
    out["missing"] = h.report(9999)
    out["trends"] = h.rule_trends("Li Na")
    out["csv"] = list(csv.DictReader(io.StringIO(h.export_csv())))
    out["deleted_session"] = (h.delete_session(sid), h.delete_session(9999))
    out["deleted_trainee"] = (h.delete_trainee("li na"), h.delete_trainee("nobody"))
    out["after"] = [(s.id, s.trainee, s.score) for s in h.sessions()]
    out["trends_after"] = h.rule_trends()
    bad = report()
    bad["rules"].append(dict(bad["rules"][0]))  # duplicate rule id: the whole write is rolled back
    with pytest.raises(h.db_errors):
        h.save_session(bad, trainee="Rolled Back", source="live")
    out["after_rollback"] = ([t.name for t in h.trainees()], len(h.sessions()), h.pending())
    out["integrity"] = h.integrity_ok()
    return out


def test_postgres_answers_what_sqlite_answers(url, tmp_path):
    with HistoryStore(tmp_path / "h.sqlite3") as lite:
        want = exercise(lite)
    with HistoryStore(url=url, pending_dir=tmp_path / "pending") as pgh:
        assert pgh.path is None and pgh.where == url
        got = exercise(pgh)
    assert got == want
    assert want["version"] == SCHEMA_VERSION and len(want["csv"]) == 8


def test_same_tables_and_columns_as_sqlite(url, tmp_path):
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION
    HistoryStore(tmp_path / "h.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "h.sqlite3")
    lite = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in ("trainees", "sessions", "rule_results")}
    conn.close()
    HistoryStore(url=url, pending_dir=tmp_path / "p").close()
    import psycopg

    with psycopg.connect(url) as c:
        pgcols = {t: [r[0] for r in c.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                                                " ORDER BY ordinal_position", (t,))] for t in lite}
        assert c.execute("SELECT version FROM posturecheck_schema").fetchall() == [(SCHEMA_VERSION,)]
    assert pgcols == lite


WRITER = textwrap.dedent("""
    import json, sys, time
    from posturecheck.history import HistoryStore
    url, pending, start, n, tag = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    h = HistoryStore(url=url, pending_dir=pending)
    time.sleep(max(0.0, start - time.time()))
    ids = []
    for i in range(n):
        rep = {"activity": "standing", "score": float(i), "writer": tag,
               "rules": [{"id": f"rule.{k}", "status": "fail", "value": float(k), "fail_fraction": 0.5} for k in range(20)]}
        ids.append(h.save_session(rep, trainee=f"Trainee {i % 5}", source="kiosk", drill=tag))
    print(json.dumps(ids))
""")


def test_two_writers_at_once_lose_and_double_nothing(url, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start, n = time.time() + 3.0, 40
    procs = [subprocess.Popen([sys.executable, str(script), url, str(tmp_path / f"pending-{tag}"), str(start), str(n),
                               tag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for tag in ("kiosk-a", "kiosk-b")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    reported = [sid for out, _ in outs for sid in json.loads(out)]
    assert len(reported) == 2 * n and len(set(reported)) == 2 * n
    with HistoryStore(url=url, pending_dir=tmp_path / "reader") as h:
        rows = h.sessions()
        assert sorted(s.id for s in rows) == sorted(reported)
        assert sorted(t.name for t in h.trainees()) == [f"Trainee {i}" for i in range(5)]  # each created once
        assert {s.drill for s in rows} == {"kiosk-a", "kiosk-b"}
        assert all(len(h.report(s.id)["rules"]) == 20 for s in rows[:10])
        assert len(h.rule_trends()) == 2 * n * 20
    assert not any(list((tmp_path / f"pending-{tag}").glob("*.json")) for tag in ("kiosk-a", "kiosk-b"))


def test_server_restart_mid_session_keeps_the_session_and_writes_it_later(pg, url, tmp_path):
    pending = tmp_path / "pending"
    h = HistoryStore(url=url, pending_dir=pending)  # default budgets: a server away costs a save a few seconds
    first = h.save_session(report(70.0), trainee="Li", source="kiosk")
    pg.stop()
    try:
        t0 = time.monotonic()
        with pytest.raises(HistoryPending) as err:
            h.save_session(report(55.0), trainee="Li", source="kiosk")
        assert time.monotonic() - t0 < 15
        kept = err.value.path
        assert kept.is_file() and kept.parent == pending
        assert json.loads(kept.read_text(encoding="utf-8"))["report"]["score"] == 55.0
        assert "will be written to the history automatically" in str(err.value) and "\n" not in str(err.value)
        assert "稍后会自动写入" in err.value.message_zh
        with pytest.raises(HistoryError) as down:  # reads: one clear line, no driver traceback
            h.sessions()
        assert "not answering" in str(down.value) and "无响应" in down.value.message_zh
        assert "\n" not in str(down.value)
        other = HistoryStore(url=url, pending_dir=pending, save_budget_s=1.0)  # a kiosk starting while it is down
        assert other.offline is not None
        with pytest.raises(HistoryPending):
            other.save_session(report(40.0), trainee="Wang", source="kiosk")
        assert len(list(pending.glob("*.json"))) == 2
    finally:
        pg.start()
    assert sorted(s.score for s in other.sessions()) == [40.0, 55.0, 70.0]  # a read once it is back writes them
    assert other.pending() == [] and other.offline is None
    third = h.save_session(report(90.0), trainee="Li", source="kiosk")
    assert h.pending() == [] and h.offline is None
    assert sorted(s.score for s in h.sessions()) == [40.0, 55.0, 70.0, 90.0]
    assert first in {s.id for s in h.sessions()} and third in {s.id for s in h.sessions()}
    h.close()
    other.close()
    with HistoryStore(url=url, pending_dir=pending) as again:  # written once, not again at the next open
        assert len(again.sessions()) == 4 and [t.name for t in again.trainees()] == ["Li", "Wang"]


def test_save_during_a_quick_server_restart_is_written_directly(pg, url, tmp_path):
    import threading

    h = HistoryStore(url=url, pending_dir=tmp_path / "pending")
    h.save_session(report(70.0), trainee="Li", source="kiosk")
    pg.stop()
    back = threading.Timer(1.0, pg.start)  # the server comes back while the save is waiting for it
    back.start()
    try:
        sid = h.save_session(report(75.0), trainee="Li", source="kiosk")
    finally:
        back.join()
    assert h.report(sid)["score"] == 75.0 and h.pending() == [] and len(h.sessions()) == 2
    h.close()


def test_write_lock_held_too_long_keeps_the_session_pending_then_writes_it(url, tmp_path):
    """Another kiosk stuck inside a write transaction: the save waits a bounded time, then stays pending."""
    import threading

    import psycopg

    from posturecheck.history import PG_LOCK_KEY

    h = HistoryStore(url=url, pending_dir=tmp_path / "pending", save_budget_s=1.0)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("BEGIN")
            c.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
            holding.set()
            release.wait(30)
            c.execute("ROLLBACK")

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(HistoryPending) as err:
            h.save_session(report(55.0), trainee="Zhao", source="kiosk")
        assert "lock" in str(err.value) and err.value.path.is_file()
    finally:
        release.set()
        holder.join(30)
    h.save_session(report(60.0), trainee="Zhao", source="kiosk")  # the next save writes both
    assert sorted(s.score for s in h.sessions("Zhao")) == [55.0, 60.0] and h.pending() == []
    h.close()


def test_unreachable_or_bad_url(tmp_path):
    from pgserver import free_port

    down = f"postgresql://kiosk:secret@127.0.0.1:{free_port()}/history"
    h = HistoryStore(url=down, pending_dir=tmp_path / "p", save_budget_s=0.5)
    assert h.offline and "secret" not in h.where and h.where == "postgresql://kiosk:***@127.0.0.1:" + down.rsplit(":", 1)[1]
    with pytest.raises(HistoryPending) as err:
        h.save_session(report(), trainee="Li", source="live")
    assert "secret" not in str(err.value) and len(h.pending()) == 1
    with pytest.raises(HistoryError) as bad:
        HistoryStore(url="postgresql://127.0.0.1:notaport/x", pending_dir=tmp_path / "q")
    assert "notaport" in str(bad.value) and "not valid" in str(bad.value) and "无效" in bad.value.message_zh
    with pytest.raises(HistoryError) as bad:
        HistoryStore(url="postgresql://h/x?nosuchoption=1", pending_dir=tmp_path / "q")
    assert "not valid" in str(bad.value) and "无效" in bad.value.message_zh
    assert redact_url("postgresql://a:b@h/d") == "postgresql://a:***@h/d" and redact_url("postgresql://h/d") == "postgresql://h/d"


def test_old_schema_is_migrated_and_a_newer_one_refused(url, tmp_path):
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:  # a version-1 history with one trainee
        for stmt in (x.strip() for x in PG_MIGRATIONS[0].split(";")):
            if stmt:
                c.execute(stmt)
        c.execute("CREATE TABLE posturecheck_schema (version INTEGER NOT NULL)")
        c.execute("INSERT INTO posturecheck_schema VALUES (1)")
        c.execute("INSERT INTO trainees(name, created_at) VALUES ('Zhao', 1.0)")
    with HistoryStore(url=url, pending_dir=tmp_path / "p") as h:
        assert h.version == SCHEMA_VERSION and [t.name for t in h.trainees()] == ["Zhao"]
        h.save_session(report(), trainee="zhao", source="live", video_path="kept.mp4")
        assert h.sessions("Zhao")[0].video_path == "kept.mp4"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("UPDATE posturecheck_schema SET version = %s", (SCHEMA_VERSION + 5,))
    with pytest.raises(HistoryError, match="newer"):
        HistoryStore(url=url, pending_dir=tmp_path / "p")


OPENER = textwrap.dedent("""
    import sys, threading, time
    from posturecheck.history import HistoryStore
    url, pending, start, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    errors = []
    def one():
        time.sleep(max(0.0, start - time.time()))
        try:
            h = HistoryStore(url=url, pending_dir=pending)
            assert h.offline is None, h.offline
            h.close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    threads = [threading.Thread(target=one) for _ in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(errors))
    for e in errors:
        print(e)
""")


def test_simultaneous_first_opens_migrate_once(url, tmp_path):
    script = tmp_path / "opener.py"
    script.write_text(OPENER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, str(script), url, str(tmp_path / "p"), str(start), "6"],
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert sum(int(out.splitlines()[0]) for out in outputs) == 0, outputs
    with HistoryStore(url=url, pending_dir=tmp_path / "p") as h:
        assert h.version == SCHEMA_VERSION


def test_app_settings_and_history_page_on_postgres(pg, url, tmp_path, monkeypatch):
    """The Settings page saves the URL (after connecting once); the History page reads the shared server,
    and says so in one line when the server is away."""
    st_testing = pytest.importorskip("streamlit.testing.v1")
    home = tmp_path / "home"
    monkeypatch.setenv("POSTURECHECK_HOME", str(home))
    monkeypatch.delenv("POSTURECHECK_KIOSK", raising=False)
    monkeypatch.delenv("POSTURECHECK_HISTORY_URL", raising=False)
    with HistoryStore(url=url, pending_dir=tmp_path / "other-kiosk") as other:  # written by another kiosk
        other.save_session(report(77.0), trainee="Chen Jing", source="kiosk", started_at=1.7e9)

    class Idle:  # stands in for the camera widget of the first page (it needs a browser)
        class state:
            playing = False

    def app():
        at = st_testing.AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["pc_webrtc_streamer"] = lambda **kwargs: Idle()
        at.session_state["pc_trainer_unlocked"] = True
        at.session_state["pc_lang"] = "en"
        return at

    at = app()
    at.run()
    at.switch_page("posturecheck/ui/views/settings.py").run()
    field = next(t for t in at.text_input if "Shared history" in (t.label or ""))
    field.set_value("mysql://nope")
    at.button[0].click().run()  # the settings form's submit button
    assert not at.exception and any("must start with postgresql://" in e.value for e in at.error)
    field = next(t for t in at.text_input if "Shared history" in (t.label or ""))
    field.set_value(url)
    at.button[0].click().run()
    assert not at.exception and any("Connected to the shared history" in s.value for s in at.success)
    assert json.loads((home / "settings.json").read_text(encoding="utf-8"))["history_url"] == url

    at = app()
    at.run()
    at.switch_page("posturecheck/ui/views/history.py").run()
    assert not at.exception and url in "\n".join(c.value for c in at.caption)
    at.selectbox(key="pc_hist_trainee__en").set_value("Chen Jing").run()
    assert not at.exception and len(at.dataframe[0].value) == 1
    pg.stop()
    try:
        at.run()
        assert not at.exception
        assert any("not answering" in e.value for e in at.error)
    finally:
        pg.start()


def test_app_history_url_on_the_command_line(url, tmp_path, monkeypatch, capsys):
    """`posturecheck app|kiosk --history-url`: a bad URL is one line (exit 2, nothing started); a good one, or a
    server away (one warning line), is handed to the app server through its environment."""
    from pgserver import free_port

    from posturecheck import cli
    from posturecheck.history import HISTORY_URL_ENV, history_target

    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POSTURECHECK_LANG", "en")  # the one language setting (posturecheck.language): English here
    monkeypatch.setenv(HISTORY_URL_ENV, "")  # recorded, so what the command sets is undone after the test
    monkeypatch.delenv(HISTORY_URL_ENV)
    assert cli.main(["kiosk", "--history-url", "mysql://x/y", "--headless"]) == 2
    assert "must start with postgresql://" in capsys.readouterr().err
    assert cli.main(["app", "--history-url", "postgresql://h:port/x", "--headless"]) == 2
    assert "not valid" in capsys.readouterr().err and HISTORY_URL_ENV not in os.environ
    assert cli._use_history_url(url, "en") and os.environ[HISTORY_URL_ENV] == url and history_target("") == url
    down = f"postgresql://kiosk:secret@127.0.0.1:{free_port()}/h"
    assert cli._use_history_url(down, "zh")
    err = capsys.readouterr().err
    assert "现在无响应" in err and "secret" not in err and len(err.strip().splitlines()) == 1
