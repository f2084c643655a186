"""``search.redaction``: no password or token of a store URL survives, whatever form the URL takes."""

from __future__ import annotations

import pytest

from search.redaction import REDACTED, redact_text, redact_url, url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://fer:S3cret@db/fer_optuna", "postgresql://fer:***@db/fer_optuna"),
        ("postgresql+psycopg://fer:S3cret@db:5432/fer?sslmode=require&sslpassword=S3cret",
         "postgresql+psycopg://fer:***@db:5432/fer?sslmode=require&sslpassword=***"),
        ("postgresql://db/fer?user=fer&password=S3cret", "postgresql://db/fer?user=fer&password=***"),
        ("mysql://fer@db/x?pwd=S3cret;charset=utf8", "mysql://fer@db/x?pwd=***;charset=utf8"),
        ("https://mlflow.example/?access_token=S3cret&api_key=S3cret",
         "https://mlflow.example/?access_token=***&api_key=***"),
        ("https://S3cret@mlflow.example", "https://***@mlflow.example"),  # a token as the user name
        ("https://host/x#client_secret=S3cret", "https://host/x#client_secret=***"),
        ("mysql://fer:S3c%40ret@db/x", "mysql://fer:***@db/x"),
        # Cannot be split safely: a password holding '/' or a bad port. Only the scheme is kept.
        ("postgresql://fer:S3/cret@db/x", "postgresql://***"),
        ("postgresql://fer:S3cret@db:port/x", "postgresql://***"),
        ("http://[::1:S3cret/", "http://***"),
    ],
)
def test_secrets_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "S3cret" not in redact_url(url) and "S3c%40ret" not in redact_url(url)


@pytest.mark.parametrize("url", ["sqlite:////tmp/mlruns/optuna.db", "http://127.0.0.1:5000",
                                 "postgresql://fer@db:5432/fer?sslmode=require", "databricks", "/tmp/a.db"])
def test_urls_without_secrets_are_unchanged(url: str) -> None:
    assert redact_url(url) == url
    assert redact_url(redact_url(url)) == redact_url(url)


def test_text_about_a_url_loses_every_form_of_its_secret() -> None:
    url = "postgresql://fer:p%40ss@db/x?sslpassword=K3y"
    assert set(url_secrets(url)) == {"p%40ss", "p@ss", "K3y"}
    message = f"cannot connect to {url}: password 'p@ss' refused, key K3y, see http://h/?token=T0k"
    shown = redact_text(message, url)
    assert not any(secret in shown for secret in ("p@ss", "p%40ss", "K3y", "T0k")), shown
    assert shown.count(REDACTED) >= 4


def test_secret_flags_move_from_a_command_line_to_the_environment() -> None:
    from search.redaction import secret_flags_to_env

    argv = ["run", "--storage", "postgresql://fer:S3cret@db/x", "--trials", "3", "--storage=sqlite:///y.db"]
    kept, env = secret_flags_to_env(argv, {"--storage": "FER_SEARCH_STORAGE"})
    assert kept == ["run", "--trials", "3"]
    assert env == {"FER_SEARCH_STORAGE": "sqlite:///y.db"}  # the last one wins, as with argparse
    assert secret_flags_to_env(["--storage"], {"--storage": "S"}) == ([], {"S": ""})


def test_model_uris_with_an_alias_are_not_mistaken_for_credentials() -> None:
    """``models:/name@alias`` has no host part, so its ``@`` cannot end a password: it is shown as given."""
    assert redact_url("models:/fer-champion@champion") == "models:/fer-champion@champion"
    assert url_secrets("models:/fer-champion@champion") == []
    assert redact_url("postgresql://fer:ab/cd@db/x") == "postgresql://***"
