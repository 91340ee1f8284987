"""Chapter 7's main setting: one teacher per data seed, retrained identically by each experiment that reads it
(the student's capacity and one student over ρ, A.1, A.3, the similarity students of Fig. 3), each experiment
cached on its own."""

from __future__ import annotations

import pandas as pd
import torch

from ...data import uniform_random_labels
from ...distillation import cosine_similarities, cut_tail, remove_class_entry, similarity_loss, soft_labels
from ...metrics import nearest_neighbour_labels, predictions
from ...runtime import derive_seed, split_seed
from .base import accuracies, digest, heldout_rows, split_stratified, train_students, train_teacher
from .config import MAIN_EXPERIMENTS, WorkshopConfig, flat_values


def _main_data(cfg: dict, device):
    """Data, fresh set, teacher and its soft labels of one dataset seed of the main setting."""
    s = cfg["seed"]
    X, y = uniform_random_labels(cfg["samples_per_class"], cfg["d"], cfg["c"], derive_seed(s, "data"))
    Xf, yf = uniform_random_labels(cfg["fresh_per_class"], cfg["d"], cfg["c"], derive_seed(s, "val"))
    X, y, Xf, yf = X.to(device), y.to(device), Xf.to(device), yf.to(device)
    t_seed = derive_seed(s, "teacher_init", cfg["p"])
    teacher, z, epochs, reached = train_teacher(X, y, cfg["p"], t_seed, cfg["teacher_epochs"], cfg["lr"], device,
                                                f"teacher(seed={s})")
    with torch.no_grad():
        trivial = float(accuracies(teacher(Xf).argmax(1), yf)[0])
    base = {"seed": s, "seed_data": derive_seed(s, "data"), "seed_teacher": t_seed, "teacher_steps": epochs,
            "teacher_reached_100": reached, "acc_trivial_T": trivial, "teacher_digest": digest(z)}
    return X, y, Xf, yf, z, base


def main_batch(configs: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    """The sweep's batch function: each (experiment, seed) config of the main setting in turn."""
    return [_main_one(cfg, device) for cfg in configs]


def _main_one(cfg: dict, device) -> dict[str, pd.DataFrame]:
    X, y, Xf, yf, z, base = _main_data(cfg, device)
    s, d, c, exp = cfg["seed"], cfg["d"], cfg["c"], cfg["experiment"]
    rows, held = [], []
    if not base["teacher_reached_100"]:  # the workshop leaves such a cell empty: so does the book
        return {"runs": pd.DataFrame([{**base, "experiment": exp}])}

    def record(model, members, tr, te, rho, extra, diverged, names, pred_fn=None):
        with torch.no_grad():
            if pred_fn is None:
                pred_all, pred_f = predictions(model(X)), predictions(model(Xf))
            else:
                pred_all, pred_f = pred_fn(model)
        init_seeds = [derive_seed(s, "student_init", k) for k in members]
        train, test, fresh = accuracies(pred_all[:, tr], y[tr]), accuracies(pred_all[:, te], y[te]), accuracies(pred_f, yf)
        total = accuracies(pred_all, y)
        for e, k in enumerate(members):
            rows.append({**base, "experiment": exp, "rho": rho, "init": k, "seed_student": init_seeds[e],
                         "seed_split": split_seed(s, rho), "acc_train_S": train[e], "acc_test_S": test[e],
                         "acc_fresh_S": fresh[e], "acc_total_S": total[e], "diverged": names[e] in diverged,
                         **{key: (v[e] if isinstance(v, list) else v) for key, v in extra.items()}})
        return pred_all

    inits = list(range(cfg.get("inits", 0)))  # A.1 has its own count
    if exp == "capacity":
        probs = soft_labels(z, cfg["tau"])
        for width in cfg["widths"]:
            for rho in cfg["rhos"]:
                tr, te = split_stratified(y, rho, s)
                names = [f"student(p={width}, rho={rho}, init={k})" for k in inits]
                model, div = train_students((d, width, width, c), [derive_seed(s, "student_init", k) for k in inits],
                                             X[tr], probs[:, tr].expand(len(inits), -1, -1), labels=y[tr],
                                             epochs=cfg["student_epochs"], lr=cfg["lr"], device=device, names=names)
                pred = record(model, inits, tr, te, rho, {"width": width, "tau": cfg["tau"], "lr": cfg["lr"]}, div, names)
                if width == cfg["student_p"]:
                    held.append(heldout_rows("logit", rho, inits, te, y, pred[:, te], s))
    elif exp == "a1":
        rho = cfg["a1_rho"]
        tr, te = split_stratified(y, rho, s)
        inits = list(range(cfg["a1_inits"]))
        members = [(tau, k) for tau in cfg["a1_taus"] for k in inits]
        targets = torch.stack([soft_labels(z[:, tr], tau) for tau, _ in members])
        for lr in cfg["a1_lrs"]:
            names = [f"student(tau={tau}, lr={lr}, init={k})" for tau, k in members]
            model, div = train_students((d, cfg["student_p"], cfg["student_p"], c),
                                         [derive_seed(s, "student_init", k) for _, k in members], X[tr], targets,
                                         labels=y[tr], epochs=cfg["student_epochs"], lr=lr, device=device, names=names)
            record(model, [k for _, k in members], tr, te, rho,
                   {"width": cfg["student_p"], "tau": [tau for tau, _ in members], "lr": lr}, div, names)
    elif exp == "a3":
        _a3(cfg, X, y, Xf, yf, z, base, rows, device)
    elif exp == "sim":
        sims = cosine_similarities(z)  # (n, n): the teacher's similarity scores
        for rho in cfg["sim_rhos"] or cfg["rhos"]:
            tr, te = split_stratified(y, rho, s)
            names = [f"similarity student(rho={rho}, init={k})" for k in inits]
            target = sims[tr][:, tr].expand(len(inits), -1, -1)
            model, div = train_students((d, cfg["student_p"], cfg["student_p"], c),
                                         [derive_seed(s, "student_init", k) for k in inits], X[tr], target,
                                         labels=None, epochs=cfg["sim_epochs"], lr=cfg["sim_lr"], device=device,
                                         names=names, loss=similarity_loss)

            def nn_predict(m, tr=tr):
                emb = m(X)
                return nearest_neighbour_labels(emb[:, :, tr], y[tr], emb), nearest_neighbour_labels(emb[:, :, tr], y[tr], m(Xf))

            pred = record(model, inits, tr, te, rho, {"width": cfg["student_p"], "lr": cfg["sim_lr"]}, div, names,
                          pred_fn=nn_predict)
            held.append(heldout_rows("sim", rho, inits, te, y, pred[:, te], s))
    else:
        raise ValueError(f"experiment={exp!r} is not allowed: one of {', '.join(MAIN_EXPERIMENTS)}")
    out = {"runs": pd.DataFrame(rows)}
    if held:
        out["heldout"] = pd.concat(held, ignore_index=True)
    return out


def _a3(cfg, X, y, Xf, yf, z, base, rows, device):
    """A.3: the students of one teacher with information removed from what they see."""
    s, d, c, rho = cfg["seed"], cfg["d"], cfg["c"], cfg["a3_rho"]
    tr, te = split_stratified(y, rho, s)
    probs = soft_labels(z[:, tr], cfg["tau"])
    y_tr = y[tr]
    inits = list(range(cfg["inits"]))
    classes = list(cfg["a3_classes"])
    treatments = [("none", -1, probs)]
    treatments += [("zero_entry", k, remove_class_entry(probs, y_tr, k)) for k in classes]
    treatments += [("tail_smallest", kk, cut_tail(probs, kk)) for kk in cfg["a3_ks"]]
    treatments += [("tail_random", kk, cut_tail(probs, kk, mode="random", seed=derive_seed(s, "treatment", kk)))
                   for kk in cfg["a3_ks"]]
    treatments += [("remove_samples", k, probs) for k in classes]
    members = [(name, arg, k) for name, arg, _ in treatments for k in inits]
    targets = torch.stack([t for _, _, t in treatments for _ in inits])
    mask = torch.ones(len(members), len(tr), dtype=torch.bool, device=device)
    for e, (name, arg, _) in enumerate(members):
        if name == "remove_samples":
            mask[e] = y_tr != arg
    names = [f"student({name}={arg}, init={k})" for name, arg, k in members]
    model, div = train_students((d, cfg["student_p"], cfg["student_p"], c),
                                 [derive_seed(s, "student_init", k) for _, _, k in members], X[tr], targets,
                                 labels=y_tr, epochs=cfg["student_epochs"], lr=cfg["lr"], device=device,
                                 names=names, sample_mask=mask)
    with torch.no_grad():
        pred, pred_f = predictions(model(X)), predictions(model(Xf))
    for e, (name, arg, k) in enumerate(members):
        cls = [arg] if name in ("zero_entry", "remove_samples") else classes  # the classes whose accuracy is read
        te_c = te[torch.isin(y[te], torch.tensor(cls, device=device))]
        f_c = torch.isin(yf, torch.tensor(cls, device=device))
        seen = tr[mask[e]]
        rows.append({**base, "experiment": "a3", "rho": rho, "init": k, "treatment": name, "arg": arg,
                     "seed_student": derive_seed(s, "student_init", k), "seed_split": split_seed(s, rho),
                     "acc_train_S": float((pred[e, seen] == y[seen]).float().mean()),
                     "acc_test_S": float((pred[e, te] == y[te]).float().mean()),
                     "acc_test_cls": float((pred[e, te_c] == y[te_c]).float().mean()),
                     "acc_fresh_S": float((pred_f[e] == yf).float().mean()),
                     "acc_fresh_cls": float((pred_f[e, f_c] == yf[f_c]).float().mean()),
                     "diverged": names[e] in div, "width": cfg["student_p"], "tau": cfg["tau"]})


def main_configs(cfg: WorkshopConfig) -> list[dict]:
    """One config per (main experiment, seed); A.1 on the first seed only. Each carries only the settings its
    experiment reads (its cache key)."""
    shared = flat_values(cfg)
    main_keys = ("d", "c", "samples_per_class", "p", "student_p", "widths", "tau", "lr", "teacher_epochs",
                 "student_epochs", "rhos", "inits", "fresh_per_class", "a1_taus", "a1_lrs", "a1_rho", "a1_inits",
                 "a3_rho", "a3_classes", "a3_ks", "sim_lr", "sim_epochs", "sim_rhos")
    base = {k: shared[k] for k in main_keys}
    keep = {"capacity": ("widths", "rhos", "inits", "tau", "student_p"), "a1": ("a1_taus", "a1_lrs", "a1_rho", "a1_inits", "student_p"),
            "a3": ("a3_rho", "a3_classes", "a3_ks", "inits", "tau", "student_p"), "sim": ("rhos", "sim_rhos", "inits", "sim_lr",
                                                                                         "sim_epochs", "student_p")}
    specific = {k for ks in keep.values() for k in ks}
    configs = []
    for exp in MAIN_EXPERIMENTS:
        for s in cfg.seeds[:1] if exp == "a1" else cfg.seeds:
            conf = {k: v for k, v in base.items() if k not in specific or k in keep[exp]}
            configs.append({**conf, "experiment": exp, "seed": s})
    return configs
