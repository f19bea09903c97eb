"""A two-statement transaction on PostgreSQL in two round trips, straight through libpq (decision 0018).

The lone award (`services.award` outside any transaction) is BEGIN, an UPDATE whose answer the INSERT needs (the
balance after goes into the row hash), the INSERT and COMMIT. Sent one by one through psycopg's cursor that is four
round trips and most of the award's client CPU; here BEGIN + the UPDATE travel in one libpq pipeline and the INSERT +
COMMIT in another, as server-side prepared statements, their values in text form — the award's whole conversation
with the server in two round trips and a handful of C calls.

What Django does around a cursor's execute still happens: the connection's health check and thread check, its
execute wrappers (each statement is one round trip: the wrapper's `execute` runs it), the query log when queries are
logged, and errors raised as Django's (`IntegrityError` …) with nothing kept.

The statements are prepared on a connection the first time it needs them. An operator's `DEALLOCATE ALL`, a pooler's
`DISCARD ALL` or a migration may remove or outdate them: an EXECUTE that finds its statement gone (or its result type
changed) rolls back, prepares both again and runs once more.
"""

from __future__ import annotations

import hashlib
import logging
import re
import select
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import psycopg
from psycopg import OperationalError, errors, pq

logger = logging.getLogger("django.db.backends")

# what the server says when a prepared statement is gone, when its result type changed under it (a migration altered
# the table), when one of that name is already there (SQLSTATE)
_GONE, _STALE, _THERE = "26000", "0A000", "42P05"
_COMMAND_OK, _TUPLES_OK = pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement this module prepares on a connection; build it with `statement(sql)`."""

    sql: str  # with Django's %s placeholders: what execute wrappers and the query log see
    name: bytes  # on the server; from the text, so a name found there is always this statement
    numbered: bytes  # the text with $1, $2 … as the server takes it


def statement(sql: str) -> Statement:
    count = iter(range(1, 10_000))
    numbered = re.sub(r"%s", lambda _m: f"${next(count)}", sql)  # our SQL holds no other % sign
    return Statement(
        sql, b"linli_" + hashlib.blake2s(sql.encode(), digest_size=8).hexdigest().encode(), numbered.encode()
    )


_PIPELINES = psycopg.Pipeline.is_supported()  # libpq 14 or later

# per psycopg connection: the names prepared on it (forgotten with the connection)
_prepared: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()


def usable(db: Any) -> bool:
    """Whether this Django connection can take the two-round-trip path: PostgreSQL in autocommit with no transaction
    open, server-side prepared statements allowed (LINLI_PG_PREPARE_THRESHOLD is not `off`: a pooler in transaction
    mode cannot keep them), a libpq with pipeline mode, and UTF-8 on the wire."""
    if db.vendor != "postgresql" or not db.get_autocommit() or db.in_atomic_block:
        return False
    raw = db.connection
    return raw is not None and raw.prepare_threshold is not None and raw.info.encoding == "utf-8" and _PIPELINES


def text(value: Any) -> bytes | None:
    """A parameter's text form, as the server reads it for the column's type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int):
        return str(int(value)).encode()
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat().encode()
    raise TypeError(f"no text form for {type(value).__name__} here")


def update_then_insert(
    db: Any,
    first: Statement,
    first_params: Sequence[Any],
    second: Statement,
    then: Callable[[tuple[Any, ...] | None], tuple[Any, ...] | None],
) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """BEGIN and `first` in one round trip; `then(first's first row, or None when it returned none)` gives `second`'s
    parameters, or None to roll back and return None; `second` and COMMIT in the other round trip. Returns `second`'s
    parameters and its first row. A database error is raised as Django raises it, after the transaction is rolled
    back; if even that fails the connection is closed (the server then drops what it held)."""
    db.close_if_health_check_failed()  # what Django does before any cursor (CONN_HEALTH_CHECKS)
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    try:
        with db.wrap_database_errors:
            return _both_rounds(db, raw, first, first_params, second, then)
    except BaseException:
        _abandon(db, raw)
        raise


def _both_rounds(
    db: Any,
    raw: Any,
    first: Statement,
    first_params: Sequence[Any],
    second: Statement,
    then: Callable[[tuple[Any, ...] | None], tuple[Any, ...] | None],
) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    found = _first_round(db, raw, first, first_params, second)
    params = then(found)
    if params is None:
        _roll_back(db, raw)
        return None
    values = [text(v) for v in params]
    (stored, committed) = _observed(
        db, second.sql, params, lambda: _round_trip(raw, [(second.name, values), (b"COMMIT", None)])
    )
    if stored.status != _TUPLES_OK:
        _roll_back(db, raw)
        _raise(db, raw, stored)
    if committed.status != _COMMAND_OK:  # the deferred foreign keys are checked at COMMIT, which then ends it
        _raise(db, raw, committed)
    return params, _row(stored)


def _first_round(
    db: Any, raw: Any, first: Statement, params: Sequence[Any], second: Statement
) -> tuple[Any, ...] | None:
    values = [text(v) for v in params]
    names = _prepared.setdefault(raw, set())
    for attempt in (1, 2):
        if not {first.name, second.name} <= names:
            _prepare(db, raw, [first, second])
            names.update((first.name, second.name))
        (began, answer) = _observed(
            db, first.sql, params, lambda: _round_trip(raw, [(b"BEGIN", None), (first.name, values)])
        )
        if began.status != _COMMAND_OK:
            _roll_back(db, raw)
            _raise(db, raw, began)
        if answer.status == _TUPLES_OK:
            return _row(answer) if answer.ntuples else None
        _roll_back(db, raw)
        if attempt == 1 and _sqlstate(answer) in {_GONE, _STALE}:
            names.clear()  # deallocated behind our back, or stale: prepare again and run once more
            if _sqlstate(answer) == _STALE:
                for st in (first, second):
                    raw.pgconn.exec_(b"DEALLOCATE " + st.name)
            continue
        _raise(db, raw, answer)
    raise AssertionError("unreachable")  # pragma: no cover


def _prepare(db: Any, raw: Any, statements: Sequence[Statement]) -> None:
    """Prepare the statements (once per connection); one already there under the same name, so the same text, is
    kept."""
    for st in statements:
        result = raw.pgconn.prepare(st.name, st.numbered, None)
        if result.status != _COMMAND_OK and _sqlstate(result) != _THERE:
            _raise(db, raw, result)


def _round_trip(raw: Any, commands: Sequence[tuple[bytes, list[bytes | None] | None]]) -> list[Any]:
    """Send each command — a prepared statement's name with its parameters, or a bare command with None — in one
    pipeline and return their results in order (a command after a failed one answers PIPELINE_ABORTED). If reading
    fails the pipeline is left open: the caller closes the connection."""
    pg = raw.pgconn
    pg.enter_pipeline_mode()
    for command, values in commands:
        if values is None:
            pg.send_query_params(command, None)
        else:
            pg.send_query_prepared(command, values)
    results = _sync_and_collect(pg)
    pg.exit_pipeline_mode()
    return results


def _sync_and_collect(pg: Any) -> list[Any]:
    """End the pipeline with a Sync and read every result up to it. The waits are poll() calls, which let other Python
    threads run (libpq's own blocking wait in PQgetResult would hold the GIL for the whole round trip)."""
    fd = pg.socket
    pg.pipeline_sync()
    while pg.flush():  # a nonblocking connection: the rest of our messages once the socket takes them
        if _wait(fd, writing=True):
            pg.consume_input()
    results: list[Any] = []
    while True:
        while pg.is_busy():
            _wait(fd)
            pg.consume_input()
        result = pg.get_result()
        if result is None:  # the end of one command's results
            if pg.status != pq.ConnStatus.OK:
                raise OperationalError(pg.get_error_message() or "the connection to the server was lost")
            continue
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)
        if result.status == pq.ExecStatus.FATAL_ERROR and pg.status != pq.ConnStatus.OK:
            raise OperationalError(result.get_error_message() or "the connection to the server was lost")


def _wait(fd: int, *, writing: bool = False) -> bool:
    """Block until the socket can be read (or, writing, until it can be written or read); True when readable. poll()
    where there is one: select() cannot take a descriptor above 1023, which a busy server process can have."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        readable, _w, _x = select.select([fd], [fd] if writing else [], [])
        return bool(readable)
    poller = select.poll()
    poller.register(fd, select.POLLIN | (select.POLLOUT if writing else 0))
    return any(events & (select.POLLIN | select.POLLHUP | select.POLLERR) for _fd, events in poller.poll())


def _observed(db: Any, sql: str, params: Sequence[Any], run: Callable[[], list[Any]]) -> list[Any]:
    """Run one round trip as Django runs a cursor's execute: through the connection's execute wrappers (their
    context has no cursor) and into the query log when queries are logged."""

    def execute(_sql: str, _params: Any, _many: bool, _context: dict[str, Any]) -> list[Any]:
        return run()

    executor: Callable[..., list[Any]] = execute
    for wrapper in reversed(db.execute_wrappers):
        executor = _bind(wrapper, executor)
    if not db.queries_logged:
        return executor(sql, params, False, {"connection": db, "cursor": None})
    start = time.monotonic()
    try:
        return executor(sql, params, False, {"connection": db, "cursor": None})
    finally:
        duration = time.monotonic() - start
        shown = _shown(db, sql, params)
        db.queries_log.append({"sql": shown, "time": f"{duration:.3f}"})
        logger.debug(
            "(%.3f) %s; args=%s; alias=%s", duration, shown, params, db.alias,
            extra={"duration": duration, "sql": shown, "params": params, "alias": db.alias},
        )  # fmt: skip


def _shown(db: Any, sql: str, params: Sequence[Any]) -> str:
    """The statement with its values, as Django logs a statement it sent with server-side binding."""
    from django.db import DataError

    try:
        return str(db.ops.compose_sql(sql, params))
    except DataError:
        return sql


def _bind(wrapper: Callable[..., Any], executor: Callable[..., Any]) -> Callable[..., Any]:
    def call(sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        return wrapper(executor, sql, params, many, context)

    return call


def _row(result: Any) -> tuple[Any, ...]:
    """The first row of a text-format result, integers as int."""
    values: list[Any] = []
    for col in range(result.nfields):
        value = result.get_value(0, col)
        if value is None:
            values.append(None)
        elif result.ftype(col) in _INTEGER_TYPES:
            values.append(int(value))
        else:
            values.append(value.decode())
    return tuple(values)


_INTEGER_TYPES = {20, 21, 23}  # int8, int2, int4


def _sqlstate(result: Any) -> str:
    return (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()


def _raise(db: Any, raw: Any, result: Any) -> NoReturn:
    """Raise the server's error as Django raises it (IntegrityError, OperationalError …)."""
    with db.wrap_database_errors:
        raise errors.error_from_result(result, encoding=raw.info.encoding)


def _roll_back(db: Any, raw: Any) -> None:
    """End a transaction this module began (a no-op if a failed COMMIT already ended it)."""
    if raw.pgconn.transaction_status == pq.TransactionStatus.IDLE:
        return
    result = raw.pgconn.exec_(b"ROLLBACK")
    if result.status != pq.ExecStatus.COMMAND_OK:
        _raise(db, raw, result)


def _abandon(db: Any, raw: Any) -> None:
    """After any failure: leave the connection idle, or close it (the server rolls back what it still holds and
    Django opens a new one on next use)."""
    pg = raw.pgconn
    try:
        if pg.pipeline_status != pq.PipelineStatus.OFF:
            pg.exit_pipeline_mode()  # fails while results are still due: then the connection goes
        _roll_back(db, raw)
    except Exception:  # the caller raises what went wrong first
        db.close()
