"""Several machines' worth of workers: a PostgreSQL study and an MLflow tracking server (real services)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search import main
from tests.search.study.test_workers import check_study_bookkeeping

pytestmark = pytest.mark.integration


def test_three_workers_share_a_postgresql_study_and_a_tracking_server(
    workdir: Path, small_csv: Path, fresh_database: str, mlflow_server: str
) -> None:
    n_trials = 6
    command = [sys.executable, "-m", "search", "run", "--space", "smoke", "--data", str(small_csv),
               "--storage", fresh_database, "--study", "pg", "--trials", str(n_trials), "--epochs", "1",
               "--pruner", "none"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_server, "PYTHONUNBUFFERED": "1",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(3)]
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], "\n".join(outputs)

    study = optuna.load_study(study_name="pg", storage=fresh_database)
    check_study_bookkeeping(study, n_trials, mlflow_server)
    assert len({t.user_attrs["worker"] for t in study.trials}) >= 2, "the trials were not shared"


def test_unreachable_storage_is_one_line_without_the_password(workdir: Path, small_csv: Path, capsys) -> None:
    url = "postgresql://fer:s3cret@127.0.0.1:1/nowhere"
    assert main(["run", "--space", "smoke", "--data", str(small_csv), "--storage", url, "--trials", "1"]) == 1
    err = capsys.readouterr().err
    assert "error: Cannot open the study storage postgresql://fer:***@127.0.0.1:1/nowhere" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_refused_credentials_are_one_line(workdir: Path, small_csv: Path, fresh_database: str, capsys) -> None:
    from sqlalchemy.engine import make_url

    wrong = make_url(fresh_database).set(username="nobody", password="wrong-pass")
    url = wrong.render_as_string(hide_password=False)
    assert main(["run", "--space", "smoke", "--data", str(small_csv), "--storage", url, "--trials", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: Cannot open the study storage ") and "nobody" in err[0]
    assert "wrong-pass" not in err[0]
