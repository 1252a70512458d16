"""The evaluation protocol's split: per user, time-ordered, leave-last-out; every rating counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tools.data import Dataset


@dataclass
class Split:
    """Train/valid/test interactions with contiguous indices (``uidx``, ``iidx``) on every frame."""

    train: pd.DataFrame
    valid: pd.DataFrame  # one row per user: the second-to-last interaction
    test: pd.DataFrame  # one row per user: the last interaction
    user_ids: np.ndarray  # uidx -> user_id
    item_ids: np.ndarray  # iidx -> item_id (the dataset's item order)
    cold_items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # iidx

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def train_matrix(self, upto: str = "train") -> sp.csr_matrix:
        """Users x items binary matrix of train (or train+valid, ``upto='valid'``, for test-time use)."""
        frames = [self.train] if upto == "train" else [self.train, self.valid]
        df = pd.concat(frames)
        m = sp.csr_matrix(
            (np.ones(len(df), dtype=np.float32), (df.uidx.to_numpy(), df.iidx.to_numpy())),
            shape=(self.n_users, self.n_items),
        )
        m.data[:] = 1.0  # duplicates summed by the constructor count once
        return m

    def sequences(self, upto: str = "train") -> list[np.ndarray]:
        """Each user's items (iidx) in time order: train only, or train then the valid item."""
        frames = [self.train] if upto == "train" else [self.train, self.valid]
        df = pd.concat(frames).sort_values(["uidx", "order"], kind="stable")
        seqs = [np.zeros(0, dtype=np.int64)] * self.n_users
        for u, g in df.groupby("uidx", sort=True):
            seqs[int(u)] = g.iidx.to_numpy()
        return seqs

    def item_popularity(self) -> np.ndarray:
        return np.bincount(self.train.iidx.to_numpy(), minlength=self.n_items)

    def recent_popularity(self, last: int) -> np.ndarray:
        """Per item, how many users have it among their ``last`` train items: what people watch
        lately, a better prior than all-time popularity for someone arriving now."""
        if last < 1:
            raise ValueError("last must be >= 1")
        tail = self.train.sort_values(["uidx", "order"], kind="stable").groupby("uidx", sort=False).tail(last)
        return np.bincount(tail.iidx.to_numpy(), minlength=self.n_items)


def leave_last_out(dataset: Dataset, cold_items: int = 0, seed: int = 0) -> Split:
    """Sort each user's interactions by time (ties keep file order); last -> test, the one before -> valid.

    Users with fewer than 3 interactions keep everything in train and get no targets. With
    ``cold_items > 0`` a seeded set of items loses all its *train* interactions (the cold-start
    protocol); their valid/test rows stay, so users whose targets are cold can be reported.
    """
    item_ids = dataset.items.item_id.to_numpy()
    iidx_of = pd.Series(np.arange(len(item_ids)), index=item_ids)
    df = dataset.interactions.copy()
    df["file_order"] = np.arange(len(df))
    df = df.sort_values(["user_id", "timestamp", "file_order"], kind="stable").reset_index(drop=True)
    user_ids = np.sort(df.user_id.unique())
    df["uidx"] = np.searchsorted(user_ids, df.user_id.to_numpy())
    df["iidx"] = iidx_of.loc[df.item_id.to_numpy()].to_numpy()
    df["order"] = df.groupby("uidx").cumcount()
    n_per_user = df.groupby("uidx").uidx.transform("size")
    from_end = n_per_user - df.order  # 1 = last
    has_targets = n_per_user >= 3
    test = df[has_targets & (from_end == 1)]
    valid = df[has_targets & (from_end == 2)]
    train = df[~has_targets | (from_end > 2)]
    cold = np.zeros(0, dtype=np.int64)
    if cold_items > 0:
        rng = np.random.default_rng(seed)
        targets = np.union1d(test.iidx.to_numpy(), valid.iidx.to_numpy())
        cold = np.sort(rng.choice(targets, size=min(cold_items, len(targets)), replace=False))
        train = train[~train.iidx.isin(cold)]
    cols = ["user_id", "item_id", "rating", "timestamp", "uidx", "iidx", "order"]
    return Split(
        train=train[cols].reset_index(drop=True),
        valid=valid[cols].reset_index(drop=True),
        test=test[cols].reset_index(drop=True),
        user_ids=user_ids,
        item_ids=item_ids,
        cold_items=cold,
    )


_FRAME_COLS = ("user_id", "item_id", "rating", "timestamp", "uidx", "iidx", "order")


def save_split(split: Split, path) -> None:
    arrays = {f"{part}_{c}": getattr(split, part)[c].to_numpy() for part in ("train", "valid", "test") for c in _FRAME_COLS}
    np.savez(path, user_ids=split.user_ids, item_ids=split.item_ids, cold_items=split.cold_items, **arrays)


def load_split(path) -> Split:
    with np.load(path, allow_pickle=False) as z:
        frames = {
            part: pd.DataFrame({c: z[f"{part}_{c}"] for c in _FRAME_COLS}) for part in ("train", "valid", "test")
        }
        return Split(**frames, user_ids=z["user_ids"], item_ids=z["item_ids"], cold_items=z["cold_items"])
