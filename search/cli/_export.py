"""``python -m search export``: a registered model to ONNX, LiteRT or SavedModel, checked, timed and logged."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli._exit import EXIT_OK
from search.cli._flags import add_storage_flag
from search.defaults import DEFAULT_ALIAS, DEFAULT_MODEL_NAME

NAME = "export"
HELP = "export a registered model to ONNX, LiteRT or SavedModel (float or quantized), checked and timed"
DESCRIPTION = (HELP + ". The export is compared with the Keras model (float: max abs difference <= 1e-4 on 1,000 "
               "demo faces; every format: top-1 agreement and accuracy on the study's validation split), timed "
               "with its own runtime, and logged on the registered version's run with its figures as version tags.")
FORMAT_CHOICES = ("onnx", "litert", "saved_model")
"""search.export.FORMATS, spelled out so that building the parser imports no TensorFlow."""
QUANTIZE_CHOICES = ("none", "float16", "int8")

EXAMPLES = """\
examples:
  python -m search export --format onnx                       the champion as float ONNX
  python -m search export --format litert --quantize int8     int8 LiteRT, calibrated on training faces
  python -m search export --model models:/fer-emotion/3 --format saved_model --out champion_sm
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.epilog = EXAMPLES
    parser.add_argument("--model", default=f"models:/{DEFAULT_MODEL_NAME}@{DEFAULT_ALIAS}",
                        help="registered version, models:/<name>@<alias> or models:/<name>/<n> (default: %(default)s)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, required=True, help="export format")
    parser.add_argument("--quantize", choices=QUANTIZE_CHOICES, default="none",
                        help="post-training quantization: float16 (litert), int8 (litert, onnx; calibrated on "
                        "training faces) (default: none)")
    parser.add_argument("--out", type=Path,
                        help="file to write (a directory for saved_model; default: "
                        "exports/<name>-v<n>-<format>-<quantize><suffix>)")
    add_storage_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Exports, then prints the file, its size, parity, accuracy and latency beside the Keras model's."""
    from search.export import FLOAT_TOLERANCE, export_registered_model

    result = export_registered_model(args.model, args.format, args.quantize, out=args.out, storage=args.storage)
    parity, latency, keras = result.parity, result.latency, result.keras_latency
    print(f"Exported {result.version} as {result.export_format} ({result.quantize}): {result.path} "
          f"({result.size_bytes:,} bytes)")
    if result.quantize == "none":
        print(f"Parity: max abs difference {parity.max_abs_diff:.2e} on {parity.n_faces} demo faces "
              f"(allowed {FLOAT_TOLERANCE:.0e})")
    print(f"Validation ({parity.n_validation} faces): accuracy {parity.val_accuracy:.4f} with {result.runtime} "
          f"(Keras {parity.keras_val_accuracy:.4f}), top-1 agreement {parity.top1_agreement:.4f}")
    print(f"Latency on this machine: {result.runtime} {latency.single_ms:.2f} ms per face, {latency.batch_ms:.2f} ms "
          f"per batch of {latency.batch_size}; Keras {keras.single_ms:.2f} and {keras.batch_ms:.2f} ms")
    print(f"Logged: {result.artifact_uri or '(the version has no run: tags only)'}")
    return EXIT_OK
