"""A throwaway PostgreSQL primary and a streaming replica of it, for test_replica.py (issue 8 part 4).

`replica_pair()` starts both in one temporary directory (like scripts/with-postgres.sh: initdb as the `postgres` system
user when run as root, trust auth, 127.0.0.1 only plus a private socket directory, fsync off), clones the replica with
`pg_basebackup -R`, waits until it streams, and at the end stops both and deletes the directory — also when the body
fails. Every step has a time limit, so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STEP_TIMEOUT = 60  # seconds for any one command (initdb, basebackup, a start)
READY_TIMEOUT = 30  # seconds for the replica to stream


class PairError(RuntimeError):
    pass


def bindir() -> Path | None:
    """Where initdb and friends live (PG_BINDIR, else Debian's PostgreSQL 15, else the newest Debian major)."""
    candidates = [os.environ.get("PG_BINDIR", ""), "/usr/lib/postgresql/15/bin"]
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_basebackup").is_file():
            return Path(c)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Pair:
    root: Path
    primary_port: int
    replica_port: int
    bin: Path
    sock: Path

    def url(self, port: int, user: str = "linli") -> str:
        return f"postgres://{user}@127.0.0.1:{port}/linli"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def admin_url(self, port: int) -> str:
        """Superuser URL (pausing replay needs it)."""
        return self.url(port, "postgres")

    def sql(self, port: int, query: str, db: str = "postgres") -> str:
        psql = [str(self.bin / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock)]
        out = _run(self, [*psql, "-p", str(port), "-U", "postgres", "-d", db, "-c", query])
        return out.strip()


def _run(pair: Pair, cmd: list[str], timeout: float = STEP_TIMEOUT) -> str:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    try:
        done = subprocess.run(cmd, cwd=pair.root, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise PairError(f"{cmd[-1] if cmd else cmd}: no answer in {timeout} s") from e
    if done.returncode != 0:
        raise PairError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _start(pair: Pair, data: Path, port: int) -> None:
    opts = f"-p {port} -k {pair.sock} -c listen_addresses=127.0.0.1"
    log = data.parent / f"{data.name}.log"
    try:
        _run(pair, [str(pair.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "start", "-o", opts])
    except PairError as e:
        raise PairError(f"{e}\n{log.read_text() if log.exists() else ''}") from None


def _stop(pair: Pair, data: Path) -> None:
    if (data / "postmaster.pid").exists():
        # the directory goes anyway; a server that will not stop shows up as the failure of its own test
        with contextlib.suppress(PairError):
            _run(pair, [str(pair.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "20", "stop"], 30)


def _wait(what: str, check: object, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except PairError as e:
            last = e
        time.sleep(0.2)
    raise PairError(f"timed out after {timeout} s waiting for {what}" + (f": {last}" if last else ""))


@contextmanager
def replica_pair() -> Iterator[Pair]:
    found = bindir()
    if found is None:
        raise PairError("no PostgreSQL server binaries (apt-get install postgresql-15)")
    root = Path(tempfile.mkdtemp(prefix="linli-replica."))
    pair = Pair(root=root, primary_port=free_port(), replica_port=free_port(), bin=found, sock=root / "sock")
    primary, replica = root / "primary", root / "replica"
    try:
        pair.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(pair.sock, "postgres", "postgres")
        root.chmod(0o700)
        initdb = [str(found / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        try:
            _run(pair, [*initdb, "--locale=C.UTF-8"])
        except PairError:
            shutil.rmtree(primary, ignore_errors=True)
            _run(pair, [*initdb, "--locale=C"])
        with (primary / "postgresql.conf").open("a") as conf:
            # a throwaway pair needs no durability; the replica needs WAL to stream and may be paused by the probe
            conf.write(
                "\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\n"
            )
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        _start(pair, primary, pair.primary_port)
        pair.sql(pair.primary_port, "CREATE ROLE linli LOGIN CREATEDB")
        pair.sql(pair.primary_port, "CREATE DATABASE linli OWNER linli ENCODING 'UTF8'")
        source = ["-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres"]
        _run(
            pair, [str(found / "pg_basebackup"), *source, "-D", str(replica), "-R", "-X", "stream", "--checkpoint=fast"]
        )
        _start(pair, replica, pair.replica_port)
        _wait("the replica to be in recovery", lambda: pair.sql(pair.replica_port, "SELECT pg_is_in_recovery()") == "t")
        _wait(
            "the primary to stream to the replica",
            lambda: (
                pair.sql(pair.primary_port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"
            ),
        )
        yield pair
    finally:
        _stop(pair, replica)
        _stop(pair, primary)
        shutil.rmtree(root, ignore_errors=True)
