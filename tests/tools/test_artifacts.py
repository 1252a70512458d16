import json
import shutil

import pytest

from tools.artifacts import ArtifactError, Artifacts, build, is_current
from tools.config import Config


def test_build_loads_and_records_everything(small_artifacts, small_config):
    m = small_artifacts.manifest
    assert m["dataset"]["n_items"] == len(small_artifacts.catalog) == small_artifacts.item_vectors.shape[0]
    assert set(m["cf"]["models"]) == set(small_config.cf_models)
    # the agent's retriever is the best model or fusion by validation NDCG@10; baselines are kept
    rows = {**m["cf"]["report"]["models"], **m["cf"]["report"]["fusions"]}
    assert set(rows) == set(m["cf"]["models"]) | set(m["cf"]["fusions"])
    assert m["cf"]["selected"] == max(rows, key=lambda n: rows[n]["valid"]["ndcg@10"])
    assert {"last-item", "recent-ease"} <= set(m["cf"]["baselines"])
    assert small_artifacts.selected_cf is not None
    assert all(len(d) == 64 for d in m["files"].values())
    assert is_current(small_config)


@pytest.fixture
def copy_of(small_artifacts, tmp_path):
    dst = tmp_path / "art"
    shutil.copytree(small_artifacts.path, dst)
    return dst


def test_corrupt_file_is_refused_with_rebuild_hint(copy_of):
    with open(copy_of / "cf_ease.npz", "r+b") as f:
        f.seek(100)
        f.write(b"\x00garbage\x00")
    with pytest.raises(ArtifactError, match=r"cf_ease\.npz.*convrec build --force"):
        Artifacts.load(copy_of)


def test_missing_file_and_manifest(copy_of, tmp_path):
    (copy_of / "catalog.sqlite").unlink()
    with pytest.raises(ArtifactError, match="catalog.sqlite"):
        Artifacts.load(copy_of)
    with pytest.raises(ArtifactError, match="convrec build"):
        Artifacts.load(tmp_path / "nowhere")
    (copy_of / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt"):
        Artifacts.load(copy_of)


def test_mismatched_dataset_is_refused(copy_of, small_config):
    other = small_config.model_copy(update={"dataset": "ml-100k"})
    with pytest.raises(ArtifactError, match="built for dataset"):
        Artifacts.load(copy_of, other)
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["format_version"] = 999
    (copy_of / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format"):
        Artifacts.load(copy_of)


def test_the_build_records_the_film_metadata_it_joined(small_artifacts):
    from tools.data import MOVIES, VEGA

    meta = small_artifacts.manifest["metadata"]
    assert meta["sha256"] == VEGA.files[MOVIES][1] and meta["source"] == "vega-datasets@3.2.1 package/data/movies.json"
    assert meta["coverage"]["films"] == len(small_artifacts.catalog) and meta["coverage"]["director"] >= 350
    jp = small_artifacts.catalog.resolve_title("Jurassic Park").item_id
    assert small_artifacts.catalog.get([jp])[0].director == "Steven Spielberg"
    assert small_artifacts.catalog.text([jp])[0] == "Jurassic Park (1993). Action, Adventure, Sci-Fi."  # no knowledge


@pytest.mark.parametrize("older", [2, 3])  # 2: no director, rating and runtime; 3: a reranker blind to the request
def test_a_build_of_an_older_format_is_refused(copy_of, small_config, older):
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["format_version"] = older
    (copy_of / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=rf"format {older} != 4\. Rebuild with `convrec build --force`"):
        Artifacts.load(copy_of)
    assert not is_current(small_config.model_copy(update={"artifacts": copy_of}))  # so `convrec build` rebuilds


def test_failed_build_leaves_old_folder_intact(small_config, copy_of, monkeypatch):
    """A build that dies half-way removes its temporary folder and never replaces a good one."""
    config = small_config.model_copy(update={"artifacts": copy_of})
    before = json.loads((copy_of / "manifest.json").read_text())

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("tools.artifacts.tune", boom)
    with pytest.raises(KeyboardInterrupt):
        build(config, progress=False)
    assert json.loads((copy_of / "manifest.json").read_text()) == before
    Artifacts.load(copy_of, config)
    assert not [p for p in copy_of.parent.iterdir() if ".building-" in p.name]


def test_config_reads_toml_and_env(tmp_path, monkeypatch):
    (tmp_path / "c.toml").write_text('seed = 5\nk = 7\nllm_model = "from-toml"\n')
    monkeypatch.setenv("CONVREC_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.setenv("CONVREC_K", "12")
    c = Config()
    assert (c.seed, c.k, c.llm_model) == (5, 12, "from-toml")  # env beats the file
