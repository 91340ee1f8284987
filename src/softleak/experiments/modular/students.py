"""Chapter 2's students: one ensemble per (architecture, ρ, τ) over every seed and teacher, trained on the soft labels
of the teachers' checkpoints until each converges by the declared rule; and the budget they train at, set once the
teachers have run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ...data import modular_addition, split_student
from ...distillation import soft_labels
from ...metrics import FULL
from ...runtime import derive_seed, rho_index, split_seed
from ...training import fit
from .config import (CONV_ACC, CONV_LOSS, CONV_LOSS_FLOOR, CONV_WINDOW, GENERALIZED, ModularConfig,
                     planned_teacher_epochs, student_budget)
from .ensembles import arch_dict, build_model, lr_schedule, macs, model_inputs


def converged(window: np.ndarray) -> bool:
    """The declared convergence rule on one student's records over the window, columns (loss, accuracies…):
    every accuracy moved by at most CONV_ACC and the loss by at most CONV_LOSS of its latest value or
    CONV_LOSS_FLOOR nats, whichever is larger."""
    spread = window.max(axis=0) - window.min(axis=0)
    return bool(spread[0] <= max(CONV_LOSS * abs(window[-1, 0]), CONV_LOSS_FLOOR) and (spread[1:] <= CONV_ACC).all())


def student_init_seed(c: dict, init_index: int) -> int:
    """The seed of a student's initial weights: its own (``derive_seed(seed, "student_init", ρ)``), or with
    ``student_init = "teacher"`` its teacher's (the seed :func:`~.teachers.run_teachers` built it from: the run of
    its seed, or teacher k's own run when teachers are separate runs)."""
    if c.get("student_init", "own") == "teacher":
        return derive_seed(c["seed"], "teacher_init", c["teacher"] if c.get("separate_runs") else 0)
    return derive_seed(c["seed"], "student_init", init_index)


def run_students(batch: list[dict], teachers: dict, device) -> list[dict[str, pd.DataFrame]]:
    """Students of one (arch, ρ, τ): every seed and teacher in the batch, as one ensemble.

    Each student stops on its own, and leaves the ensemble, once it has converged by the declared rule
    (:func:`converged` over the last ``CONV_WINDOW`` of its budget) or is complete (acc_train_S, acc_test_S and
    acc_val_S all ≥ FULL: nothing left to learn); otherwise at the budget's end (``stop = "cap"``: not converged).
    """
    a = batch[0]
    P, rho, tau = a["P"], a["rho"], a["tau"]
    init_index = rho_index(rho)  # ρ's value, in the units of runtime.split_seed
    tokens, y, _, _ = modular_addition(P, a["frac"], 0)
    tokens, y = tokens.to(device), y.to(device)
    X_all = model_inputs(a["arch"], tokens, P)
    X, targets, labels, test_masks, val_masks, teacher_pred, inits = [], [], [], [], [], [], []
    for c in batch:
        _, _, star, val = modular_addition(P, a["frac"], derive_seed(c["seed"], "data"))
        tr_local, te_local = split_student(y[star.to(device)].cpu(), rho, split_seed(c["seed"], rho))
        train_s, test_s = star[tr_local].to(device), star[te_local].to(device)
        z = teachers[a["arch"], c["seed"]][c["teacher"] - 1].to(device)  # (P, P²) float32
        X.append(X_all[train_s])
        targets.append(soft_labels(z[:, train_s].double(), tau).T)  # (n, c): see below
        labels.append(y[train_s])
        tm = torch.zeros(P * P, dtype=torch.bool, device=device)
        tm[test_s] = True
        vm = torch.zeros(P * P, dtype=torch.bool, device=device)
        vm[val.to(device)] = True
        test_masks.append(tm)
        val_masks.append(vm)
        teacher_pred.append(z.argmax(0))
        inits.append(student_init_seed(c, init_index))
    model = build_model(a, inits, device)
    # (E, c, n) targets over sample-major memory, the layout of the transformer's logits: the loss then
    # runs over contiguous rows (softleak.metrics)
    targets = torch.stack(targets).contiguous().transpose(1, 2) if a["arch"] == "transformer" else \
        torch.stack(targets).transpose(1, 2).contiguous()
    test_mask, val_mask = torch.stack(test_masks), torch.stack(val_masks)
    E, budget = len(batch), a["student_epochs"]
    window = max(CONV_WINDOW * budget, 2 * a["record_every"])
    seen: list[list[tuple]] = [[] for _ in range(E)]
    stop_kind = ["cap"] * E

    def on_record(step: int, row: dict) -> torch.Tensor:
        stop = torch.zeros(E, dtype=torch.bool)
        cols = [row[k].tolist() for k in ("loss_train", "acc_train", "acc_test", "acc_val")]
        for e in row["_members"].tolist():
            seen[e].append((step, *(col[e] for col in cols)))
            if min(cols[1][e], cols[2][e], cols[3][e]) >= FULL:
                stop[e], stop_kind[e] = True, "complete"
            elif step >= window:
                recent = np.array([r[1:] for r in seen[e] if r[0] >= step - window])
                if len(recent) >= 2 and converged(recent):
                    stop[e], stop_kind[e] = True, "converged"
        return stop

    fitted = fit(
        model, torch.stack(X), targets, labels=torch.stack(labels), steps=budget,
        lr=lr_schedule({**a, "lr": a["student_lr"]}), betas=tuple(a["betas"]), weight_decay=a["weight_decay"],
        record_every=a["record_every"],
        eval_sets={"test": (X_all, y, None, test_mask), "val": (X_all, y, None, val_mask),
                   "matchT": (X_all, torch.stack(teacher_pred), None, val_mask)},
        member_names=[f"seed{c['seed']}-teacher{c['teacher']}" for c in batch], on_record=on_record,
    )
    return student_tables(batch, fitted, stop_kind, budget)


def student_tables(batch: list[dict], fitted, stop_kind: list[str], budget: int) -> list[dict[str, pd.DataFrame]]:
    """Each student's final row (epochs, how it stopped, its last accuracies, its fit and generalization epochs)
    and its curve, which ends where it stopped."""
    h = fitted.history.rename(columns={"step": "epoch", "acc_train": "acc_train_S", "acc_test": "acc_test_S",
                                       "acc_val": "acc_val_S", "acc_matchT": "acc_match_T_val",
                                       "loss_train": "loss_train_S"})
    out = []
    for e, c in enumerate(batch):
        hk = h[h["member"] == e].drop(columns=["member", "member_name"])
        hk = hk[hk["epoch"] <= int(fitted.steps[e])].reset_index(drop=True)  # a stopped student's curve ends there
        last = hk.iloc[-1]
        row = {"epochs": int(fitted.steps[e]), "budget": budget, "stop": stop_kind[e],
               "converged": stop_kind[e] != "cap",
               **{m: float(last[m]) for m in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val")},
               "fit_epoch": _first_epoch(hk, "acc_train_S", FULL), "gen_epoch": _first_epoch(hk, "acc_val_S", GENERALIZED)}
        out.append({"runs": pd.DataFrame([row]), "curves": hk})
    return out


def _first_epoch(h: pd.DataFrame, col: str, level: float) -> float:
    """First recorded epoch at which ``col`` reaches ``level`` (NaN if never)."""
    hit = h.loc[h[col] >= level, "epoch"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def budget_table(checkpoints: pd.DataFrame, cfg: ModularConfig) -> pd.DataFrame:
    """The student budget of every architecture and τ, set once the teachers have run: one row per (arch, τ)
    with E② and E③ (the latest over seeds), the budget in epochs and in training time lr × epochs, and
    whether the preset's cap cut it."""
    rows = []
    for arch in cfg.archs:
        ck = checkpoints[checkpoints["arch"] == arch]
        planned = planned_teacher_epochs(cfg.arch(arch))
        e2, e3 = (float(ck.loc[ck["teacher"] == k, "epoch"].max()) if (ck["teacher"] == k).any() else planned[k - 1]
                  for k in (2, 3))
        uncapped = student_budget(cfg, e2, e3, cap=False)
        for tau, epochs in cfg.budgets(arch, e2, e3).items():
            rows.append({"arch": arch, "tau": tau, "teacher2_epoch": e2, "teacher3_epoch": e3, "student_epochs": epochs,
                         "lr_epochs": epochs * (cfg.student_lr or cfg.lr), "declared": cfg.epochs_of(arch) is None,
                         "capped": cfg.epochs_of(arch) is None and epochs < uncapped})
    return pd.DataFrame(rows)


def student_configs(cfg: ModularConfig, budgets: pd.DataFrame | None = None) -> list[dict]:
    """Every student: architecture × τ × teacher × ρ × seed, at the budgets of :func:`budget_table` (the
    planning estimate without one)."""
    student = {"record_every": cfg.record_every, "student_lr": cfg.student_lr or cfg.lr,
               **({"student_init": cfg.student_init} if cfg.student_init != "own" else {})}  # "own": keys as before
    out = []
    for arch in cfg.archs:
        epochs = (cfg.budgets(arch) if budgets is None
                  else dict(budgets.loc[budgets["arch"] == arch, ["tau", "student_epochs"]].itertuples(index=False)))
        out += [{**arch_dict(cfg, arch), **student, "seed": s, "rho": r, "tau": t, "teacher": k,
                 "student_epochs": int(epochs[t])}
                for t in epochs for k in cfg.teachers_of(t, arch) for r in cfg.rhos_of(arch) for s in cfg.seeds]
    return out


def student_key(c: dict) -> tuple:
    """The students that train as one ensemble: one (architecture, ρ, τ) over every seed and teacher."""
    return (c["arch"], c["rho"], c["tau"])


def student_cost(batch: list[dict]) -> float:
    """A student batch's cost for the sweep's scheduler: members × epochs × |D_train^S| × a sample's multiply-adds."""
    a = batch[0]
    return len(batch) * a["student_epochs"] * a["rho"] * a["frac"] * a["P"] ** 2 * macs(a)
