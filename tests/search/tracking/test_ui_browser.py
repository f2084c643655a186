"""`python -m search ui` in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

A finished, promoted study is served as a user serves it; the runs page that ``search ui`` prints for the
study lists its trial runs with their datasets (not MLflow's GenAI overview), and the registered model's
page shows the ``champion`` alias. Screenshots of both pages are kept under ``test-artifacts/`` (or
``$FER_TEST_ARTIFACTS``), as is a screenshot of any page a check failed on.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from mlflow import MlflowClient

from search.paths import default_study_storage, default_tracking_uri
from search.study import PARENT_RUN_ATTR
from search.tracking import DATASET_DIGEST_CHARS, RUNS_VIEW_QUERY
from tests._services import free_port, live_group_members, log_tail
from tests.fixtures.studies import SmokeStudy

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS_ENV = "FER_TEST_ARTIFACTS"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 800}
# The UI's assistant panel opens itself on a first visit and narrows the runs table: mark it seen and closed.
QUIET_ASSISTANT = ("localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
                   "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');")
UI_START_TIMEOUT_S = 180.0
PAGE_TIMEOUT_MS = 90_000
GENAI_OVERVIEW_TEXTS = ("Token Usage", "Detect Issues", "Tokens per Trace")
MODEL_NAME = "fer-emotion"


def artifacts_dir() -> Path:
    """Where screenshots go: ``$FER_TEST_ARTIFACTS``, else ``test-artifacts/`` at the repository root."""
    folder = Path(os.environ.get(ARTIFACTS_ENV) or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium (the system's), through Playwright; never a downloaded browser."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e '.[dev]' installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=VIEWPORT)
    context.add_init_script(QUIET_ASSISTANT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextlib.contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(artifacts_dir() / f"{name}-failure.png"))
        raise


@contextlib.contextmanager
def search_ui(workdir: Path, port: int) -> Iterator[str]:
    """Runs ``python -m search ui --port <port>`` in ``workdir`` until the block ends; yields its output so far
    once it printed the study links (the server answers by then)."""
    log = workdir / "ui.log"
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "search", "ui", "--port", str(port)], cwd=workdir,
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + UI_START_TIMEOUT_S
        while "Runs of each study" not in (text := log.read_text(errors="replace")) or not text.endswith("\n"):
            if process.poll() is not None:
                pytest.fail(f"`search ui` exited with {process.returncode}:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"`search ui` printed no study links within {UI_START_TIMEOUT_S:.0f} s:\n{log_tail(log)}")
            time.sleep(0.5)
        yield text
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # `search ui` stops its server's process group, then exits
        try:
            process.wait(timeout=60)
        finally:
            servers = [pid for pid in _pids_with_port_flag(port) if live_group_members(pid)]
            for pid in servers:  # only when stopping failed: never leave a server behind
                os.kill(pid, signal.SIGKILL)
    assert process.returncode == 0, log_tail(log)
    assert servers == [], f"processes left running after the UI stopped: {servers}"


def _pids_with_port_flag(port: int) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            if b"--port" in args and str(port).encode() in args:
                pids.append(int(cmdline.parent.name))
    return pids


def test_ui_lists_the_trial_runs_with_their_datasets_and_the_champion(
        workdir: Path, smoke_study: SmokeStudy, page: Any) -> None:
    study_name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    parent_run_id = study.user_attrs[PARENT_RUN_ATTR]
    client = MlflowClient(default_tracking_uri())
    experiment_id = client.get_experiment_by_name(study_name).experiment_id
    datasets = [item.dataset for item in client.get_run(parent_run_id).inputs.dataset_inputs]
    assert len(datasets) == 3 and all(len(dataset.digest) == DATASET_DIGEST_CHARS for dataset in datasets)
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    with search_ui(workdir, port) as output:
        runs_url = f"{url}/#/experiments/{experiment_id}/runs?{RUNS_VIEW_QUERY}"
        assert re.search(rf"^  {re.escape(study_name)} +{re.escape(runs_url)}$", output, re.MULTILINE), output

        # The study's runs page, as printed: the runs table (not the GenAI overview), trials nested in the study.
        with screenshot_on_failure(page, "mlflow-ui-runs"):
            page.goto(runs_url)
            study_link = page.locator(f"a[href$='/runs/{parent_run_id}']")
            study_link.wait_for()
            page.locator("[role=row]", has=study_link).locator("button").first.click()  # expand its trials
            for trial in study.trials:
                page.get_by_text(f"trial-{trial.number:04d}", exact=True).wait_for()
            page.get_by_text("Expand rows", exact=True).click()  # every dataset of a run, not the first one
            for dataset in datasets:  # the Dataset column: name (digest) of each split
                page.get_by_text(f"{dataset.name} ({dataset.digest})", exact=True).first.wait_for()
            assert "/runs" in page.url
            for text in GENAI_OVERVIEW_TEXTS:
                assert page.get_by_text(text).count() == 0, f"{text!r} on the runs page: the GenAI view opened"
            page.wait_for_timeout(1000)  # let the taller rows lay their datasets out before the screenshot
            page.screenshot(path=str(artifacts_dir() / "mlflow-ui-runs.png"))

        # The registered model's page shows the alias `promote` set.
        with screenshot_on_failure(page, "mlflow-ui-model"):
            page.goto(f"{url}/#/models/{MODEL_NAME}")
            page.get_by_text("Version 1", exact=True).first.wait_for()
            alias = page.get_by_text(re.compile(r"^@?\s*champion$")).first
            alias.wait_for()
            assert alias.is_visible()
            page.screenshot(path=str(artifacts_dir() / "mlflow-ui-model.png"))
