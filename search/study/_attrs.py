"""Every key the platform writes on an Optuna study or trial, defined once.

These names are a stored format: studies made by earlier versions are read with them, so a key is
never renamed, only added.
"""

from __future__ import annotations

# Study user attributes.
SETTINGS_ATTR = "fer.settings"
"""The resolved ``StudySettings`` (a dict) the study was created with."""
FINGERPRINT_ATTR = "fer.data_fingerprint"
DEFINITION_ATTR = "fer.definition"
"""What makes the study's trials comparable; a resumed study must match it."""
SPACE_ATTR = "fer.space"
PARENT_RUN_ATTR = "fer.mlflow_parent_run_id"
EXPERIMENT_ATTR = "fer.mlflow_experiment_id"
TEST_SCORE_ATTR = "fer.test_score"
"""The one test score (a dict); its presence means the test split was used."""
SELECTED_ATTR = "fer.selected"
"""The final selection recorded by stage 2 (a refit model or an ensemble, with its TTA)."""
SERVING_MODEL_ATTR = "fer.serving_model"
"""The model promotion registers: the test-scored model with its TTA inside."""
CALIBRATION_ATTR = "fer.calibration"
"""The scored model's temperature fitted on validation, with the validation ECE before and after."""

# Trial user attributes.
RUN_ID_ATTR = "mlflow_run_id"
WORKER_ATTR = "worker"
REASON_ATTR = "fail_reason"
RETRY_OF_ATTR = "retry_of"
CANDIDATE_ATTR = "candidate"
MODEL_URI_ATTR = "model_uri"
MODEL_ID_ATTR = "model_id"
N_PARAMS_ATTR = "n_params"
MACS_ATTR = "macs"
LATENCY_ATTR = "latency_ms"
"""Single-face inference latency (ms) of the candidate's network on the machine that ran it."""
LATENCY_BATCH_ATTR = "latency_batch64_ms"
"""Latency (ms) of one call on a batch of 64 faces."""
QUEUE_WAIT_ATTR = "queue_wait_s"
CRASHED_ATTR = "crashed"
"""Trial user attribute: ``True`` when its worker died while running it (set by recovery, not by the worker)."""
CRASHES_ATTR = "crashes"
"""User attribute of a re-queued trial: how many times its parameter set has crashed a worker so far."""
KT_TRIAL_ATTR = "kt_trial_id"
KT_EPOCHS_ATTR = "kt_epochs"
KT_INITIAL_EPOCH_ATTR = "kt_initial_epoch"
KT_CONTINUES_ATTR = "kt_continues"
CLEAN_VAL_ACCURACY_ATTR = "val_accuracy_clean"
"""Validation accuracy on faces that duplicate no training face (exact hash; ``search.study._audit``)."""

INTERRUPTED = "interrupted"
"""The ``fail_reason`` of a trial whose process stopped: it is run again."""
