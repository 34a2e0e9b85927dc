"""Training history: an embedded SQLite database by default, or an organisation's PostgreSQL (no Streamlit here).

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

PostgreSQL (`HistoryStore(url="postgresql://…")`, `--history-url`, the Settings page; needs
`posturecheck[postgres]`): several kiosks and trainers share trainees and sessions. One store,
two backends: everything that differs (connecting, version bookkeeping, locks, placeholders,
DDL, which errors are worth waiting for) lives in `_SQLite` / `_Postgres`; the SQL of the store
itself is portable. The schema version is kept in the table `posturecheck_schema`, upgraded by
`PG_MIGRATIONS` (same versions as `MIGRATIONS`) under a transaction-scoped advisory lock, and every
write transaction takes the same lock (one writer at a time, as in SQLite). A server that is down
or unreachable keeps each finished session in a pending folder on this computer
(`$POSTURECHECK_HOME/history-postgres.pending/<user-host-port-db>/`), written when it answers again.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
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
AWAY_BUDGET_S = 5.0             # ...but a PostgreSQL server that does not answer only this long (a restart)
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


HISTORY_URL_ENV = "POSTURECHECK_HISTORY_URL"  # set by `posturecheck app|kiosk --history-url`


def history_target(saved_url: str | None = None) -> str:
    """Where the history lives: $POSTURECHECK_HISTORY_URL, else the saved URL, else the SQLite file."""
    return (os.environ.get(HISTORY_URL_ENV) or "").strip() or (saved_url or "").strip() or str(default_db_path())


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


# Each entry upgrades a PostgreSQL history from version i to i + 1: the same tables, columns and
# version numbers as MIGRATIONS (SQLite), in PostgreSQL's words. Never edit a shipped one, append.
PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE trainees (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE UNIQUE INDEX trainees_name ON trainees (lower(name));
    CREATE TABLE sessions (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        trainee_id BIGINT REFERENCES trainees(id) ON DELETE CASCADE,
        started_at DOUBLE PRECISION NOT NULL,
        source TEXT NOT NULL,
        drill TEXT,
        activity TEXT,
        score DOUBLE PRECISION,
        duration_s DOUBLE PRECISION,
        frames INTEGER,
        report_json TEXT NOT NULL
    );
    CREATE INDEX sessions_trainee ON sessions(trainee_id, started_at);
    CREATE TABLE rule_results (
        session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        status TEXT NOT NULL,
        value DOUBLE PRECISION,
        fail_fraction DOUBLE PRECISION,
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
PG_LOCK_KEY = 0x706F7374  # pg_advisory_xact_lock key of posturecheck's writers ("post")
PG_CONNECT_TIMEOUT_S = 5
PG_LOCK_WAIT = "2s"        # a writer waits this long for another kiosk's write lock per attempt (as BUSY_TIMEOUT_S)
PG_MIGRATION_LOCK_WAIT = "60s"  # an opener waits this long for another one's schema upgrade (as OPEN_BUDGET_S)
# A connection whose server vanished (network cut, host down) is noticed in about 25 s, not never.
PG_CONNECT_DEFAULTS = {"connect_timeout": PG_CONNECT_TIMEOUT_S, "keepalives": 1, "keepalives_idle": 10,
                       "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 20000}
URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(target: str | Path | None) -> bool:
    """True for a PostgreSQL URL (postgresql://…), False for a file path or None."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and pages."""
    return re.sub(r"^(\w+://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _statements(script: str) -> list[str]:
    return [x.strip() for x in script.split(";") if x.strip()]


class _SQLite:
    """Embedded SQLite file (the default). Everything SQLite-specific about the history is here."""

    kind = "sqlite"
    migrations = MIGRATIONS

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
        self.integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def describe(self) -> str:
        return str(self.path)

    def default_pending_dir(self) -> Path:
        return self.path.with_name(self.path.name + PENDING_SUFFIX)

    def connect(self) -> Any:
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    def prepare(self, conn: Any) -> None:
        row = conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {row[0] if row else 'no answer'}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def version(self, conn: Any) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def begin_migration(self, conn: Any) -> None:
        conn.execute("BEGIN EXCLUSIVE")  # no other connection reads or writes while the version is read and raised

    def set_version(self, conn: Any, version: int) -> None:
        conn.execute(f"PRAGMA user_version = {int(version)}")

    def begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")  # the write lock now: one writer at a time

    def sql(self, query: str) -> str:
        return query

    def insert(self, conn: Any, query: str, params: Sequence[Any]) -> int:
        return int(conn.execute(query, params).lastrowid)

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error) and is_transient(exc)

    def is_damaged(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error) and (is_damaged(exc) or str(exc).startswith("quick_check"))

    def integrity_ok(self, conn: Any) -> bool:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class _PgRow(tuple):
    """A row read by name or position, like sqlite3.Row."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)


def _pg_row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in (cursor.description or ()))

    def make(values: Sequence[Any]) -> _PgRow:
        row = _PgRow(values)
        row.names = names
        return row
    return make


class _Postgres:
    """An organisation's PostgreSQL server (`postgresql://…`, optional `posturecheck[postgres]`)."""

    kind = "postgres"
    migrations = PG_MIGRATIONS

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise HistoryError(f"a PostgreSQL history needs psycopg: pip install 'posturecheck[postgres]' ({exc})",
                               f"使用 PostgreSQL 训练记录需要 psycopg：pip install 'posturecheck[postgres]'（{exc}）") from exc
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
            ports = str(params.get("port") or "5432").split(",")
            if not all(p.strip().isdigit() for p in ports):
                raise psycopg.ProgrammingError(f"the port must be a number, got {params.get('port')!r}")
        except psycopg.Error as exc:
            raise HistoryError(f"the history URL {redact_url(url)} is not valid: {_first_line(exc)}",
                               f"训练记录地址 {redact_url(url)} 无效：{_first_line(exc)}") from exc
        self._psycopg = psycopg
        self.url = url
        self.params = params
        self.errors = (psycopg.Error,)
        self.integrity_errors = (psycopg.IntegrityError,)

    def describe(self) -> str:
        return redact_url(self.url)

    def default_pending_dir(self) -> Path:
        p = self.params
        ident = "-".join(str(p.get(k) or "") for k in ("user", "host", "port", "dbname"))
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", ident).strip("_") or "postgres"
        return default_home() / f"history-postgres{PENDING_SUFFIX}" / safe

    def connect(self) -> Any:
        kwargs: dict[str, Any] = {k: v for k, v in PG_CONNECT_DEFAULTS.items() if k not in self.params}
        # no server-side prepared statements: they break behind a transaction-pooling PgBouncer
        return self._psycopg.connect(self.url, autocommit=True, row_factory=_pg_row_factory,
                                     prepare_threshold=None, **kwargs)

    def prepare(self, conn: Any) -> None:
        """Bounded lock waits (nothing to check: the server looks after its own files)."""
        conn.execute(f"SET lock_timeout = '{PG_LOCK_WAIT}'")

    @staticmethod
    def _has_schema_table(conn: Any) -> bool:
        return conn.execute("SELECT to_regclass('posturecheck_schema') IS NOT NULL").fetchone()[0]

    def version(self, conn: Any) -> int:
        if not self._has_schema_table(conn):
            return 0
        row = conn.execute("SELECT max(version) FROM posturecheck_schema").fetchone()
        return int(row[0] or 0)

    def begin_migration(self, conn: Any) -> None:
        conn.execute("BEGIN")
        conn.execute(f"SET LOCAL lock_timeout = '{PG_MIGRATION_LOCK_WAIT}'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))  # other writers and migrators wait
        conn.execute("CREATE TABLE IF NOT EXISTS posturecheck_schema (version INTEGER NOT NULL)")

    def set_version(self, conn: Any, version: int) -> None:
        conn.execute("DELETE FROM posturecheck_schema")
        conn.execute("INSERT INTO posturecheck_schema(version) VALUES (%s)", (int(version),))

    def begin(self, conn: Any) -> None:
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))  # one writer at a time, as in SQLite

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def insert(self, conn: Any, query: str, params: Sequence[Any]) -> int:
        return int(conn.execute(query + " RETURNING id", params).fetchone()[0])

    def is_transient(self, exc: BaseException) -> bool:
        """Server down or restarting, connection lost, serialization or deadlock: worth waiting for."""
        pg = self._psycopg
        return isinstance(exc, (pg.OperationalError, pg.InterfaceError))

    def is_damaged(self, exc: BaseException) -> bool:
        return False  # the server looks after its own files

    def integrity_ok(self, conn: Any) -> bool:
        return conn.execute("SELECT 1").fetchone()[0] == 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


class HistoryStore:
    """The history: an SQLite file (default) or a PostgreSQL server (`url`). One per process; thread-safe.

    A PostgreSQL server that cannot be reached at open or later does not stop a session:
    it is kept in the local pending folder and written when the server answers again
    (reads raise `HistoryError` meanwhile, with a one-line message).
    """

    def __init__(self, path: str | Path | None = None, *, url: str | None = None,
                 save_budget_s: float = SAVE_BUDGET_S, pending_dir: str | Path | None = None) -> None:
        if url is None and is_url(path):
            url, path = str(path), None
        self.backend: _SQLite | _Postgres = (_Postgres(url) if url is not None
                                             else _SQLite(Path(path) if path is not None else default_db_path()))
        self.path = self.backend.path if isinstance(self.backend, _SQLite) else None
        self.url = url
        self.save_budget_s = float(save_budget_s)
        self.notice: tuple[str, str] | None = None  # (en, zh) when a damaged file was moved aside
        self.moved_to: Path | None = None
        self.offline: str | None = None  # why the PostgreSQL server is not answering now (None: it is)
        self._pending_dir = Path(pending_dir) if pending_dir is not None else self.backend.default_pending_dir()
        self._lock = threading.Lock()
        folder = self.path.parent if self.path is not None else self._pending_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot open the history database {self.where}: {exc}",
                               f"无法打开训练记录数据库 {self.where}：{exc}") from exc
        self._conn: Any = None
        self._flush_due = False
        if isinstance(self.backend, _Postgres):
            try:
                self._conn = self._open_checked()
            except self.backend.errors as exc:
                if not self.backend.is_transient(exc):
                    raise self._cannot_open(exc) from exc
                self._went_offline(exc)
        else:
            self._conn = self._open_checked()
        if self._conn is not None:
            self.flush_pending()

    @property
    def where(self) -> str:
        """Where the history lives: the file, or the server's URL without its password."""
        return self.backend.describe()

    @property
    def db_errors(self) -> tuple[type[BaseException], ...]:
        """The database driver's error classes (for callers that report a failed write)."""
        return self.backend.errors

    # ------------------------------------------------------------ opening
    def _connect(self) -> Any:
        try:
            return self.backend.connect()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history database {self.where}: {exc}",
                               f"无法打开训练记录数据库 {self.where}：{exc}") from exc

    def _open_checked(self) -> Any:
        """Connect, check, prepare and migrate; a damaged SQLite file is moved aside once."""
        deadline = time.monotonic() + OPEN_BUDGET_S
        attempt = 0
        moved = False
        while True:
            conn = self._connect()
            try:
                self.backend.prepare(conn)
                self._migrate(conn)
                return conn
            except HistoryError:
                conn.close()
                raise
            except self.backend.errors as exc:
                conn.close()
                if isinstance(self.backend, _Postgres):
                    raise
                if self.backend.is_transient(exc) and time.monotonic() < deadline:
                    time.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                if self.backend.is_damaged(exc) and not moved:
                    self._move_aside(str(exc))
                    moved = True
                    continue
                raise HistoryError(f"cannot open the history database {self.where}: {exc}",
                                   f"无法打开训练记录数据库 {self.where}：{exc}") from exc

    def _cannot_open(self, exc: BaseException) -> HistoryError:
        return HistoryError(f"cannot open the history database {self.where}: {_first_line(exc)}",
                            f"无法打开训练记录数据库 {self.where}：{_first_line(exc)}")

    def _went_offline(self, exc: BaseException) -> None:
        was_online, self.offline = self.offline is None, _first_line(exc)
        (logger.warning if was_online else logger.debug)(
            "history: the server %s is not answering (%s); sessions are kept in %s until it does",
            self.where, self.offline, self._pending_dir)
        if self._conn is not None:
            try:
                self._conn.close()
            except self.backend.errors:
                logger.debug("history: closing a broken connection failed", exc_info=True)
        self._conn = None

    def _unavailable(self) -> HistoryError:
        return HistoryError(f"the history server {self.where} is not answering ({self.offline}); finished sessions "
                            f"are kept in {self._pending_dir} and written when it answers again",
                            f"训练记录服务器 {self.where} 无响应（{self.offline}）；完成的成绩暂存在 {self._pending_dir}，"
                            "服务器恢复后会自动写入")

    def _live(self) -> Any:
        """The open connection; a PostgreSQL server that was away is tried again (caller holds the lock)."""
        if self._conn is not None:
            return self._conn
        try:
            self._conn = self._open_checked()
        except self.backend.errors as exc:
            if not self.backend.is_transient(exc):
                raise self._cannot_open(exc) from exc
            self._went_offline(exc)
            raise self._unavailable() from exc
        logger.info("history: the server %s answers again", self.where)
        self.offline = None
        self._flush_due = True  # what was kept while it was away goes in after this call (lock released)
        return self._conn

    def _move_aside(self, reason: str) -> None:
        """Rename a damaged SQLite database (and its WAL/SHM files) so a fresh one can start."""
        assert self.path is not None
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
            return self.backend.version(self._live())

    def _migrate(self, conn: Any) -> None:
        """Upgrade to SCHEMA_VERSION in one locked transaction that reads the version itself."""
        if self.backend.version(conn) == SCHEMA_VERSION:
            return  # the common case: no write lock needed
        self.backend.begin_migration(conn)
        try:
            current = self.backend.version(conn)
            if current > SCHEMA_VERSION:
                raise HistoryError(f"{self.where} was written by a newer posturecheck "
                                   f"(schema {current} > {SCHEMA_VERSION}); update posturecheck",
                                   f"{self.where} 由更新版本的 posturecheck 写入（结构版本 {current} > "
                                   f"{SCHEMA_VERSION}），请升级 posturecheck")
            for version in range(current, SCHEMA_VERSION):
                logger.info("history: migrating %s to schema %d", self.where, version + 1)
                for stmt in _statements(self.backend.migrations[version]):
                    conn.execute(stmt)
            self.backend.set_version(conn, SCHEMA_VERSION)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        """One write transaction: committed as a whole or rolled back."""
        with self._lock:
            conn = self._live()
            try:
                self.backend.begin(conn)
            except self.backend.errors as exc:
                self._forget_if_broken(exc)
                raise
            try:
                yield _Cursor(conn, self.backend)
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except self.backend.errors:
                    logger.debug("history: rollback failed", exc_info=True)
                self._forget_if_broken(exc)
                raise
            try:
                conn.execute("COMMIT")
            except self.backend.errors as exc:
                self._forget_if_broken(exc)
                raise

    def _forget_if_broken(self, exc: BaseException) -> None:
        """A PostgreSQL connection that failed with a connection error is dropped; the next use reconnects."""
        if isinstance(self.backend, _Postgres) and self.backend.is_transient(exc):
            self._went_offline(exc)

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one query; a server that stops answering becomes a one-line `HistoryError`.

        A server that answers again first gets the sessions kept while it was away.
        """
        with self._lock:
            self._live()
            flush, self._flush_due = self._flush_due, False
        if flush:
            self.flush_pending()
        with self._lock:
            conn = self._live()
            try:
                return conn.execute(self.backend.sql(query), tuple(params)).fetchall()
            except self.backend.errors as exc:
                if isinstance(self.backend, _Postgres) and self.backend.is_transient(exc):
                    self._went_offline(exc)
                    raise self._unavailable() from exc
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
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
            row = c.one("SELECT * FROM trainees WHERE lower(name) = lower(?)", (name,))
            if row is None:
                tid = c.insert("INSERT INTO trainees(name, created_at, note) VALUES (?, ?, ?)",
                               (name, time.time(), note))
                row = c.one("SELECT * FROM trainees WHERE id = ?", (tid,))
        return Trainee(row["id"], row["name"], row["created_at"], row["note"])

    def trainees(self) -> list[Trainee]:
        rows = self._read("SELECT * FROM trainees ORDER BY name")
        return [Trainee(r["id"], r["name"], r["created_at"], r["note"]) for r in rows]

    def delete_trainee(self, name: str) -> bool:
        """Delete a trainee and all their sessions."""
        with self._tx() as c:
            return c.run("DELETE FROM trainees WHERE lower(name) = lower(?)", (name,)) > 0

    # ------------------------------------------------------------ sessions
    def save_session(self, report: dict[str, Any], *, trainee: str | None, source: str,
                     drill: str | None = None, started_at: float | None = None,
                     video_path: str | None = None) -> int:
        """Store one finished session (its JSON report and per-rule results) in one transaction.

        The session is first kept in a pending file, then written with retries while
        another process holds the lock (or a PostgreSQL server is briefly away); raises
        `HistoryPending` (the session is safe on disk and written at the next open or
        save) when that does not succeed within `save_budget_s`, the server does not
        answer, or the database turns out to be damaged.
        """
        if source not in ("live", "upload", "kiosk"):
            raise ValueError("source must be live, upload or kiosk")
        entry = {"uid": uuid.uuid4().hex, "report": report, "trainee": trainee, "source": source, "drill": drill,
                 "started_at": started_at if started_at is not None else time.time(), "video_path": video_path}
        pending = self._write_pending(entry)
        try:
            sid = self._insert_retrying(entry)
        except HistoryError as exc:  # the server is not answering
            logger.warning("history: session kept pending in %s: %s", pending, exc)
            raise HistoryPending(pending, self.offline or str(exc)) from exc
        except self.backend.errors as exc:
            if self.backend.is_damaged(exc):
                self._recover_damaged(str(exc))  # a fresh database; pending sessions are written into it
                sid = self._sid_of(entry["uid"])
                if sid is not None:
                    return sid
            if self.backend.is_transient(exc) or self.backend.is_damaged(exc):
                logger.warning("history: session kept pending in %s: %s", pending, exc)
                raise HistoryPending(pending, _first_line(exc)) from exc
            pending.unlink(missing_ok=True)  # bad data, not bad luck: the caller hears of it
            raise
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        pending.unlink(missing_ok=True)
        self.flush_pending()
        return sid

    def _sid_of(self, uid: str) -> int | None:
        rows = self._read("SELECT id FROM sessions WHERE uid = ?", (uid,))
        return int(rows[0]["id"]) if rows else None

    def _insert_retrying(self, entry: dict[str, Any]) -> int:
        start = time.monotonic()
        deadline = start + self.save_budget_s
        away_deadline = start + min(self.save_budget_s, AWAY_BUDGET_S)
        attempt = 0
        while True:
            try:
                return self._insert(entry)
            except self.backend.errors as exc:
                if not self.backend.is_transient(exc) or time.monotonic() + _backoff(attempt) > deadline:
                    raise
                logger.info("history: database busy or away (%s); retrying", _first_line(exc))
            except HistoryError:  # a PostgreSQL server that is not answering: a restart is waited out, briefly
                if time.monotonic() + _backoff(attempt) > away_deadline:
                    raise
            time.sleep(_backoff(attempt))
            attempt += 1

    def _insert(self, entry: dict[str, Any]) -> int:
        """One session in one transaction; a session already stored (same uid) is not stored twice."""
        report = entry["report"]
        trainee = entry.get("trainee")
        name = " ".join(trainee.split()) if trainee else ""
        payload = json.dumps(report, ensure_ascii=False)
        with self._tx() as c:
            row = c.one("SELECT id FROM sessions WHERE uid = ?", (entry["uid"],))
            if row is not None:
                return int(row["id"])
            trainee_id = None
            if name:
                row = c.one("SELECT id FROM trainees WHERE lower(name) = lower(?)", (name,))
                trainee_id = row["id"] if row else c.insert(
                    "INSERT INTO trainees(name, created_at) VALUES (?, ?)", (name, time.time()))
            sid = c.insert(
                "INSERT INTO sessions(trainee_id, started_at, source, drill, activity, score, duration_s, frames,"
                " report_json, video_path, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (trainee_id, entry["started_at"], entry["source"], entry.get("drill"),
                 report.get("activity"), report.get("score"), report.get("duration_s"),
                 report.get("frames_analyzed"), payload, entry.get("video_path"), entry["uid"]))
            c.many(
                "INSERT INTO rule_results(session_id, rule_id, status, value, fail_fraction) VALUES (?, ?, ?, ?, ?)",
                [(sid, r["id"], r["status"], r.get("value") if isinstance(r.get("value"), (int, float)) else None,
                  r.get("fail_fraction")) for r in report.get("rules", [])])
        return sid

    # ------------------------------------------------------------ pending sessions
    @property
    def pending_dir(self) -> Path:
        """Sessions not yet in the database, on this computer (beside an SQLite file; per server otherwise)."""
        return self._pending_dir

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
            except self.backend.integrity_errors as exc:
                logger.warning("history: pending session %s rejected (%s); renamed .rejected", path, exc)
                os.replace(path, path.with_suffix(".rejected"))
                continue
            except (HistoryError, *self.backend.errors) as exc:
                logger.info("history: pending sessions stay pending (%s)", _first_line(exc))
                break
            path.unlink(missing_ok=True)
            written += 1
        if written:
            logger.info("history: wrote %d pending session(s)", written)
        return written

    def _recover_damaged(self, reason: str) -> None:
        """The open SQLite database turned out damaged mid-run: move it aside and start afresh."""
        with self._lock:
            self._conn.close()
            self._move_aside(reason)
            self._conn = self._open_checked()
        self.flush_pending()

    def sessions(self, trainee: str | None = None, limit: int | None = None) -> list[SessionRow]:
        """Sessions, newest first (of one trainee when given)."""
        sql = ("SELECT s.*, t.name AS trainee FROM sessions s LEFT JOIN trainees t ON t.id = s.trainee_id"
               + (" WHERE lower(t.name) = lower(?)" if trainee else "") + " ORDER BY s.started_at DESC, s.id DESC"
               + (f" LIMIT {int(limit)}" if limit else ""))
        rows = self._read(sql, (trainee,) if trainee else ())
        return [SessionRow(r["id"], r["trainee"], r["started_at"], r["source"], r["drill"], r["activity"],
                           r["score"], r["duration_s"], r["frames"], r["video_path"]) for r in rows]

    def report(self, session_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT report_json FROM sessions WHERE id = ?", (session_id,))
        return json.loads(rows[0]["report_json"]) if rows else None

    def delete_session(self, session_id: int) -> bool:
        with self._tx() as c:
            return c.run("DELETE FROM sessions WHERE id = ?", (session_id,)) > 0

    def rule_trends(self, trainee: str | None = None) -> list[RuleTrendPoint]:
        """Per-rule results over time (oldest first), for trend plots."""
        sql = ("SELECT s.id, s.started_at, r.rule_id, r.status, r.fail_fraction FROM rule_results r"
               " JOIN sessions s ON s.id = r.session_id LEFT JOIN trainees t ON t.id = s.trainee_id"
               + (" WHERE lower(t.name) = lower(?)" if trainee else "") + " ORDER BY s.started_at, s.id, r.rule_id")
        rows = self._read(sql, (trainee,) if trainee else ())
        return [RuleTrendPoint(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    # ------------------------------------------------------------ export
    CSV_COLUMNS: tuple[str, ...] = ("session_id", "trainee", "started_at", "source", "drill", "activity",
                                    "score", "duration_s", "rule_id", "status", "value", "fail_fraction")

    def export_csv(self, trainee: str | None = None) -> str:
        """One row per session and rule (UTF-8 text; spreadsheet-friendly ISO times)."""
        sql = ("SELECT s.id, t.name, s.started_at, s.source, s.drill, s.activity, s.score, s.duration_s,"
               " r.rule_id, r.status, r.value, r.fail_fraction FROM sessions s"
               " LEFT JOIN trainees t ON t.id = s.trainee_id LEFT JOIN rule_results r ON r.session_id = s.id"
               + (" WHERE lower(t.name) = lower(?)" if trainee else "") + " ORDER BY s.started_at, s.id, r.rule_id")
        rows = self._read(sql, (trainee,) if trainee else ())
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
            return self.backend.integrity_ok(self._live())


class _Cursor:
    """The statements of one write transaction, in portable SQL (`?` placeholders)."""

    def __init__(self, conn: Any, backend: _SQLite | _Postgres) -> None:
        self._conn = conn
        self._backend = backend

    def one(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._backend.sql(query), tuple(params)).fetchone()

    def run(self, query: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; how many rows it changed."""
        return self._conn.execute(self._backend.sql(query), tuple(params)).rowcount

    def insert(self, query: str, params: Sequence[Any]) -> int:
        """Run an INSERT; the new row's id."""
        return self._backend.insert(self._conn, self._backend.sql(query), tuple(params))

    def many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.cursor().executemany(self._backend.sql(query), rows)


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
