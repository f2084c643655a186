"""Hiding credentials in URLs before they reach a message, a log, a parameter, an artifact or a terminal.

One module for every store URL the platform shows or records: Optuna storages (SQLAlchemy URLs) and MLflow
tracking URIs (``http(s)://``, ``postgresql://``, ``sqlite:///``). What counts as a secret:

- the password of ``user:PASSWORD@host`` (and, for web URLs, a user name without a password, the way access
  tokens are passed: ``https://TOKEN@host``);
- the value of a query or fragment parameter whose name looks like a credential (``password``, ``pwd``,
  ``token``, ``access_token``, ``api_key``, ``secret``, ``sslpassword``, ``sig``, ...);
- anything in a URL that cannot be parsed: such a URL is shown as its scheme and ``***`` only, never as given.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

REDACTED = "***"
SECRET_NAME_PARTS = ("pass", "pwd", "token", "secret", "key", "sig", "auth", "credential", "session",
                     "cookie", "bearer")
"""A query parameter whose lower-cased name contains one of these holds a secret (``api_key``,
``sslpassword``, ``X-Amz-Signature``, ``client_secret``...)."""
WEB_SCHEMES = ("http", "https", "databricks")
"""Schemes whose user name alone may be a token (``https://TOKEN@host``)."""
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_PARAM_SEPARATORS = re.compile(r"([&;])")


def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***``; the scheme and ``***`` when it cannot be parsed.

    Examples:
        ``postgresql://fer:S3cret@db/fer`` -> ``postgresql://fer:***@db/fer``;
        ``postgresql://db/fer?user=fer&password=S3cret`` -> ``postgresql://db/fer?user=fer&password=***``.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port, parts.password  # raise ValueError on a malformed netloc
    except ValueError:
        return _unparsable(url)
    if parts.netloc and _ambiguous(parts.path, parts.query, parts.fragment):
        return _unparsable(url)
    if not parts.scheme:
        return url if not _may_hold_secret(url) else _unparsable(url)
    netloc = _redacted_netloc(parts.scheme, parts.netloc)
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}" if "://" in url else f"{parts.scheme}:{netloc}{parts.path}"
    if parts.query or url.endswith("?"):
        rebuilt += f"?{_redacted_params(parts.query)}"
    if parts.fragment:
        rebuilt += f"#{_redacted_params(parts.fragment)}"
    return rebuilt


def url_secrets(url: str) -> list[str]:
    """Every secret ``redact_url`` hides in ``url``, as written and percent-decoded (longest first)."""
    found = {form for secret in _raw_secrets(url) if secret for form in (secret, unquote(secret))}
    return sorted(found, key=len, reverse=True)


def _raw_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        _ = parts.port, parts.password
    except ValueError:
        return [url.split("://", 1)[-1]]
    if parts.netloc and _ambiguous(parts.path, parts.query, parts.fragment):
        return [url.split("://", 1)[-1].rpartition("@")[0]]
    raw = [_userinfo_secret(parts.scheme, parts.netloc)]
    for params in (parts.query, parts.fragment):
        raw += [value for name, value in _params(params) if _is_secret_name(name)]
    return raw


def redact_text(text: str, *urls: str) -> str:
    """``text`` (a message, often an exception's about ``urls``) with no secret of ``urls`` left in it.

    Each URL found in the text is redacted as ``redact_url`` does, and every secret of ``urls`` is replaced
    wherever it appears (drivers echo parts of a connection string in their own words).
    """
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    for url in urls:
        for secret in url_secrets(url):
            text = text.replace(secret, REDACTED)
    return text


def secret_flags_to_env(argv: list[str], flags: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """``argv`` without the flags in ``flags`` (``--flag VALUE`` or ``--flag=VALUE``), and their values keyed
    by the environment variable each maps to: a child process gets them in its environment (readable by its
    user only), not on its command line (readable by every local user)."""
    kept: list[str] = []
    env: dict[str, str] = {}
    tokens = iter(argv)
    for token in tokens:
        name, equals, value = token.partition("=")
        if name in flags and equals:
            env[flags[name]] = value
        elif token in flags:
            env[flags[token]] = next(tokens, "")
        else:
            kept.append(token)
    return kept, env


def _redacted_netloc(scheme: str, netloc: str) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return netloc
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{user}:{REDACTED}@{host}"
    if scheme.split("+", 1)[0].lower() in WEB_SCHEMES:
        return f"{REDACTED}@{host}"
    return netloc


def _userinfo_secret(scheme: str, netloc: str) -> str:
    userinfo, at, _host = netloc.rpartition("@")
    if not at:
        return ""
    user, colon, password = userinfo.partition(":")
    if colon:
        return password
    return user if scheme.split("+", 1)[0].lower() in WEB_SCHEMES else ""


def _params(text: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in _PARAM_SEPARATORS.split(text):
        name, equals, value = piece.partition("=")
        if equals:
            pairs.append((name, value))
    return pairs


def _redacted_params(text: str) -> str:
    """``a=1&password=x`` -> ``a=1&password=***``; separators and order kept, nothing re-encoded."""
    pieces = []
    for piece in _PARAM_SEPARATORS.split(text):
        name, equals, _value = piece.partition("=")
        pieces.append(f"{name}={REDACTED}" if equals and _is_secret_name(name) else piece)
    return "".join(pieces)


def _is_secret_name(name: str) -> bool:
    lowered = unquote(name).lower()
    return any(part in lowered for part in SECRET_NAME_PARTS)


def _ambiguous(*after_netloc: str) -> bool:
    """An ``@`` after the host part: a password holding ``/``, ``?`` or ``#`` was split there, so where the
    credentials end is unknown (``postgresql://fer:ab/cd@db/x``). Only URLs with a host part can be split so:
    ``models:/name@alias`` and ``sqlite:///a@b.db`` hold no credentials."""
    return any("@" in part for part in after_netloc)


def _may_hold_secret(text: str) -> bool:
    return "@" in text or any(_is_secret_name(name) for name, _ in _params(text.partition("?")[2]))


def _unparsable(url: str) -> str:
    """A URL that cannot be parsed: only a well-formed scheme is kept, the rest may be anything."""
    scheme, separator, _rest = url.partition("://")
    if separator and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return f"{scheme}://{REDACTED}"
    return REDACTED
