"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Needs /usr/bin/chromium (``apt-get install -y chromium``; ``.ci/run`` installs it) and the front-end packages in
node_modules (``npm ci``, run by ``bin/setup``; run here if they are missing). Never ``playwright install``: its
download does not work on these machines. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
FRONT_END_FILES = (
    "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css",
    "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js",
    "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css",
    "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js",
)


def _front_end_ready() -> bool:
    return all((ROOT / f).is_file() for f in FRONT_END_FILES)


def ensure_front_end() -> None:
    """The GOV.UK and MOJ assets are served from node_modules: install them if missing, else fail loudly."""
    if _front_end_ready():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "BROWSER TESTS CANNOT RUN: node_modules is missing and npm is not installed. "
            "Install Node.js and npm (Debian: apt-get install -y nodejs npm), then run bin/setup (npm ci).",
            pytrace=False,
        )
    command = [npm, "ci" if (ROOT / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0 or not _front_end_ready():
        pytest.fail(
            f"BROWSER TESTS CANNOT RUN: `{' '.join(command)}` failed:\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Chromium (Debian's, never a downloaded one), started for each test after the test database
    is ready: Playwright's sync API runs an event loop, and Django's per-context connection handling must not
    see it while pytest-django restores the database (serialized rollback) before the test."""
    if not CHROMIUM.exists():
        pytest.fail(
            "BROWSER TESTS CANNOT RUN: /usr/bin/chromium is missing. Install Debian's Chromium as root: "
            "apt-get install -y chromium (.ci/run does this).",
            pytrace=False,
        )
    ensure_front_end()
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread with a
    # running loop unless told that this is safe (it is here: the test and the live server use their own
    # connections). Set for the browser tests only, so the check stays on everywhere else.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django hands this context its own database connection (asgiref's
            # context-local connections); close it here, or the test database cannot be dropped at the end.
            connections.close_all()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
