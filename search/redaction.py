"""Hiding credentials in URLs before they reach a message, a log, a parameter or a terminal.

One function for every store URL the platform shows: Optuna storages (SQLAlchemy URLs) and MLflow
tracking URIs (``http(s)://``, ``postgresql://``, ``sqlite:///``).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"


def redact_url(url: str) -> str:
    """``url`` with any password (``user:PASSWORD@host``) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can parse: hide everything after the scheme's user part
        return url
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def redact_text(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with ``url``'s password replaced by ``***``."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    return text.replace(password, REDACTED) if password else text
