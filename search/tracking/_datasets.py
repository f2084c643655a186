"""The study's data splits as MLflow datasets: what the UI's Dataset column and dataset view show.

A split is recorded by its description only (name, digest, source, schema, profile), never its pixels:
``mlflow.entities.Dataset`` inputs logged with ``MlflowClient.log_inputs``, each tagged with its context
(training, validation, test). MLflow stores a dataset once per experiment (by name and digest) and an input
once per run, so logging the same split again, on a resumed study, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.entities import Dataset, DatasetInput, InputTag

from search.tracking._keys import DATASET_CONTEXT_TAG, DATASET_DIGEST_CHARS

LOCAL_SOURCE_TYPE = "local"
"""MLflow's source type for a file or folder on this machine; the source is ``{"uri": <path>}``."""
CODE_SOURCE_TYPE = "code"
"""MLflow's source type for data made by code; the source is ``{"tags": {"mlflow.source.name": <code>}}``."""
_SOURCE_NAME_TAG = "mlflow.source.name"


@dataclass(frozen=True)
class SplitDataset:
    """One split of a study's data as a run's input.

    Args:
        name: The dataset's name, ``<data name>/<split>`` (``search.tracking.dataset_name``).
        fingerprint: The split's fingerprint (its digest is the first ``DATASET_DIGEST_CHARS`` characters).
        source: The data file or folder, or (``generated=True``) the code that made the data.
        context: What the run used it for: ``training``, ``validation`` or ``test``.
        n_rows: Images in the split.
        profile: Small facts shown in the UI's dataset view (e.g. images per class).
        generated: True when no file holds the data (the synthetic demo set).
    """

    name: str
    fingerprint: str
    source: str
    context: str
    n_rows: int
    profile: Mapping[str, int | float | str] = field(default_factory=dict)
    generated: bool = False

    @property
    def digest(self) -> str:
        return self.fingerprint[:DATASET_DIGEST_CHARS]

    def to_mlflow(self) -> DatasetInput:
        """The MLflow dataset input: the dataset entity with its context tag."""
        source: dict[str, object]
        if self.generated:
            source_type, source = CODE_SOURCE_TYPE, {"tags": {_SOURCE_NAME_TAG: self.source}}
        else:
            source_type, source = LOCAL_SOURCE_TYPE, {"uri": str(Path(self.source).resolve())}
        profile = {"num_rows": self.n_rows, **self.profile, "fingerprint": self.fingerprint}
        dataset = Dataset(name=self.name, digest=self.digest, source_type=source_type, source=json.dumps(source),
                          schema=json.dumps(image_dataset_schema()), profile=json.dumps(profile))
        return DatasetInput(dataset=dataset, tags=[InputTag(key=DATASET_CONTEXT_TAG, value=self.context)])


def image_dataset_schema() -> dict[str, object]:
    """MLflow's tensor dataset schema of a split: uint8 faces (N, 48, 48, 1) and int64 labels (N,)."""
    import numpy as np
    from mlflow.data.schema import TensorDatasetSchema
    from mlflow.types import Schema, TensorSpec

    return TensorDatasetSchema(
        features=Schema([TensorSpec(np.dtype("uint8"), (-1, 48, 48, 1), "image")]),
        targets=Schema([TensorSpec(np.dtype("int64"), (-1,), "emotion")]),
    ).to_dict()
