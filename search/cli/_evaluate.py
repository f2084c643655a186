"""``python -m search evaluate``: score a model on a labelled set from elsewhere, recorded in MLflow."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from search.cli._exit import EXIT_OK
from search.cli._flags import add_format_flag, add_storage_flag
from search.cli._tables import format_table
from search.defaults import DEFAULT_ALIAS, DEFAULT_MODEL_NAME

if TYPE_CHECKING:
    from search.evaluation import Evaluation

NAME = "evaluate"
HELP = "score a model on a labelled data set that was never part of its study"
DESCRIPTION = (
    "Score a model (the promoted champion by default) on a labelled CSV (emotion,pixels[,Usage]: every row, "
    "Usage ignored) or image folder (<root>/<emotion>/*.png; names such as anger, happiness, sadness, "
    "surprised map to ours, unknown ones such as contempt are skipped with a notice). Prints accuracy with its "
    "95 % Wilson interval, macro-F1 and recall over the emotions the set has, and the confusion matrix; records "
    "an evaluation run in MLflow and eval.<name>.* tags on the registered version. The study's test split is "
    "never read; faces identical to the study's training faces are counted and reported."
)
EXAMPLES = """\
examples:
  python -m search evaluate --data ~/faces/                       the champion on an image folder
  python -m search evaluate --data other.csv --name other --model models:/fer-emotion/3
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.epilog = EXAMPLES
    parser.add_argument("--model", default=f"models:/{DEFAULT_MODEL_NAME}@{DEFAULT_ALIAS}",
                        help="registry URI (models:/name@alias, models:/name/1), run model URI "
                        "(runs:/<id>/model, models:/m-<id>) or a .keras file")
    parser.add_argument("--data", required=True, help="labelled image folder or CSV (.csv/.csv.gz) to score on")
    parser.add_argument("--name", help="the evaluation's name, in tags eval.<name>.* (letters, digits, _ and -; "
                        "default: the data's file or folder name)")
    add_storage_flag(parser)
    add_format_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Scores, records and prints the evaluation."""
    from search.evaluation import evaluate_model

    evaluation = evaluate_model(args.model, args.data, name=args.name, storage_url=args.storage)
    for notice in notices(evaluation):
        print(notice, file=sys.stderr)
    print(json.dumps(evaluation.summary(), indent=2) if args.format == "json" else format_evaluation(evaluation))
    return EXIT_OK


def notices(evaluation: Evaluation) -> list[str]:
    """Lines for stderr: skipped folders, absent emotions, faces seen in training."""
    lines = [f"Skipped folder {name!r} ({count} file(s)): not one of our emotions"
             for name, count in evaluation.evaluation_set.unknown_folders.items()]
    if evaluation.score.absent:
        lines.append(f"Absent from the set (no recall, left out of macro-F1): {', '.join(evaluation.score.absent)}")
    overlap = evaluation.overlap.n_overlap
    if overlap:
        lines.append(f"Warning: {overlap} of {evaluation.score.n_samples} faces are identical to training faces "
                     f"of study {evaluation.origin.study!r}; the score is partly a memory test")
    return lines


def format_evaluation(evaluation: Evaluation) -> str:
    """The evaluation as text: headline, per-emotion table, confusion matrix, where it was recorded."""
    score = evaluation.score
    overlap = evaluation.overlap.n_overlap
    lines = [
        f"{evaluation.origin.uri} on {evaluation.name} ({score.n_samples} faces, {evaluation.data})",
        f"accuracy {score.accuracy:.4f}  95% CI {score.ci_low:.4f}-{score.ci_high:.4f} (Wilson)  "
        f"macro-F1 {score.macro_f1:.4f} over {len(score.present)} emotion(s)",
        "training overlap: " + (f"{overlap} face(s) {evaluation.overlap.note}" if overlap is not None
                                else evaluation.overlap.note),
    ]
    if evaluation.unseen_accuracy is not None and overlap:
        lines.append(f"accuracy on the faces not in training: {evaluation.unseen_accuracy:.4f}")
    support = score.result.per_class["support"]
    rows = [["emotion", "faces", "recall"]] + [
        [emotion, str(int(support[emotion])), f"{score.recall[emotion]:.4f}" if emotion in score.recall else "absent"]
        for emotion in support.index]
    lines += ["", format_table(rows), "", "confusion (rows true, columns predicted):"]
    labels = list(support.index)
    counts = score.result.confusion_counts
    lines.append(format_table([["true \\ pred", *labels]] + [
        [label, *(str(int(n)) for n in counts[index])] for index, label in enumerate(labels)]))
    lines += ["", f"Recorded: run {evaluation.run_id} in experiment {evaluation.experiment!r}"
              + (f"; tags eval.{evaluation.name}.* on {evaluation.origin.name} version {evaluation.origin.version}"
                 if evaluation.origin.version else "")]
    return "\n".join(lines)


def format_study_evaluations(study_name: str) -> str | None:
    """The evaluations of a study's models on other data sets, as lines for ``best`` and ``promote`` (None: none)."""
    from search.tracking import (
        EVAL_MODEL_URI_TAG,
        EVAL_MODEL_VERSION_TAG,
        EVAL_NAME_TAG,
        EVAL_OVERLAP_TAG,
        study_evaluations,
    )

    runs = study_evaluations(study_name)
    if not runs:
        return None
    rows = [["evaluation", "model", "faces", "accuracy", "95% CI (Wilson)", "macro-F1", "training overlap"]]
    for run in runs:
        tags, metrics = run.data.tags, run.data.metrics
        version = tags.get(EVAL_MODEL_VERSION_TAG)
        model = f"version {version}" if version else tags.get(EVAL_MODEL_URI_TAG, "-")
        rows.append([tags.get(EVAL_NAME_TAG, "-"), model,
                     f"{metrics.get('n_faces', 0):.0f}", f"{metrics.get('accuracy', float('nan')):.4f}",
                     f"{metrics.get('accuracy_ci95_low', float('nan')):.4f}-"
                     f"{metrics.get('accuracy_ci95_high', float('nan')):.4f}",
                     f"{metrics.get('macro_f1', float('nan')):.4f}", tags.get(EVAL_OVERLAP_TAG, "-")])
    return "Evaluations on other data sets (python -m search evaluate):\n" + format_table(rows)
