"""Training history in an embedded SQLite database (no Streamlit here).

Trainees, their sessions (live drills, reviewed uploads, kiosk runs) with score and
per-rule results, and the JSON report of each session. Each session is written in
one transaction (all or nothing); the database runs in WAL mode with
synchronous=FULL, so a process killed mid-write loses no committed session. The
schema is versioned with `PRAGMA user_version` and upgraded by `MIGRATIONS` in
order, inside one `BEGIN EXCLUSIVE` transaction that also reads the version (so
an app and a kiosk opening a new install together cannot both migrate). Video
frames are never stored here: a session may only *name* a video file that the
trainer chose to keep.

Bad luck is survived, not reported as a crash: a damaged database (garbage, a
truncated copy, a text file) is detected at open with `PRAGMA quick_check`, moved
aside as `history.sqlite3.corrupt-<time>` and replaced by a fresh one
(`HistoryStore.notice` says so in zh and en). A finished session is first written
to a pending JSON file (`history.sqlite3.pending/`), then inserted with retries and
backoff while another process holds the write lock; only then is the pending file
removed. What could not be written (lock held too long, database damaged) stays
pending and is written at the next open or save; `HistoryPending` tells the caller.

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
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

logger = logging.getLogger(__name__)

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_S = 2.0            # SQLite's own wait for a lock, per attempt
OPEN_BUDGET_S = 60.0            # opening (WAL switch, migration) retries this long under contention
SAVE_BUDGET_S = 20.0            # a save retries this long, then stays pending
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.05, 2.0
PENDING_SUFFIX = ".pending"     # folder beside the database: sessions not yet written
CORRUPT_SUFFIX = ".corrupt-"    # a damaged database is renamed <db>.corrupt-<time>
_DAMAGED_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_RETRY_CODES = frozenset({5, 6, 10, 13, 14})  # BUSY, LOCKED, IOERR, FULL, CANTOPEN

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
    """
    ALTER TABLE sessions ADD COLUMN uid TEXT;
    CREATE UNIQUE INDEX sessions_uid ON sessions(uid);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(RuntimeError):
    """The history database cannot be opened or is newer than this program.

    `str(e)` is English; `message_zh` the same in Simplified Chinese.
    """

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh or message


class HistoryPending(HistoryError):
    """A finished session could not be written now; it is kept in `path` and written later."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the session could not be saved now ({reason}); it is kept in {path} "
                         "and will be written to the history automatically",
                         f"成绩暂时无法写入训练记录（{reason}），已保存在 {path}，稍后会自动写入")
        self.path = path


def _code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of an error (None when unknown)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_damaged(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file is not a (healthy) database."""
    code = _code(exc)
    if code is not None:
        return code in _DAMAGED_CODES
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def is_transient(exc: sqlite3.Error) -> bool:
    """True for errors worth retrying (locked, busy, I/O, disk full)."""
    code = _code(exc)
    if code is not None:
        return code in _RETRY_CODES
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower()


def _backoff(attempt: int) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * (2 ** attempt))


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

    def __init__(self, path: str | Path | None = None, *, save_budget_s: float = SAVE_BUDGET_S) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.save_budget_s = float(save_budget_s)
        self.notice: tuple[str, str] | None = None  # (en, zh) when a damaged file was moved aside
        self.moved_to: Path | None = None
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}",
                               f"无法打开训练记录数据库 {self.path}：{exc}") from exc
        self._conn = self._open_checked()
        self.flush_pending()

    # ------------------------------------------------------------ opening
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}",
                               f"无法打开训练记录数据库 {self.path}：{exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        """Connect, check, set WAL and migrate; a damaged file is moved aside once."""
        deadline = time.monotonic() + OPEN_BUDGET_S
        attempt = 0
        moved = False
        while True:
            conn = self._connect()
            try:
                row = conn.execute("PRAGMA quick_check").fetchone()
                if row is None or row[0] != "ok":
                    raise sqlite3.DatabaseError(f"quick_check: {row[0] if row else 'no answer'}")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                self._migrate(conn)
                return conn
            except HistoryError:
                conn.close()
                raise
            except sqlite3.Error as exc:
                conn.close()
                if is_transient(exc) and time.monotonic() < deadline:
                    time.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                damaged = is_damaged(exc) or str(exc).startswith("quick_check")
                if damaged and not moved:
                    self._move_aside(str(exc))
                    moved = True
                    continue
                raise HistoryError(f"cannot open the history database {self.path}: {exc}",
                                   f"无法打开训练记录数据库 {self.path}：{exc}") from exc

    def _move_aside(self, reason: str) -> None:
        """Rename a damaged database (and its WAL/SHM files) so a fresh one can start."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}{CORRUPT_SUFFIX}{stamp}")
        n = 2
        while target.exists():
            target = self.path.with_name(f"{self.path.name}{CORRUPT_SUFFIX}{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, target)
        except FileNotFoundError:  # another process moved it first
            return
        except OSError as exc:
            raise HistoryError(f"the history database {self.path} is damaged ({reason}) and cannot be moved "
                               f"aside: {exc}", f"训练记录数据库 {self.path} 已损坏（{reason}），且无法移走：{exc}") from exc
        for extra in ("-wal", "-shm", "-journal"):
            side = Path(f"{self.path}{extra}")
            if side.exists():
                try:
                    os.replace(side, Path(f"{target}{extra}"))
                except OSError:
                    logger.warning("history: could not move %s aside", side, exc_info=True)
        self.moved_to = target
        self.notice = (f"The history database was damaged ({reason}); it was moved to {target} and a new, "
                       "empty history was started.",
                       f"训练记录数据库已损坏（{reason}），已移到 {target}，并新建了一个空的训练记录。")
        logger.warning("history: %s is damaged (%s); moved to %s, starting a fresh database",
                       self.path, reason, target)

    # ------------------------------------------------------------ schema
    @property
    def version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Upgrade to SCHEMA_VERSION in one exclusive transaction that reads the version itself."""
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION:
            return  # the common case: no write lock needed
        conn.execute("BEGIN EXCLUSIVE")
        try:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > SCHEMA_VERSION:
                raise HistoryError(f"{self.path} was written by a newer posturecheck "
                                   f"(schema {current} > {SCHEMA_VERSION}); update posturecheck",
                                   f"{self.path} 由更新版本的 posturecheck 写入（结构版本 {current} > "
                                   f"{SCHEMA_VERSION}），请升级 posturecheck")
            for version in range(current, SCHEMA_VERSION):
                logger.info("history: migrating %s to schema %d", self.path.name, version + 1)
                for stmt in (x.strip() for x in MIGRATIONS[version].split(";")):
                    if stmt:
                        conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
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
        """Store one finished session (its JSON report and per-rule results) in one transaction.

        The session is first kept in a pending file, then written with retries while
        another process holds the lock; raises `HistoryPending` (the session is safe
        on disk and written at the next open or save) when that does not succeed
        within `save_budget_s` or the database turns out to be damaged.
        """
        if source not in ("live", "upload", "kiosk"):
            raise ValueError("source must be live, upload or kiosk")
        entry = {"uid": uuid.uuid4().hex, "report": report, "trainee": trainee, "source": source, "drill": drill,
                 "started_at": started_at if started_at is not None else time.time(), "video_path": video_path}
        pending = self._write_pending(entry)
        try:
            sid = self._insert_retrying(entry)
        except sqlite3.Error as exc:
            if is_damaged(exc):
                self._recover_damaged(str(exc))  # a fresh database; pending sessions are written into it
                sid = self._sid_of(entry["uid"])
                if sid is not None:
                    return sid
            if is_transient(exc) or is_damaged(exc):
                logger.warning("history: session kept pending in %s: %s", pending, exc)
                raise HistoryPending(pending, str(exc)) from exc
            pending.unlink(missing_ok=True)  # bad data, not bad luck: the caller hears of it
            raise
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        pending.unlink(missing_ok=True)
        self.flush_pending()
        return sid

    def _sid_of(self, uid: str) -> int | None:
        with self._lock:
            row = self._conn.execute("SELECT id FROM sessions WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else int(row["id"])

    def _insert_retrying(self, entry: dict[str, Any]) -> int:
        deadline = time.monotonic() + self.save_budget_s
        attempt = 0
        while True:
            try:
                return self._insert(entry)
            except sqlite3.Error as exc:
                if not is_transient(exc) or time.monotonic() + _backoff(attempt) > deadline:
                    raise
                logger.info("history: database busy (%s); retrying", exc)
                time.sleep(_backoff(attempt))
                attempt += 1

    def _insert(self, entry: dict[str, Any]) -> int:
        """One session in one transaction; a session already stored (same uid) is not stored twice."""
        report = entry["report"]
        trainee = entry.get("trainee")
        name = " ".join(trainee.split()) if trainee else ""
        payload = json.dumps(report, ensure_ascii=False)
        with self._tx() as c:
            row = c.execute("SELECT id FROM sessions WHERE uid = ?", (entry["uid"],)).fetchone()
            if row is not None:
                return int(row["id"])
            trainee_id = None
            if name:
                row = c.execute("SELECT id FROM trainees WHERE name = ?", (name,)).fetchone()
                trainee_id = row["id"] if row else c.execute(
                    "INSERT INTO trainees(name, created_at) VALUES (?, ?)", (name, time.time())).lastrowid
            cur = c.execute(
                "INSERT INTO sessions(trainee_id, started_at, source, drill, activity, score, duration_s, frames,"
                " report_json, video_path, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (trainee_id, entry["started_at"], entry["source"], entry.get("drill"),
                 report.get("activity"), report.get("score"), report.get("duration_s"),
                 report.get("frames_analyzed"), payload, entry.get("video_path"), entry["uid"]))
            sid = int(cur.lastrowid)
            c.executemany(
                "INSERT INTO rule_results(session_id, rule_id, status, value, fail_fraction) VALUES (?, ?, ?, ?, ?)",
                [(sid, r["id"], r["status"], r.get("value") if isinstance(r.get("value"), (int, float)) else None,
                  r.get("fail_fraction")) for r in report.get("rules", [])])
        return sid

    # ------------------------------------------------------------ pending sessions
    @property
    def pending_dir(self) -> Path:
        return self.path.with_name(self.path.name + PENDING_SUFFIX)

    def _write_pending(self, entry: dict[str, Any]) -> Path:
        """Keep a session on disk (atomically) until it is in the database."""
        folder = self.pending_dir
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{entry['uid']}.json"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(entry, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    def pending(self) -> list[Path]:
        """Sessions kept on disk and not yet in the database, oldest first."""
        folder = self.pending_dir
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def flush_pending(self) -> int:
        """Write every pending session that can be written now; returns how many were written."""
        written = 0
        for path in self.pending():
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # another process wrote it
            except (OSError, ValueError) as exc:
                logger.warning("history: unreadable pending session %s (%s); kept", path, exc)
                continue
            try:
                self._insert(entry)
            except sqlite3.IntegrityError as exc:
                logger.warning("history: pending session %s rejected (%s); renamed .rejected", path, exc)
                os.replace(path, path.with_suffix(".rejected"))
                continue
            except sqlite3.Error as exc:
                logger.info("history: pending sessions stay pending (%s)", exc)
                break
            path.unlink(missing_ok=True)
            written += 1
        if written:
            logger.info("history: wrote %d pending session(s)", written)
        return written

    def _recover_damaged(self, reason: str) -> None:
        """The open database turned out damaged mid-run: move it aside and start afresh."""
        with self._lock:
            self._conn.close()
            self._move_aside(reason)
            self._conn = self._open_checked()
        self.flush_pending()

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
            w.writerow([csv_safe(v) for v in row])
        return buf.getvalue()

    def integrity_ok(self) -> bool:
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def summary_rows(sessions: Sequence[SessionRow]) -> list[dict[str, Any]]:
    """Plain dicts for tables."""
    return [{"id": s.id, "trainee": s.trainee or "-", "started_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at)),
             "source": s.source, "drill": s.drill or "-", "activity": s.activity or "-", "score": s.score,
             "duration_s": s.duration_s} for s in sessions]
