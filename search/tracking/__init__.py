"""The MLflow layer, and the only code that talks to MLflow's client: the study's experiment, its parent run, one nested run per trial, logged models, artifacts, the registry and the UI server.
"""

from __future__ import annotations

from search.tracking._artifacts import read_run_text, quiet_artifact_downloads
from search.tracking._tracker import (
    ROLE_TAG,
    STUDY_TAG,
    TRIAL_TAG,
    STATE_TAG,
    REASON_TAG,
    MODEL_ID_TAG,
    MODEL_DELETED_TAG,
    REGISTERED_TAG,
    PARENT_TAG,
    MODEL_ARTIFACT,
    TrialState,
    LoggedModel,
    StudyTracker,
    model_signature,
)
from search.tracking._ui_server import (
    LOOPBACK_HOSTS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    READY_TIMEOUT_S,
    STOP_GRACE_S,
    UiSettings,
    mlflow_server_command,
    check_can_start,
    port_is_free,
    start_server,
    wait_until_ready,
    stop_process_group,
    serve_ui,
)

__all__ = [
    "check_can_start",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LoggedModel",
    "LOOPBACK_HOSTS",
    "mlflow_server_command",
    "MODEL_ARTIFACT",
    "MODEL_DELETED_TAG",
    "MODEL_ID_TAG",
    "model_signature",
    "PARENT_TAG",
    "port_is_free",
    "quiet_artifact_downloads",
    "read_run_text",
    "READY_TIMEOUT_S",
    "REASON_TAG",
    "REGISTERED_TAG",
    "ROLE_TAG",
    "serve_ui",
    "start_server",
    "STATE_TAG",
    "STOP_GRACE_S",
    "stop_process_group",
    "STUDY_TAG",
    "StudyTracker",
    "TRIAL_TAG",
    "TrialState",
    "UiSettings",
    "wait_until_ready",
]
