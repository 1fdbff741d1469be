"""Real processes for the fault tests: a private redis-server, a mail server on loopback that can be made to
hang at a chosen point of the SMTP conversation, a webhook receiver, Celery workers and gunicorn, all started
by the test, on free loopback ports, and stopped by their own process ids. Nothing here touches the machine's
shared PostgreSQL or Redis: subprocesses get the test database's URL and the private broker's URL explicitly."""

from __future__ import annotations

import asyncio
import email
import email.policy
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], seconds: float, what: str, interval: float = 0.1) -> object:
    """Poll ``check`` until it returns something truthy; fail the test with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
        time.sleep(interval)


def db_url() -> str:
    """The URL of the test database pytest-django made (subprocesses work on the same rows)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def base_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess of the app: the test database, never the shared broker. DJANGO_DEBUG=1 only
    so that pages render without a collectstatic manifest (the checked-out tree has none)."""
    env = dict(os.environ, DATABASE_URL=db_url(), JJP_LOCAL_RUN="1", DJANGO_DEBUG="1")
    env.update(CELERY_BROKER_URL="memory://", CELERY_TASK_ALWAYS_EAGER="0", PYTHONUNBUFFERED="1")
    env.pop("JJP_TEST_DATABASE_NAME", None)
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """Stop a process this test started: SIGTERM, then SIGKILL if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


# -- Redis ---------------------------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server without persistence: stopping it loses what it held, as a crash would."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 11) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(self.ping, 10, f"redis-server on port {self.port}")
        except BaseException:
            self.stop()
            raise

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def queue_length(self, db: int = 11, queue: str = "celery") -> int:
        import redis

        client = redis.Redis.from_url(self.url(db))
        try:
            return int(client.llen(queue))
        finally:
            client.close()

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def send_task(broker_url: str, name: str, *args: object) -> None:
    """Queue a task on the private broker (a client app of its own: the test process's Celery app is
    configured for the shared broker and is never used here)."""
    from celery import Celery

    app = Celery("faults-client", broker=broker_url, set_as_current=False)
    app.conf.task_serializer = "json"
    try:
        app.send_task(name, args=list(args))
    finally:
        app.close()


# -- a mail server that can hang -----------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping every message it accepts. ``hold`` makes the next conversation stop at a point
    until ``release`` is set: ``"mail"`` (before the message is sent at all) or ``"after_store"`` (the message
    has been received and kept, but the final ``250`` is not yet answered: the server has taken the message
    while the client does not know it)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.hold: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def _wait_for_release(self) -> None:
        self.hold = None
        self.held.set()
        deadline = time.monotonic() + 60
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd hook
        if self.hold == "mail":
            await self._wait_for_release()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(msg)
        if self.hold == "after_store":
            await self._wait_for_release()
        return "250 Message accepted for delivery"

    def alert_ids(self) -> list[int]:
        with self.lock:
            return sorted(int(m["X-JJP-Alert"]) for m in self.messages)


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.inbox.release.set()
        self.controller.stop()


# -- a webhook receiver --------------------------------------------------------------------------------------


class WebhookReceiver:
    """An HTTP server on loopback that answers 200 to every POST and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(body or b"{}"),
                    }
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def keys(self) -> list[str]:
        return sorted(str(r["headers"].get("x-jjp-delivery")) for r in self.received)


# -- Celery workers and gunicorn -----------------------------------------------------------------------------


class Worker:
    """``celery -A jjp worker --pool solo``: one process, so SIGKILL to its pid kills the task it is running."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                PY,
                "-m",
                "celery",
                "-A",
                "jjp",
                "worker",
                "--pool",
                "solo",
                "-l",
                "info",
                "-n",
                f"{self.name}@faults",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: " ready." in self.text() or self.proc.poll() is not None, 60, f"worker {self.name}"
            )
            assert self.proc.poll() is None, self.text()
        except BaseException:
            self.stop()
            raise
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def succeeded(self, task: str) -> int:
        return sum(1 for line in self.text().splitlines() if f"Task {task}[" in line and "succeeded" in line)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no cleanup, as when the machine or the OOM killer ends it."""
        assert self.proc is not None and self.proc.poll() is None, "the worker is not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, log_dir: Path, timeout: int = 30) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.timeout = timeout
        self.log = log_dir / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                PY,
                "-m",
                "gunicorn",
                "jjp.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                str(self.timeout),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=dict(self.env, DJANGO_SETTINGS_MODULE="jjp.settings"),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                return requests.get(self.base + "/api/v1/", timeout=10).status_code > 0  # any answer
            except requests.RequestException:
                return False

        try:
            wait_until(up, 60, "gunicorn")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
