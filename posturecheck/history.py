"""Training history in an embedded SQLite database (no Streamlit here).

Trainees, their sessions (live drills, reviewed uploads, kiosk runs) with score and
per-rule results, and the JSON report of each session. Each session is written in
one transaction (all or nothing); the database runs in WAL mode with
synchronous=FULL, so a process killed mid-write loses no committed session. The
schema is versioned with `PRAGMA user_version` and upgraded by `MIGRATIONS` in
order. Video frames are never stored here: a session may only *name* a video file
that the trainer chose to keep.

Default location: `$POSTURECHECK_HOME/history.sqlite3` (`~/.posturecheck/`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

logger = logging.getLogger(__name__)

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_S = 10.0

# Each entry upgrades the schema from version i to i + 1; never edit a shipped one, append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE trainees (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        trainee_id INTEGER REFERENCES trainees(id) ON DELETE CASCADE,
        started_at REAL NOT NULL,
        source TEXT NOT NULL,
        drill TEXT,
        activity TEXT,
        score REAL,
        duration_s REAL,
        frames INTEGER,
        report_json TEXT NOT NULL
    );
    CREATE INDEX sessions_trainee ON sessions(trainee_id, started_at);
    CREATE TABLE rule_results (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        status TEXT NOT NULL,
        value REAL,
        fail_fraction REAL,
        PRIMARY KEY (session_id, rule_id)
    );
    """,
    """
    ALTER TABLE sessions ADD COLUMN video_path TEXT;
    ALTER TABLE trainees ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(RuntimeError):
    """The history database cannot be opened or is newer than this program."""


def default_home() -> Path:
    """posturecheck's data folder: $POSTURECHECK_HOME or ~/.posturecheck."""
    return Path(os.environ.get("POSTURECHECK_HOME") or Path.home() / ".posturecheck")


def default_db_path() -> Path:
    return default_home() / DB_NAME


@dataclass(frozen=True)
class Trainee:
    id: int
    name: str
    created_at: float
    note: str = ""


@dataclass(frozen=True)
class SessionRow:
    id: int
    trainee: str | None
    started_at: float
    source: str
    drill: str | None
    activity: str | None
    score: float | None
    duration_s: float | None
    frames: int | None
    video_path: str | None


@dataclass(frozen=True)
class RuleTrendPoint:
    session_id: int
    started_at: float
    rule_id: str
    status: str
    fail_fraction: float | None


class HistoryStore:
    """The history database. Open one per app process or test; thread-safe."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # ------------------------------------------------------------ schema
    @property
    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._lock:
            current = self.version
            if current > SCHEMA_VERSION:
                raise HistoryError(f"{self.path} was written by a newer posturecheck "
                                   f"(schema {current} > {SCHEMA_VERSION}); update posturecheck")
            for version in range(current, SCHEMA_VERSION):
                logger.info("history: migrating %s to schema %d", self.path.name, version + 1)
                stmts = [s.strip() for s in MIGRATIONS[version].split(";") if s.strip()]
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for stmt in stmts:
                        self._conn.execute(stmt)
                    self._conn.execute(f"PRAGMA user_version = {version + 1}")
                    self._conn.execute("COMMIT")
                except sqlite3.Error:
                    self._conn.execute("ROLLBACK")
                    raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed as a whole or rolled back."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ trainees
    def add_trainee(self, name: str, note: str = "") -> Trainee:
        """Create a trainee, or return the existing one with that name (case-insensitive)."""
        name = " ".join(name.split())
        if not name:
            raise ValueError("a trainee needs a name")
        with self._tx() as c:
            row = c.execute("SELECT * FROM trainees WHERE name = ?", (name,)).fetchone()
            if row is None:
                cur = c.execute("INSERT INTO trainees(name, created_at, note) VALUES (?, ?, ?)",
                                (name, time.time(), note))
                row = c.execute("SELECT * FROM trainees WHERE id = ?", (cur.lastrowid,)).fetchone()
        return Trainee(row["id"], row["name"], row["created_at"], row["note"])

    def trainees(self) -> list[Trainee]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM trainees ORDER BY name").fetchall()
        return [Trainee(r["id"], r["name"], r["created_at"], r["note"]) for r in rows]

    def delete_trainee(self, name: str) -> bool:
        """Delete a trainee and all their sessions."""
        with self._tx() as c:
            return c.execute("DELETE FROM trainees WHERE name = ?", (name,)).rowcount > 0

    # ------------------------------------------------------------ sessions
    def save_session(self, report: dict[str, Any], *, trainee: str | None, source: str,
                     drill: str | None = None, started_at: float | None = None,
                     video_path: str | None = None) -> int:
        """Store one finished session (its JSON report and per-rule results) in one transaction."""
        if source not in ("live", "upload", "kiosk"):
            raise ValueError("source must be live, upload or kiosk")
        name = " ".join(trainee.split()) if trainee else ""
        payload = json.dumps(report, ensure_ascii=False)
        with self._tx() as c:
            trainee_id = None
            if name:
                row = c.execute("SELECT id FROM trainees WHERE name = ?", (name,)).fetchone()
                trainee_id = row["id"] if row else c.execute(
                    "INSERT INTO trainees(name, created_at) VALUES (?, ?)", (name, time.time())).lastrowid
            cur = c.execute(
                "INSERT INTO sessions(trainee_id, started_at, source, drill, activity, score, duration_s, frames,"
                " report_json, video_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (trainee_id, started_at if started_at is not None else time.time(), source, drill,
                 report.get("activity"), report.get("score"), report.get("duration_s"),
                 report.get("frames_analyzed"), payload, video_path))
            sid = int(cur.lastrowid)
            c.executemany(
                "INSERT INTO rule_results(session_id, rule_id, status, value, fail_fraction) VALUES (?, ?, ?, ?, ?)",
                [(sid, r["id"], r["status"], r.get("value") if isinstance(r.get("value"), (int, float)) else None,
                  r.get("fail_fraction")) for r in report.get("rules", [])])
        return sid

    def sessions(self, trainee: str | None = None, limit: int | None = None) -> list[SessionRow]:
        """Sessions, newest first (of one trainee when given)."""
        sql = ("SELECT s.*, t.name AS trainee FROM sessions s LEFT JOIN trainees t ON t.id = s.trainee_id"
               + (" WHERE t.name = ?" if trainee else "") + " ORDER BY s.started_at DESC, s.id DESC"
               + (f" LIMIT {int(limit)}" if limit else ""))
        with self._lock:
            rows = self._conn.execute(sql, (trainee,) if trainee else ()).fetchall()
        return [SessionRow(r["id"], r["trainee"], r["started_at"], r["source"], r["drill"], r["activity"],
                           r["score"], r["duration_s"], r["frames"], r["video_path"]) for r in rows]

    def report(self, session_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT report_json FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else json.loads(row["report_json"])

    def delete_session(self, session_id: int) -> bool:
        with self._tx() as c:
            return c.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def rule_trends(self, trainee: str | None = None) -> list[RuleTrendPoint]:
        """Per-rule results over time (oldest first), for trend plots."""
        sql = ("SELECT s.id, s.started_at, r.rule_id, r.status, r.fail_fraction FROM rule_results r"
               " JOIN sessions s ON s.id = r.session_id LEFT JOIN trainees t ON t.id = s.trainee_id"
               + (" WHERE t.name = ?" if trainee else "") + " ORDER BY s.started_at, s.id, r.rule_id")
        with self._lock:
            rows = self._conn.execute(sql, (trainee,) if trainee else ()).fetchall()
        return [RuleTrendPoint(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    # ------------------------------------------------------------ export
    CSV_COLUMNS: tuple[str, ...] = ("session_id", "trainee", "started_at", "source", "drill", "activity",
                                    "score", "duration_s", "rule_id", "status", "value", "fail_fraction")

    def export_csv(self, trainee: str | None = None) -> str:
        """One row per session and rule (UTF-8 text; spreadsheet-friendly ISO times)."""
        sql = ("SELECT s.id, t.name, s.started_at, s.source, s.drill, s.activity, s.score, s.duration_s,"
               " r.rule_id, r.status, r.value, r.fail_fraction FROM sessions s"
               " LEFT JOIN trainees t ON t.id = s.trainee_id LEFT JOIN rule_results r ON r.session_id = s.id"
               + (" WHERE t.name = ?" if trainee else "") + " ORDER BY s.started_at, s.id, r.rule_id")
        with self._lock:
            rows = self._conn.execute(sql, (trainee,) if trainee else ()).fetchall()
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(self.CSV_COLUMNS)
        for r in rows:
            row = list(r)
            row[2] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row[2]))
            w.writerow(["" if v is None else v for v in row])
        return buf.getvalue()

    def integrity_ok(self) -> bool:
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def summary_rows(sessions: Sequence[SessionRow]) -> list[dict[str, Any]]:
    """Plain dicts for tables."""
    return [{"id": s.id, "trainee": s.trainee or "-", "started_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at)),
             "source": s.source, "drill": s.drill or "-", "activity": s.activity or "-", "score": s.score,
             "duration_s": s.duration_s} for s in sessions]
