"""Database sessions that refuse malformed keys before any query (a cookie with a NUL once caused a 500)."""

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore


class SessionStore(DbSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and bool(key) and key.isalnum()
