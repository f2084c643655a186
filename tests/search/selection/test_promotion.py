"""``python -m search promote``: the champion guard (a worse model on the same data is refused unless
``--force``) and ``--name``/``--alias`` registering elsewhere than ``fer-emotion@champion``.

Two real one-trial studies on the same data, one that learns and one that cannot: a set whose class is the
image's brightness, so a few epochs score far above chance and one epoch at a learning rate of 1e-6 stays near it.
"""

from __future__ import annotations

from collections.abc import Iterator

import optuna
import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_study_storage, default_tracking_uri
from tests.fixtures.data import brightness_faces, write_fer_csv
from tests.fixtures.studies import BuiltStudy, working_directory

pytestmark = pytest.mark.integration

SPACE = """
architecture:
  n_blocks: 1
  blocks: {{n_convs: 1, filters: {{int: [8, 16], step: 8}}, padding: same, pooling: max, pool_size: 4}}
  head: gap
training:
  optimizer: adam
  learning_rate: {learning_rate}
  batch_size: 32
  epochs: {epochs}
  early_stopping_patience: null
  schedule: none
"""
TRAINED, UNTRAINED = "trained", "untrained"


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory, empty_store: BuiltStudy) -> Iterator[dict[str, float]]:
    """Both studies, run and test-scored in one working directory; study name -> test accuracy."""
    with working_directory(tmp_path_factory.mktemp("promote")) as folder:
        empty_store.copy_to(folder)
        csv = write_fer_csv(folder / "brightness.csv", *brightness_faces(60, seed=0))
        for study, learning_rate, epochs in ((TRAINED, "0.02", 10), (UNTRAINED, "1.0e-6", 1)):
            space = folder / f"{study}.yaml"
            space.write_text(SPACE.format(learning_rate=learning_rate, epochs=epochs))
            assert main(["run", "--space", str(space), "--data", str(csv), "--study", study, "--trials", "1",
                         "--pruner", "none"]) == 0
        yield {study: _test_accuracy(study) for study in (TRAINED, UNTRAINED)}


def _test_accuracy(study: str) -> float:
    return optuna.load_study(study_name=study, storage=default_study_storage()).user_attrs["fer.test_score"][
        "accuracy"]


def _alias(name: str, alias: str) -> tuple[str, str]:
    """(version, study) the alias points at."""
    version = MlflowClient(default_tracking_uri()).get_model_version_by_alias(name, alias)
    return str(version.version), version.tags["study"]


def test_a_worse_model_on_the_same_data_is_refused_unless_forced(studies: dict[str, float], capsys) -> None:
    trained, untrained = studies[TRAINED], studies[UNTRAINED]
    assert trained > 0.5 > untrained, studies  # chance is 1/7
    assert main(["promote", "--study", TRAINED]) == 0
    assert _alias("fer-emotion", "champion") == ("1", TRAINED)
    capsys.readouterr()

    assert main(["promote", "--study", UNTRAINED]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        f"error: fer-emotion@champion is version 1 (study '{TRAINED}') with test accuracy {trained:.4f} on the "
        f"same data, higher than this study's {untrained:.4f}; pass --force to promote anyway.")
    assert _alias("fer-emotion", "champion") == ("1", TRAINED)  # nothing registered

    assert main(["promote", "--study", UNTRAINED, "--force"]) == 0
    assert (f"Registered fer-emotion version 2 (test accuracy {untrained:.4f}); "
            "models:/fer-emotion@champion now points at it.") in capsys.readouterr().out
    assert _alias("fer-emotion", "champion") == ("2", UNTRAINED)


def test_name_and_alias_register_elsewhere_with_their_own_guard(studies: dict[str, float], capsys) -> None:
    client = MlflowClient(default_tracking_uri())
    champion_before = _champion_versions(client)

    assert main(["promote", "--study", UNTRAINED, "--name", "fer-staging", "--alias", "candidate"]) == 0
    assert ("Registered fer-staging version 1 (test accuracy "
            f"{studies[UNTRAINED]:.4f}); models:/fer-staging@candidate now points at it.") in capsys.readouterr().out
    assert _alias("fer-staging", "candidate") == ("1", UNTRAINED)
    assert main(["promote", "--study", TRAINED, "--name", "fer-staging", "--alias", "candidate"]) == 0  # better
    assert _alias("fer-staging", "candidate") == ("2", TRAINED)
    version = client.get_model_version("fer-staging", "2")
    assert version.tags["test_accuracy"] == f"{studies[TRAINED]:.6f}" and version.aliases == ["candidate"]

    capsys.readouterr()
    assert main(["promote", "--study", UNTRAINED, "--name", "fer-staging", "--alias", "candidate"]) == 1
    assert "fer-staging@candidate is version 2 (study 'trained')" in capsys.readouterr().err
    assert _alias("fer-staging", "candidate") == ("2", TRAINED)
    assert _champion_versions(client) == champion_before  # fer-emotion untouched


def _champion_versions(client: MlflowClient) -> list[tuple[str, list[str]]]:
    """fer-emotion's versions and their aliases ([] before any promotion to it)."""
    versions = client.search_model_versions("name = 'fer-emotion'")
    return sorted((str(v.version), sorted(v.aliases)) for v in versions)
