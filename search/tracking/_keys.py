"""Every name fer-search writes to or reads from MLflow: run tags and their role values, parameters,
artifact paths and model-version tags, each defined once.

The values are the stored format: studies written by older code are read with them, so they never change.
(Optuna attribute keys live in ``search.study._attrs``.)
"""

from __future__ import annotations

# --- the study's experiment ----------------------------------------------------------------------------
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
"""MLflow's own experiment tag naming the experiment's kind: the UI opens an experiment on the view of its
kind (without the tag MLflow guesses, and may open a study on its GenAI overview instead of its runs)."""
CUSTOM_MODEL_KIND = "custom_model_development"
"""The kind of every study's experiment: model training (the UI's "Machine learning" view, runs first)."""

# --- run tags: every run ---------------------------------------------------------------------------------
PARENT_TAG = "mlflow.parentRunId"
"""MLflow's own tag nesting a run under the study's parent run."""
ROLE_TAG = "fer.role"
"""What a run is: one of the ``*_ROLE`` values below."""
STUDY_TAG = "fer.study"
STATE_TAG = "fer.state"
"""``running``, then the final state (``complete``, ``pruned``, ``failed``, ``interrupted``)."""
REASON_TAG = "fer.reason"

STUDY_ROLE = "study"
TRIAL_ROLE = "trial"
REFIT_ROLE = "refit"
ENSEMBLE_ROLE = "ensemble"
DISTILLED_ROLE = "distilled"
"""A network trained in stage 2 on an ensemble's soft predictions (``refit --distill``)."""

# --- the study's parent run ------------------------------------------------------------------------------
ENGINE_TAG = "fer.engine"
TUNER_TAG = "fer.tuner"
"""The Keras Tuner oracle (set only with ``--engine keras-tuner``)."""
N_TRIALS_REQUESTED_TAG = "fer.n_trials_requested"
TEST_TRIAL_TAG = "fer.test_trial"
TEST_SCORES_TAG = "fer.test_scores"
TEST_KIND_TAG = "fer.test_kind"
TEST_RESCORED_TAG = "fer.test_rescored"
SELECTED_KIND_TAG = "fer.selected_kind"
SELECTED_MEMBERS_TAG = "fer.selected_members"
SELECTED_TTA_TAG = "fer.selected_tta"
SELECTED_MODEL_URI_TAG = "fer.selected_model_uri"


def state_count_tag(state: str) -> str:
    """The parent-run tag counting the study's trials in ``state`` (``fer.n_complete``, ...)."""
    return f"fer.n_{state}"


# --- trial runs ------------------------------------------------------------------------------------------
TRIAL_TAG = "fer.trial_number"
MODEL_ID_TAG = "fer.model_id"
"""The id of the model logged on the run."""
MODEL_DELETED_TAG = "fer.model_deleted"
"""``true`` once keep-top-K deleted the run's model."""
REGISTERED_TAG = "fer.registered"
"""``true`` once a model of the run is registered (set by ``promote`` before it registers, or by keep-top-K when
the registry has a version of it): keep-top-K never deletes it."""
KT_TRIAL_ID_TAG = "fer.kt_trial_id"
KT_BRACKET_TAG = "fer.kt_bracket"
KT_ROUND_TAG = "fer.kt_round"
KT_EPOCHS_TAG = "fer.kt_epochs"
KT_CONTINUES_TAG = "fer.kt_continues"
KT_INITIAL_EPOCH_TAG = "fer.kt_initial_epoch"

LATENCY_METRIC = "latency_ms"
"""A trial run's single-face inference latency (ms), timed on the trial's machine before training."""
LATENCY_BATCH_METRIC = "latency_batch64_ms"
"""A trial run's latency (ms) of one call on a batch of 64 faces."""

# --- refit and ensemble runs -----------------------------------------------------------------------------
REFIT_OF_TAG = "fer.refit_of"
"""The stage-1 trial number a refit run refits."""
N_RESUMES_TAG = "fer.n_resumes"
OUTCOME_TAG = "fer.outcome"
"""How a refit's training ended: ``completed``, ``early_stopped``, ``timeout`` (``-`` when it did not)."""
MEMBERS_TAG = "fer.members"
"""An ensemble's member trials, comma-separated."""
TTA_TAG = "fer.tta"
SERVING_MODEL_ID_TAG = "fer.serving_model_id"
"""The id of the model with the test score's TTA inside, logged on the scored model's run."""

REFIT_EPOCHS_PARAM = "refit.epochs"
REFIT_PATIENCE_PARAM = "refit.patience"
REFIT_N_TRAIN_PARAM = "refit.n_train"
REFIT_OF_TRIAL_PARAM = "refit.of_trial"
MEMBER_RUNS_PARAM = "member_runs"
"""An ensemble run's refit runs (JSON list), in member order."""
TEACHER_TAG = "fer.teacher"
"""A distilled run's teacher: the refit trials whose ensemble it learnt from, comma-separated, best first."""
DISTILL_SOFT_WEIGHT_PARAM = "distill.soft_weight"
"""The teacher's share of each training target (``--distill-weight``)."""
DISTILL_TEACHER_RUNS_PARAM = "distill.teacher_runs"
"""A distilled run's teacher refit runs (JSON list), in member order."""
DISTILL_TEACHER_TTA_PARAM = "distill.teacher_tta"
"""The views the teacher's training-split probabilities were averaged over."""
DISTILL_LR_SCALE_PARAM = "distill.lr_scale"
"""The student's learning rate over its candidate's (it is fine-tuned from the best refit's weights)."""

# --- datasets (run inputs) ------------------------------------------------------------------------------
DATASET_CONTEXT_TAG = "mlflow.data.context"
"""MLflow's own tag on a run's dataset input: what the run used the dataset for (one of the contexts below)."""
TRAINING_CONTEXT = "training"
VALIDATION_CONTEXT = "validation"
TEST_CONTEXT = "test"
DATASET_DIGEST_CHARS = 12
"""A dataset's digest is the first characters of its split's fingerprint (MLflow allows 36; the UI shows the
digest beside the name, and the full fingerprint is in the dataset's profile and the parent run's params)."""


def dataset_name(data_name: str, split: str) -> str:
    """The MLflow dataset name of one split of the study's data: ``<data name>/<train|validation|test>``."""
    return f"{data_name}/{split}"


# --- artifacts -------------------------------------------------------------------------------------------
MODEL_ARTIFACT = "model"
"""The name of a run's logged model."""
SPACE_ARTIFACT = "space.yaml"
SETTINGS_ARTIFACT = "search_settings.json"
CLASS_COUNTS_ARTIFACT = "data/class_counts.csv"
CLASS_COUNTS_TEXT_ARTIFACT = "data/class_counts.txt"
CANDIDATE_ARTIFACT = "candidate.json"
REPORT_ARTIFACT = "report.html"
ERROR_ARTIFACT = "error.txt"


def score_artifact(n_scores: int) -> str:
    """The test score's metrics (JSON) on the parent run, per score (1 = the first)."""
    return f"test/score_{n_scores}.json"


def confusion_artifact(n_scores: int) -> str:
    """The test score's confusion-matrix figure (HTML) on the parent run."""
    return f"test/confusion_{n_scores}.html"


# --- registered model versions (set by promote, read by predict) ----------------------------------------
VERSION_STUDY_TAG = "study"
VERSION_TRIAL_TAG = "trial"
VERSION_FINGERPRINT_TAG = "data_fingerprint"
VERSION_VAL_ACCURACY_TAG = "val_accuracy"
VERSION_TEST_ACCURACY_TAG = "test_accuracy"
VERSION_TEST_MACRO_F1_TAG = "test_macro_f1"
VERSION_KIND_TAG = "kind"
VERSION_TTA_TAG = "tta"
"""The TTA mode the version was test-scored with."""
VERSION_MEMBERS_TAG = "members"
TTA_IN_MODEL_TAG = "tta_in_model"
"""``true`` when the registered model applies its ``tta`` itself (see ``search.selection._serving_model``)."""
EXPORTS_ARTIFACT_DIR = "exports"
"""Where ``export`` logs the exported files on the registered version's run: ``exports/<format>-<quantization>/``."""


def export_tag(export_format: str, quantization: str, field: str) -> str:
    """A model-version tag of one export (``export.onnx.int8.latency_ms``, ...), so several exports coexist."""
    return f"export.{export_format}.{quantization}.{field}"


SCORED_MODEL_TAG = "scored_model"
"""The URI of the model the test score is about, without TTA inside."""

# --- evaluations on other data sets (``python -m search evaluate``) ----------------------------------------
EVALUATION_ROLE = "evaluation"
"""The ``fer.role`` of an evaluation run (in the model's study's experiment, else in ``evaluations``)."""
EVALUATIONS_EXPERIMENT = "evaluations"
"""The experiment of evaluations of a model that belongs to no study (a ``.keras`` file)."""
EVAL_NAME_TAG = "fer.eval_name"
EVAL_DATA_TAG = "fer.eval_data"
EVAL_DATA_HASH_TAG = "fer.eval_data_hash"
EVAL_MODEL_URI_TAG = "fer.eval_model_uri"
EVAL_MODEL_NAME_TAG = "fer.eval_model_name"
EVAL_MODEL_VERSION_TAG = "fer.eval_model_version"
EVAL_MODEL_RUN_TAG = "fer.eval_model_run_id"
"""The run that logged the evaluated model (a registered version's run)."""
EVAL_OVERLAP_TAG = "fer.eval_training_overlap"
"""How many evaluated faces are byte-identical to a face of the study's training split (``unknown`` when the
study's data could not be read)."""
EVALUATION_ARTIFACT = "evaluation/result.json"
EVALUATION_CONFUSION_ARTIFACT = "evaluation/confusion.html"
EVAL_VERSION_TAG_PREFIX = "eval."


def eval_version_tag(name: str, field: str) -> str:
    """A registered version's tag for one evaluation: ``eval.<name>.accuracy``, ``.n``, ``.ci95``, ``.run_id``."""
    return f"{EVAL_VERSION_TAG_PREFIX}{name}.{field}"

# --- the data audit and scores on unseen faces (issue 25, ``fer_core.audit``) -------------------------------
AUDIT_ARTIFACT = "audit/audit.json"
"""The study's data audit (duplicates, conflicts, blanks, balance), on the parent run."""
AUDIT_VALIDATION_IN_TRAIN_TAG = "fer.audit.validation_in_train"
AUDIT_TEST_IN_TRAIN_TAG = "fer.audit.test_in_train"
AUDIT_TEST_IN_VALIDATION_TAG = "fer.audit.test_in_validation"
AUDIT_CONFLICTS_TAG = "fer.audit.conflicting_groups"
AUDIT_BLANK_TAG = "fer.audit.blank"
AUDIT_NEAR_THRESHOLD_TAG = "fer.audit.near_threshold"
DEDUPE_TAG = "fer.dedupe"
"""``true`` when the study dropped validation/test faces that duplicate a training face (``run --dedupe``)."""
CLEAN_VAL_ACCURACY_METRIC = "final_val_accuracy_clean"
"""A trial's validation accuracy on faces that duplicate no training face (exact hash)."""
N_CLEAN_VALIDATION_METRIC = "n_val_clean"
VERSION_TEST_CLEAN_ACCURACY_TAG = "test_accuracy_clean"
VERSION_TEST_CI_TAG = "test_accuracy_ci95"
"""``low..high``: the Wilson 95 % interval of the test accuracy."""
VERSION_VAL_CLEAN_ACCURACY_TAG = "val_accuracy_clean"
