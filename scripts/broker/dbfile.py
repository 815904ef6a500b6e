"""Opening the broker's SQLite file: one broker per file, a file that is whole, a schema this broker reads.

Whatever goes wrong (a missing or read-only directory, a read-only or garbage file, a corrupt page,
another broker on the file, a lock held too long) ends in one `StorageError` line naming the file and
what to do, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .schema import SchemaError, prepare

try:
    import fcntl
except ImportError:  # Windows: no flock; the single-broker guard is then SQLite's own locking only
    fcntl = None  # type: ignore[assignment]


@dataclass
class OpenedDatabase:
    connection: sqlite3.Connection
    file_lock: IO[bytes] | None
    note: str | None  # what opening did that the operator should hear (an upgrade), else None


def open_database(path: str, busy_timeout: float, *, exclusive: bool) -> OpenedDatabase:
    from .store import StorageError

    if path == ":memory:":
        connection = _connect(path, busy_timeout)
        prepare(connection)
        connection.execute("PRAGMA foreign_keys = ON")
        return OpenedDatabase(connection, None, None)
    file_lock = None
    connection = None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        file_lock = _claim(path) if exclusive else None
        connection = _connect(path, busy_timeout)
        # quick_check reads every page (not the cross-checks of integrity_check): it finds a torn or
        # overwritten file in a fraction of the time, so a large history still starts in a second.
        verdict = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if verdict != ["ok"]:
            raise StorageError(f"database {path} is corrupt ({verdict[0][:120]}); restore it from a backup or "
                               f"move it away to start afresh")
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL under WAL survives a killed process; only a power cut can lose the last commits.
        connection.execute("PRAGMA synchronous=NORMAL")
        note = prepare(connection)
        connection.execute("PRAGMA foreign_keys = ON")
        # A write at once: a read-only file or directory is refused at start, not on the first order.
        connection.execute("INSERT INTO meta (key, value) VALUES ('opened_by', 'paper broker') "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        return OpenedDatabase(connection, file_lock, note)
    except StorageError:
        _close(connection, file_lock)
        raise
    except SchemaError as error:
        _close(connection, file_lock)
        raise StorageError(f"database {path} cannot be used: {error}; move it away to start afresh") from None
    except (sqlite3.Error, OSError) as error:
        _close(connection, file_lock)
        raise StorageError(f"database {path} cannot be used: {_reason(error)}") from None


def _connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE), never implicit.
    return sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)


def _claim(path: str) -> IO[bytes] | None:
    """Hold `<path>.lock` exclusively for the broker's life: a second broker on the file refuses to start."""
    from .store import StorageError

    if fcntl is None:
        return None
    lock = open(path + ".lock", "ab")  # noqa: SIM115 (held open for the broker's life; closed in Store.close)
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StorageError(f"database {path} is in use by another broker (it holds {path}.lock); stop that one "
                           f"first or give this one another --db") from None
    with contextlib.suppress(OSError):
        os.ftruncate(lock.fileno(), 0)
        os.write(lock.fileno(), f"{os.getpid()}\n".encode())
    return lock


def _close(connection: sqlite3.Connection | None, file_lock: IO[bytes] | None) -> None:
    if connection is not None:
        connection.close()
    if file_lock is not None:
        file_lock.close()


def _reason(error: BaseException) -> str:
    """What went wrong, in words an operator acts on."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, sqlite3.OperationalError) and "locked" in text:
        return "another process holds a lock on it; stop that process, or try again"
    if isinstance(error, sqlite3.DatabaseError) and "malformed" in text:
        return f"it is corrupt ({text}); restore it from a backup or move it away to start afresh"
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return "it is not an SQLite database (garbage or another kind of file); move it away to start afresh"
    if "readonly" in text or isinstance(error, PermissionError):
        return f"it is read-only ({text}); give the broker a writable file and directory"
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"cannot create or open{where}: {error.strerror or text}"
    if "unable to open" in text:
        return f"{text} (is the directory writable?)"
    return text
