"""Chapter 2's teachers: one ensemble per architecture (and per rung of the premise ladder), every seed a member
(or three, for separate runs), its checkpoints ① ② ③ taken by their stop rules as it trains."""

from __future__ import annotations

import pandas as pd
import torch

from ...data import modular_addition
from ...runtime import derive_seed
from ...training import fit
from .config import TEACHERS, ModularConfig, parse_stop
from .ensembles import arch_dict, build_model, lr_schedule, macs, model_inputs


def mirror_masks(tokens: torch.Tensor, train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split D_val by commutativity: (mirrored, fresh) bool masks (E, P²) for index sets ``train`` (E, n*).

    A D_val pair (a, b) is *mirrored* when a ≠ b and its mirror (b, a) is in D*^T: a model that treats
    its two operands alike answers it from memory alone. *Fresh* pairs are the other D_val pairs (the
    mirror is in D_val too, or a = b); accuracy on them is what the rule of addition adds.
    """
    P2 = tokens.shape[0]
    P = int(round(P2 ** 0.5))
    mirror = tokens[:, 1] * P + tokens[:, 0]  # index of (b, a)
    in_train = torch.zeros(train.shape[0], P2, dtype=torch.bool, device=train.device)
    in_train[torch.arange(train.shape[0], device=train.device)[:, None], train] = True
    val = ~in_train
    mirrored = val & in_train[:, mirror] & (tokens[:, 0] != tokens[:, 1])
    return mirrored, val & ~mirrored


def run_teachers(batch: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    """One ensemble of teachers: curves, the three checkpoints and their logits on every pair, per seed.

    Checkpoints of one run (``separate_runs`` false): the run of seed s takes ① ② ③ in turn, each at the
    first record that meets its rule and not before the previous one. Separate runs (the authors' script):
    teacher k of seed s is its own member, from its own init (``derive_seed(s, "teacher_init", k)``), and
    leaves the ensemble once its rule is met. A ``>=`` or ``fit*`` rule takes the first record that meets
    it; a ``<`` rule waits for the teacher to fit D*^T (acc_star_T = 1), keeps the latest record below its
    level and is final once the level is reached (see :func:`parse_stop`). The run ends once every
    checkpoint is final, or at ``teacher_epochs``; a rule not met by then takes the last record, flagged
    ``met = False``. Premise-ladder teachers (``keep_logits`` false) return no logits.
    """
    a = batch[0]
    P = a["P"]
    separate = bool(a.get("separate_runs", False))
    runs = [(i, k) for i in range(len(batch)) for k in (TEACHERS if separate else (None,))]  # member -> (config, k)
    datas = [modular_addition(P, a["frac"], derive_seed(c["seed"], "data")) for c in batch]
    tokens, y = datas[0][0].to(device), datas[0][1].to(device)
    train = torch.stack([datas[i][2] for i, _ in runs]).to(device)  # (E, n*)
    val = torch.stack([datas[i][3] for i, _ in runs]).to(device)
    E = len(runs)
    X_all = model_inputs(a["arch"], tokens, P)
    X = X_all[train]  # (E, n*, ...)
    inits = [derive_seed(batch[i]["seed"], "teacher_init", k or 0) for i, k in runs]
    model = build_model(a, inits, device)
    val_mask = torch.zeros(E, P * P, dtype=torch.bool, device=device)
    val_mask[torch.arange(E, device=device)[:, None], val] = True
    mirrored, fresh = mirror_masks(tokens, train)
    owned = [list(range(3)) if k is None else [k - 1] for _, k in runs]  # the checkpoints each member takes
    taker = CheckpointTaker(model, X_all, [parse_stop(r) for r in a["stops"]], owned)
    hist = fit(model, X, y[train], steps=a["teacher_epochs"], lr=lr_schedule(a), betas=tuple(a["betas"]),
               weight_decay=a["weight_decay"], record_every=a["teacher_record_every"],
               eval_sets={"val": (X_all, y, None, val_mask), "fresh": (X_all, y, None, fresh),
                          "mirror": (X_all, y, None, mirrored)}, on_record=taker.on_record).history
    with torch.no_grad():
        last_logits = model(X_all).float()
    masks = {"train": train, "val": val, "fresh": fresh, "mirror": mirrored}
    return [teacher_tables(a, i, runs, inits, hist, taker, masks, y, last_logits) for i in range(len(batch))]


class CheckpointTaker:
    """The stop rules of one teacher ensemble, applied at each record (the trainer's ``on_record``).

    Member e takes the checkpoints ``owned[e]`` (all three for a run of checkpoints; its own k for a separate run)
    in turn: ``taken[e][k]`` is (epoch, logits on every pair, met) once taken, ``final[e][k]`` whether it can no
    longer change, ``fit_epoch[e]`` the member's first record with acc_star_T = 1. A member whose checkpoints are
    all final leaves the ensemble.
    """

    def __init__(self, model: torch.nn.Module, X_all: torch.Tensor, rules: list[tuple[str, str, float]],
                 owned: list[list[int]]):
        E = len(owned)
        self.model, self.X_all, self.rules, self.owned = model, X_all, rules, owned
        self.taken: list[list[tuple[int, torch.Tensor, bool] | None]] = [[None] * 3 for _ in range(E)]
        self.final = [[j not in owned[e] for j in range(3)] for e in range(E)]
        self.fit_epoch: list[int | None] = [None] * E

    def on_record(self, step: int, row: dict):
        E, fit_epoch = len(self.owned), self.fit_epoch
        values = {"epoch": [step] * E, "train": row["acc_train"].tolist(), "val": row["acc_val"].tolist(),
                  "fresh": row["acc_fresh"].tolist()}
        rows = row["_members"].tolist()  # the members still in the batch, in its row order
        logits = []

        def snapshot(e: int) -> torch.Tensor:
            if not logits:
                with torch.no_grad():
                    logits.append(self.model(self.X_all).float())  # (rows, P, P²)
            return logits[0][rows.index(e)].clone()

        stop = torch.zeros(E, dtype=torch.bool)
        for e in rows:
            if fit_epoch[e] is None and values["train"][e] >= 1.0:
                fit_epoch[e] = step
            values.setdefault("fit", [0.0] * E)[e] = step / fit_epoch[e] if fit_epoch[e] else 0.0
            self.take(e, step, values, snapshot)
            stop[e] = all(self.final[e])
        return stop

    def take(self, e: int, step: int, values: dict, snapshot) -> None:
        """Member e's checkpoints at this record, in turn: each waits for the one before it to be final."""
        taken, final = self.taken, self.final
        for k in self.owned[e]:
            kind, op, thr = self.rules[k]
            if final[e][k]:
                continue
            if k and not final[e][k - 1]:
                return
            value = values[kind][e]
            if op == ">=":
                if value < thr:
                    return
                taken[e][k], final[e][k] = (step, snapshot(e), True), True
            elif values["train"][e] < 1.0:  # not fitted yet: no memorizing teacher to take
                return
            elif value < thr:  # still below: the latest such record so far
                taken[e][k] = (step, snapshot(e), True)
                return
            else:  # the level is reached: the record kept before is the checkpoint
                if taken[e][k] is None:  # never below after the previous checkpoint: flagged, not met
                    taken[e][k] = (step, snapshot(e), False)
                final[e][k] = True


def teacher_tables(a: dict, i: int, runs: list[tuple], inits: list[int], hist: pd.DataFrame, taker: CheckpointTaker,
                   masks: dict[str, torch.Tensor], y: torch.Tensor, last_logits: torch.Tensor) -> dict[str, pd.DataFrame]:
    """Config i's tables: its members' curves, their checkpoints (accuracies recomputed from the kept logits) and
    the checkpoints' logits on every pair."""
    P, taken, final, fit_epoch = a["P"], taker.taken, taker.final, taker.fit_epoch
    last_step = int(hist["step"].max())
    curves, ckpts, logit_rows = [], [], []
    for e in [e for e, (j, _) in enumerate(runs) if j == i]:
        h = hist[hist["member"] == e]
        end = max((t[0] for t in taken[e] if t is not None), default=last_step) if all(final[e]) else last_step
        h = h[h["step"] <= end]  # a separate run ends at its checkpoint
        curves.append(pd.DataFrame({
            "run": runs[e][1] or 0, "init_seed": inits[e], "epoch": h["step"].to_numpy(),
            "acc_star_T": h["acc_train"].to_numpy(), "acc_val_T": h["acc_val"].to_numpy(),
            "acc_fresh_T": h["acc_fresh"].to_numpy(), "acc_mirror_T": h["acc_mirror"].to_numpy(),
            "loss_star_T": h["loss_train"].to_numpy()}))
        for k in taker.owned[e]:
            # a "<" rule still below its level when the run ends keeps its latest record (met)
            step, z, met = taken[e][k] if taken[e][k] is not None else (last_step, last_logits[e], False)
            correct = (z.argmax(0) == y).float()
            tr, va = masks["train"][e], masks["val"][e]
            ckpts.append({"teacher": k + 1, "rule": a["stops"][k], "met": met, "epoch": step,
                          "fit_epoch": float(fit_epoch[e]) if fit_epoch[e] is not None else float("nan"),
                          "init_seed": inits[e], "acc_star_T": float(correct[tr].mean()),
                          "acc_val_T": float(correct[va].mean()), "acc_fresh_T": float(correct[masks["fresh"][e]].mean()),
                          "acc_mirror_T": float(correct[masks["mirror"][e]].mean())})
            if a.get("keep_logits", True):
                frame = pd.DataFrame(z.T.cpu().numpy(), columns=[f"z{j}" for j in range(P)])
                frame.insert(0, "teacher", k + 1)
                logit_rows.append(frame)
    logit_frame = (pd.concat(logit_rows, ignore_index=True) if logit_rows
                   else pd.DataFrame({"teacher": pd.Series(dtype="int64")}))
    return {"teacher_curve": pd.concat(curves, ignore_index=True),
            "checkpoints": pd.DataFrame(ckpts).sort_values("teacher").reset_index(drop=True),
            "logits": logit_frame}


def teacher_configs(cfg: ModularConfig) -> list[dict]:
    """Every architecture's teachers (one per seed) and the premise ladder's, for one sweep."""
    tconfs = [{**arch_dict(cfg, arch), "seed": s, "role": "main"} for arch in cfg.archs for s in cfg.seeds]
    if "transformer" in cfg.archs:
        tconfs += [{**arch_dict(cfg, "transformer", a), "seed": cfg.premise_seed, "role": "premise",
                    "keep_logits": False} for a in cfg.premise]
    return tconfs


def teacher_key(c: dict) -> tuple:
    """The teachers that train as one ensemble: one architecture and size (and role) over every seed."""
    return (c["role"], c["arch"], c["P"], c["frac"], c.get("d_model"))


def teacher_cost(batch: list[dict]) -> float:
    """A teacher batch's cost for the sweep's scheduler: members × epochs × |D*^T| × a sample's multiply-adds."""
    a = batch[0]
    return len(batch) * a["teacher_epochs"] * a["frac"] * a["P"] ** 2 * macs(a)
