"""A small causal transformer (SASRec size) that generates the next item's semantic ID, level by level.

An item enters the sequence as the sum of its code-token embeddings (one table per level), so an
item never seen in training still has an embedding from its code. On top of the last hidden state
``h`` a head per level predicts code ``l`` from ``h`` plus the embeddings of codes ``< l``:

    log p(item | history) = sum_l log p(c_l | h, c_<l)

Training is teacher forcing on every position of the users' training sequences.

Two inputs carry what the retriever's order does not (both optional, see the config): each item's
CF vector beside its code tokens, and the genre the conversation asked for, added to ``h``. In
training, a share of the targets comes with one of its genres said, and then the softmax runs over
the items of that genre: the model learns to choose within what was asked, as it must when
constrained decoding runs over candidates that all meet the request.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
import scipy.special
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

PAD, BOS = -1, -2  # item slots in a window: padding on the left, the start of a user's history


@dataclass
class CodeTransformerConfig:
    vocab_sizes: tuple[int, ...] = (64, 64, 64, 64)  # per code level, the collision token last
    max_len: int = 50  # history items the model sees (the most recent ones)
    d_model: int = 64
    n_heads: int = 2
    n_layers: int = 2
    dropout: float = 0.2
    # training
    epochs: int = 15
    batch_size: int = 128
    lr: float = 5e-3
    weight_decay: float = 0.0
    # what the retriever cannot see, as inputs (the sizes are set by GenerativeReranker.fit; 0 = off):
    # each item's CF vector beside its code tokens (collaborative embeddings next to text codes),
    # projected and added to its code embeddings (a buffer of n_items rows); and the genre the
    # conversation asked for: at a share ``ask_share`` of the training targets one of the target's
    # genres is said and the softmax runs over the items of that genre, as constrained decoding
    # runs over candidates that meet what was asked
    use_cf: bool = True
    use_genres: bool = True
    cf_dim: int = 0
    n_items: int = 0
    n_genres: int = 0
    ask_share: float = 0.5
    # of the targets with a genre said, the share with a second of its genres said too (a blend, "a
    # funny horror film"): the input is the two genres' mean, the softmax over the items of either.
    # Off: 0.3 gave the same validation results (docs/notes/issue25.md)
    blend_share: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CodeTransformerConfig:
        d = dict(d)
        d["vocab_sizes"] = tuple(d["vocab_sizes"])
        return cls(**d)


class Block(nn.Module):
    def __init__(self, cfg: CodeTransformerConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, d // self.n_heads).transpose(1, 2) for t in (q, k, v))
        # no dropout on the attention weights: on CPU its random mask costs a fifth of a step
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(B, T, d)))
        return x + self.drop(self.mlp(self.ln2(x)))


class CodeTransformer(nn.Module):
    def __init__(self, cfg: CodeTransformerConfig):
        super().__init__()
        self.cfg = cfg
        d, V = cfg.d_model, cfg.vocab_sizes
        # input code embeddings: index V_l is padding, V_l + 1 marks the start of a history
        self.code_in = nn.ModuleList([nn.Embedding(v + 2, d) for v in V])
        self.pos = nn.Embedding(cfg.max_len, d)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.ln_f = nn.LayerNorm(d)
        # the already generated codes condition the next level's head
        self.code_prev = nn.ModuleList([nn.Embedding(v, d) for v in V[:-1]])
        self.heads = nn.ModuleList(
            [nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, v)) for v in V]
        )
        self.apply(self._init)
        if cfg.n_genres:  # the last row: no genre said
            self.genre_in = nn.Embedding(cfg.n_genres + 1, d)
            nn.init.zeros_(self.genre_in.weight)
        if cfg.cf_dim:
            # two zero rows after the items: BOS (row n, index -2) and PAD (row n + 1, index -1)
            self.register_buffer("item_cf", torch.zeros(cfg.n_items + 2, cfg.cf_dim))
            self.cf_in = nn.Linear(cfg.cf_dim, d, bias=False)
            nn.init.normal_(self.cf_in.weight, std=0.02)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def hidden(self, codes: torch.Tensor, pad: torch.Tensor | None = None,
               items: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states (B, T, d) for input codes (B, T, L); ``pad`` (B, T) marks left padding;
        ``items`` (B, T) the item indices (PAD -1, BOS -2), for their CF vectors."""
        B, T, L = codes.shape
        x = sum(self.code_in[level](codes[..., level]) for level in range(L))
        if self.cfg.cf_dim:
            if items is None:
                raise ValueError("this model reads the items' CF vectors: pass items")
            x = x + self.cf_in(self.item_cf[items])
        x = x + self.pos(torch.arange(self.cfg.max_len - T, self.cfg.max_len, device=codes.device))
        x = self.drop(x)
        mask = None
        if pad is not None:
            causal = torch.ones(T, T, dtype=torch.bool, device=codes.device).tril()
            # every query sees itself, so rows of padding stay finite
            mask = (causal & ~pad[:, None, :]) | torch.eye(T, dtype=torch.bool, device=codes.device)
            mask = mask[:, None]
        for block in self.blocks:
            x = block(x, mask)
        return self.ln_f(x)

    def level_logits(self, h: torch.Tensor, prefix: torch.Tensor, level: int) -> torch.Tensor:
        """Logits over code ``level`` given hidden states (..., d) and the codes before it (..., level)."""
        q = h
        for j in range(level):
            q = q + self.code_prev[j](prefix[..., j])
        return self.heads[level](q)

    def loss(
        self, codes_in: torch.Tensor, pad: torch.Tensor, codes_next: torch.Tensor, allowed: list[torch.Tensor],
        items_in: torch.Tensor | None = None, genre: torch.Tensor | None = None, genre2: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced cross-entropy of every level of the next item's code, over real positions.

        ``allowed[l]`` (B, T, V_l) marks the codes that follow the target's prefix among the items
        seen in training: the softmax is over those, so the model spends nothing on learning which
        tuples exist, and its scores mean what they mean in constrained decoding (renormalised
        over the children the trie allows). ``genre`` (B, T): the genre said with each target
        (n_genres: none); ``genre2``: a second one said with it (n_genres: none), the input then
        being the mean of the two embeddings, as at inference.
        """
        hs = self.hidden(codes_in, pad, items_in)
        if genre is not None:
            said = self.genre_in(genre)
            if genre2 is not None:
                two = (genre2 < self.cfg.n_genres)[..., None]
                said = torch.where(two, (said + self.genre_in(genre2)) / 2, said)
            hs = hs + said
        keep = ~pad
        h, target = hs[keep], codes_next[keep]
        total = h.new_zeros(())
        for level in range(len(self.cfg.vocab_sizes)):
            logits = self.level_logits(h, target, level).masked_fill(~allowed[level][keep], float("-inf"))
            total = total + F.cross_entropy(logits, target[:, level])
        return total


# ---- data -------------------------------------------------------------------------------------

def windows(sequences: list[np.ndarray], max_len: int) -> np.ndarray:
    """Training windows (n, max_len + 1) of item indices: BOS, the user's items, PAD on the left.

    Each user's history (with BOS in front) is cut from the end into windows of ``max_len`` targets,
    so every interaction is a target once.
    """
    rows = []
    for seq in sequences:
        if len(seq) == 0:
            continue
        tokens = np.concatenate([[BOS], np.asarray(seq, dtype=np.int64)])
        end = len(tokens)
        while end > 1:
            start = max(0, end - max_len - 1)
            w = tokens[start:end]
            rows.append(np.concatenate([np.full(max_len + 1 - len(w), PAD), w]))
            end -= max_len
    return np.array(rows, dtype=np.int64).reshape(-1, max_len + 1)


def code_table(codes: np.ndarray, vocab_sizes: tuple[int, ...]) -> torch.Tensor:
    """Item codes with two extra rows: PAD (index -1) and BOS (index -2) map to the reserved tokens."""
    V = np.asarray(vocab_sizes, dtype=np.int64)
    return torch.from_numpy(np.vstack([codes, V + 1, V]).astype(np.int64))


def catalog_trie(codes: np.ndarray, vocab_sizes: tuple[int, ...]) -> tuple[np.ndarray, list[torch.Tensor]]:
    """Each item's prefix node at every level (n_items, L), and per level the codes each node allows
    (n_nodes, V_l): the catalog's trie, used to mask the training softmax."""
    n, L = codes.shape
    nodes = np.zeros((n, L), dtype=np.int64)
    masks = []
    key = np.zeros(n, dtype=np.int64)
    for level in range(L):
        if level:
            key = key * vocab_sizes[level - 1] + codes[:, level - 1]
            nodes[:, level] = np.unique(key, return_inverse=True)[1]
        m = np.zeros((nodes[:, level].max() + 1, vocab_sizes[level]), dtype=bool)
        m[nodes[:, level], codes[:, level]] = True
        masks.append(torch.from_numpy(m))
    return nodes, masks


# ---- training ---------------------------------------------------------------------------------

def train(
    sequences: list[np.ndarray],
    codes: np.ndarray,
    cfg: CodeTransformerConfig,
    seed: int = 0,
    progress: bool = True,
    item_cf: np.ndarray | None = None,
    item_genres: np.ndarray | None = None,
) -> CodeTransformer:
    """Train a CodeTransformer on users' item sequences (iidx, time order) with item ``codes``.

    ``item_cf`` (n_items, cfg.cf_dim): the CF vectors beside the code tokens (when cfg.cf_dim);
    ``item_genres`` (n_items, cfg.n_genres) bool: each item's genres, for the asked genre (when
    cfg.n_genres).

    One torch thread: this model's kernels are too small to gain from two, and with two OpenMP
    threads one busy core stalls every op (measured 4 s per epoch on one thread, 50 s on two with
    the other core loaded). One thread also keeps the result independent of the core count.
    """
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng():  # seeded here; the caller's torch RNG is left as it was
            torch.manual_seed(seed)
            return _train(sequences, codes, cfg, seed, progress, item_cf, item_genres)
    finally:
        torch.set_num_threads(prev_threads)
        torch.use_deterministic_algorithms(prev_det)


def _train(
    sequences: list[np.ndarray], codes: np.ndarray, cfg: CodeTransformerConfig, seed: int, progress: bool,
    item_cf: np.ndarray | None, item_genres: np.ndarray | None,
) -> CodeTransformer:
    data = torch.from_numpy(windows(sequences, cfg.max_len))
    if len(data) == 0:
        raise ValueError("no training sequences: every user history is empty")
    table = code_table(codes, cfg.vocab_sizes)
    # the softmax runs over the trie of the items seen in training: an item never seen (cold) is
    # not pushed down as a negative, and its score comes from the codes it shares with others
    seen = np.unique(data[data >= 0].numpy())
    seen_nodes, masks = catalog_trie(codes[seen], cfg.vocab_sizes)
    nodes = np.zeros((len(codes) + 2, codes.shape[1]), dtype=np.int64)  # + PAD and BOS rows
    nodes[seen] = seen_nodes
    nodes = torch.from_numpy(nodes)
    node_table = None  # with genres: each item's node in the trie of no genre and of each genre
    if cfg.n_genres:
        if item_genres is None or item_genres.shape != (len(codes), cfg.n_genres):
            raise ValueError(f"item_genres must be ({len(codes)}, {cfg.n_genres}) when n_genres is set")
        node_table, masks, genre_mat, trie_row = _genre_tries(codes, seen, nodes, masks,
                                                              np.asarray(item_genres, dtype=bool), cfg.vocab_sizes,
                                                              pairs=cfg.blend_share > 0)

    model = CodeTransformer(cfg)
    if cfg.cf_dim:
        if item_cf is None or item_cf.shape != (len(codes), cfg.cf_dim):
            raise ValueError(f"item_cf must be ({len(codes)}, {cfg.cf_dim}) when cf_dim is set")
        model.item_cf[: len(codes)] = torch.from_numpy(np.asarray(item_cf, dtype=np.float32))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(data) / cfg.batch_size)
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(50, total // 10 + 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / total))
    )
    gen = torch.Generator().manual_seed(seed)
    log.info("training the code transformer: %d windows, %d epochs", len(data), cfg.epochs)
    model.train()
    bar = tqdm(range(cfg.epochs), desc="reranker", disable=not progress, unit="epoch")
    running = 0.0
    for _ in bar:
        order = torch.randperm(len(data), generator=gen)
        running = 0.0
        for b in range(steps_per_epoch):
            batch = data[order[b * cfg.batch_size : (b + 1) * cfg.batch_size]]
            items_in, items_next = batch[:, :-1], batch[:, 1:]
            pad = items_in == PAD  # padding is on the left: after a real input comes a real target
            genre = genre2 = None
            if node_table is None:
                node = nodes[items_next]
            else:
                genre, genre2 = _said_genres(genre_mat[items_next], cfg, gen)
                node = node_table[trie_row[genre, genre2], items_next]
            allowed = [masks[lv][node[..., lv]] for lv in range(len(masks))]
            loss = model.loss(table[items_in], pad, table[items_next], allowed, items_in, genre, genre2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            running += loss.item()
        bar.set_postfix(loss=f"{running / steps_per_epoch:.3f}")
    log.info("code transformer trained: last epoch loss %.3f", running / steps_per_epoch)
    return model.eval()


def _said_genres(has: torch.Tensor, cfg: CodeTransformerConfig, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """What is said with each target, from its genres ``has`` (B, T, G) as 0/1: one of them at
    ``ask_share`` of the targets, a second one too at ``blend_share`` of those (when it has two);
    each (B, T), G where none is said. The draws share ``gen`` with the batch order (so another
    share also reshuffles the later epochs); with ``blend_share`` 0 nothing more is drawn than
    before blends existed, and the model is the one built before."""
    G, shape = cfg.n_genres, has.shape[:-1]
    r = torch.rand((*shape, G), generator=gen) * has
    say = (r.amax(-1) > 0) & (torch.rand(shape, generator=gen) < cfg.ask_share)
    first = r.argmax(-1)
    second = torch.full_like(first, G)
    if cfg.blend_share > 0:
        rest = r.scatter(-1, first[..., None], 0.0)
        two = say & (rest.amax(-1) > 0) & (torch.rand(shape, generator=gen) < cfg.blend_share)
        second = torch.where(two, rest.argmax(-1), G)
    return torch.where(say, first, G), second


def _genre_tries(codes: np.ndarray, seen: np.ndarray, nodes: torch.Tensor, masks: list[torch.Tensor],
                 item_genres: np.ndarray, vocab_sizes: tuple[int, ...], pairs: bool = True):
    """The training softmax when genres are said: one trie per genre, and (``pairs``) per pair of
    genres some seen item has together, over the seen items of either (a blend's candidates have
    any of them).

    Returns (node_table (tries, n_items + 2, L): each item's node per level in each trie, row 0
    the catalog's (no genre said); the masks of every trie stacked per level; the genre matrix with
    the PAD and BOS rows; trie_row (G + 1, G + 1): the row of the genres said (G: none))."""
    n, L = codes.shape
    G = item_genres.shape[1]
    offset = [m.shape[0] for m in masks]
    per_level = [[m] for m in masks]
    table = [nodes]
    trie_row = np.zeros((G + 1, G + 1), dtype=np.int64)  # [first, second]; no genre said: row 0
    blends = sorted({(a, b) for i in seen for a in np.flatnonzero(item_genres[i])
                     for b in np.flatnonzero(item_genres[i]) if a < b}) if pairs else []
    for said in [(g,) for g in range(G)] + blends:
        node_g = np.zeros((n + 2, L), dtype=np.int64)
        items_g = seen[item_genres[seen][:, list(said)].any(1)]
        if len(items_g):
            found, m_g = catalog_trie(codes[items_g], vocab_sizes)
            node_g[items_g] = found + np.asarray(offset)
            for lv in range(L):
                per_level[lv].append(m_g[lv])
                offset[lv] += m_g[lv].shape[0]
        if len(said) == 1:
            trie_row[said[0], G] = len(table)
        else:
            trie_row[said[0], said[1]] = trie_row[said[1], said[0]] = len(table)
        table.append(torch.from_numpy(node_g))
    genre_mat = torch.from_numpy(np.vstack([item_genres, np.zeros((2, G), bool)]).astype(np.float32))
    return torch.stack(table), [torch.cat(p) for p in per_level], genre_mat, torch.from_numpy(trie_row)


# ---- inference in numpy ---------------------------------------------------------------------

def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + scipy.special.erf(x / np.sqrt(2.0)))


class CodeScorer:
    """The trained model's inference in numpy: one history -> per-level code log-probabilities.

    A request is one short sequence; numpy runs it in well under a millisecond on one core, where
    torch's per-op overhead and thread pool cost more than the arithmetic.
    """

    def __init__(self, model: CodeTransformer):
        self.cfg = model.cfg
        self.w = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    def hidden(self, codes: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """The last position's hidden state (d,) for input codes (T, L) (no padding) of ``items``
        (T,), whose CF vectors join the codes when the model has them (the start-of-history
        token, -1 or -2, has none: both extra rows are zero)."""
        w, cfg = self.w, self.cfg
        T, d = len(codes), cfg.d_model
        x = sum(w[f"code_in.{lv}.weight"][codes[:, lv]] for lv in range(codes.shape[1]))
        if cfg.cf_dim:
            if items is None:
                raise ValueError("this model reads the items' CF vectors: pass items")
            x = x + w["item_cf"][items] @ w["cf_in.weight"].T
        x = x + w["pos.weight"][cfg.max_len - T :]
        H, dh = cfg.n_heads, d // cfg.n_heads
        future = np.triu(np.ones((T, T), dtype=bool), 1)
        for i in range(cfg.n_layers):
            p = f"blocks.{i}."
            if i == cfg.n_layers - 1:  # only the last position is read: the last layer computes it alone
                future = future[-1:]
            a = _layer_norm(x, w[p + "ln1.weight"], w[p + "ln1.bias"]) @ w[p + "qkv.weight"].T + w[p + "qkv.bias"]
            q, k, v = (a[:, j * d : (j + 1) * d].reshape(T, H, dh).transpose(1, 0, 2) for j in range(3))
            q = q[:, -len(future) :]
            att = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
            att[:, future] = -np.inf
            att = np.exp(att - att.max(-1, keepdims=True))
            y = (att / att.sum(-1, keepdims=True)) @ v
            x = x[-len(future) :] + y.transpose(1, 0, 2).reshape(-1, d) @ w[p + "proj.weight"].T + w[p + "proj.bias"]
            m = _layer_norm(x, w[p + "ln2.weight"], w[p + "ln2.bias"])
            m = _gelu(m @ w[p + "mlp.0.weight"].T + w[p + "mlp.0.bias"]) @ w[p + "mlp.2.weight"].T + w[p + "mlp.2.bias"]
            x = x + m
        return _layer_norm(x[-1], w["ln_f.weight"], w["ln_f.bias"])

    def with_genres(self, h: np.ndarray, genres: np.ndarray) -> np.ndarray:
        """``h`` conditioned on the genres said (indices; their embeddings' mean; none: the model's
        no-genre row); unchanged for a model without genre input."""
        if not self.cfg.n_genres:
            return h
        emb = self.w["genre_in.weight"]
        return h + (emb[genres].mean(0) if len(genres) else emb[self.cfg.n_genres])

    def level_log_probs(self, h: np.ndarray, prefixes: np.ndarray, level: int) -> np.ndarray:
        """Log-probabilities (n, V_level) of code ``level`` after each prefix (n, level)."""
        w = self.w
        q = np.broadcast_to(h, (len(prefixes), len(h)))
        for j in range(level):
            q = q + w[f"code_prev.{j}.weight"][prefixes[:, j]]
        p = f"heads.{level}."
        z = _layer_norm(q, w[p + "0.weight"], w[p + "0.bias"])
        z = _gelu(z @ w[p + "1.weight"].T + w[p + "1.bias"]) @ w[p + "3.weight"].T + w[p + "3.bias"]
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))
