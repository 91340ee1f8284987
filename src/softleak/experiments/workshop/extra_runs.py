"""Chapter 7's other sweeps: A.2's grid of dataset compositions (one teacher per cell), Fig. 3 in chapter 1's 2D
toy, and the structured data of Fig. 4."""

from __future__ import annotations

import dataclasses

import pandas as pd
import torch

from ...data import split_student, toy_2d, uniform_random_labels
from ...distillation import cosine_similarities, one_hot, similarity_loss, soft_labels
from ...metrics import nearest_neighbour_labels, predictions
from ...models import MLPEnsemble
from ...runtime import derive_seed
from ...training import fit
from ..toy2d.config import C3, C20, ToyCase
from .base import accuracies, split_stratified, structured_data, train_students, train_teacher
from .config import VARIANTS, WorkshopConfig


def a2_batch(configs: list[dict], device) -> list[pd.DataFrame]:
    """The sweep's batch function: each cell of A.2's grid in turn."""
    return [a2_one(cfg, device) for cfg in configs]


def a2_one(cfg: dict, device) -> pd.DataFrame:
    """A.2: one (c, samples per class, d) cell: a teacher, and if it fits, students at ρ = a2_rho."""
    s, c, spc, d = cfg["seed"], cfg["c"], cfg["spc"], cfg["d"]
    cell = (c * 1_000 + spc) * 100_000 + d  # every cell its own data, fresh set and teacher
    X, y = uniform_random_labels(spc, d, c, derive_seed(s, "data", cell))
    Xf, yf = uniform_random_labels(cfg["fresh_per_class"], d, c, derive_seed(s, "val", cell))
    X, y, Xf, yf = X.to(device), y.to(device), Xf.to(device), yf.to(device)
    t_seed = derive_seed(s, "teacher_init", cell)
    teacher, z, epochs, reached = train_teacher(X, y, cfg["p"], t_seed, cfg["a2_teacher_epochs"], cfg["lr"], device,
                                                f"teacher(c={c}, spc={spc}, d={d})")
    with torch.no_grad():
        trivial = float(accuracies(teacher(Xf).argmax(1), yf)[0])
    row = {"seed": s, "teacher_steps": epochs, "teacher_reached_100": reached, "acc_trivial_T": trivial,
           "acc_star_T": float(accuracies(z.argmax(0)[None], y)[0]), "seed_teacher": t_seed}
    if not reached or int(cfg["a2_rho"] * spc) < 1:
        return pd.DataFrame([row])
    tr, te = split_stratified(y, cfg["a2_rho"], s)
    inits = list(range(cfg["a2_inits"]))
    model, _ = train_students((d, cfg["student_p"], cfg["student_p"], c), [derive_seed(s, "student_init", k) for k in inits],
                               X[tr], soft_labels(z[:, tr], cfg["tau"]).expand(len(inits), -1, -1), labels=y[tr],
                               epochs=cfg["a2_student_epochs"], lr=cfg["lr"], device=device,
                               names=[f"student(c={c}, spc={spc}, d={d}, init={k})" for k in inits])
    with torch.no_grad():
        pred = predictions(model(X))
    row["acc_train_S"] = float(accuracies(pred[:, tr], y[tr]).mean())
    row["acc_test_S"] = float(accuracies(pred[:, te], y[te]).mean())
    return pd.DataFrame([row])


def toy_batch(configs: list[dict], device) -> list[pd.DataFrame]:
    """Fig. 3 in chapter 1's 2D toy, every dataset of one case at once: the teachers form one
    ensemble, and the soft-label, independent and similarity students of all datasets three more."""
    case = ToyCase(**{f.name: configs[0][f.name] for f in dataclasses.fields(ToyCase)})
    c, inits = case.c, list(range(configs[0]["toy_inits"]))
    seeds = [cfg["toy_seed"] for cfg in configs]
    data = [toy_2d(case.n, c, derive_seed(s, "data")) for s in seeds]
    X = torch.stack([d[0] for d in data]).to(device)  # (T, n, 2)
    y = torch.stack([d[1] for d in data]).to(device)  # (T, n)
    teacher = MLPEnsemble((2, case.p, c), [derive_seed(s, "teacher_init") for s in seeds], device=device)
    tfit = fit(teacher, X, y, steps=case.teacher_max_steps, lr=case.teacher_lr, stop_at_acc=1.0,
               member_names=[f"teacher(c={c}, seed={s})" for s in seeds])
    with torch.no_grad():
        z = teacher(X)  # (T, c, n)
    reached = (z.argmax(1) == y).all(1).cpu().numpy()
    splits = [split_student(y[i].cpu(), case.rho, derive_seed(s, "split")) for i, s in enumerate(seeds)]
    tr = torch.stack([a for a, _ in splits]).to(device)  # (T, n_train): ⌊ρn⌋ for every dataset
    te = torch.stack([b for _, b in splits]).to(device)
    members = [(i, k) for i in range(len(seeds)) for k in inits]
    owner = torch.tensor([i for i, _ in members], device=device)
    X_tr = torch.gather(X, 1, tr[:, :, None].expand(-1, -1, 2))  # (T, n_train, 2)
    y_tr, y_te = torch.gather(y, 1, tr), torch.gather(y, 1, te)
    z_tr = torch.gather(z, 2, tr[:, None, :].expand(-1, c, -1))  # (T, c, n_train)
    init_seeds = [derive_seed(seeds[i], "student_init", k) for i, k in members]
    kinds = {
        "soft": (soft_labels(z_tr, case.tau), None, case.student_lr),
        "hard": (one_hot(y_tr, c), None, case.student_lr),
        "sim": (cosine_similarities(z_tr), similarity_loss, configs[0]["toy_sim_lr"]),
    }
    rows = {i: [] for i in range(len(seeds))}
    for kind, (target, loss, lr) in kinds.items():
        model, _ = train_students((2, case.p, c), init_seeds, X_tr[owner], target[owner],
                                   labels=None if kind == "sim" else y_tr[owner], epochs=case.student_steps, lr=lr,
                                   device=device, loss=loss,
                                   names=[f"{kind} student(c={c}, seed={seeds[i]}, init={k})" for i, k in members])
        with torch.no_grad():
            emb = model(X[owner])  # (E, c, n)
            if kind == "sim":
                emb_tr = torch.gather(emb, 2, tr[owner][:, None, :].expand(-1, c, -1))
                pred = nearest_neighbour_labels(emb_tr, y_tr[owner], emb)
            else:
                pred = predictions(emb)
        acc = (torch.gather(pred, 1, te[owner]) == y_te[owner]).float().mean(1).cpu().numpy()
        for e, (i, k) in enumerate(members):
            rows[i].append({"toy_seed": seeds[i], "c": c, "kind": kind, "init": k, "seed_student": init_seeds[e],
                            "acc_test_S": acc[e], "teacher_steps": int(tfit.steps[i]),
                            "teacher_reached_100": bool(reached[i])})
    return [pd.DataFrame(rows[i]) for i in range(len(seeds))]


def structured_batch(configs: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    """The sweep's batch function: each (variant, seed) of Fig. 4 in turn."""
    return [_structured_one(cfg, device) for cfg in configs]


def _structured_one(cfg: dict, device) -> dict[str, pd.DataFrame]:
    """Fig. 4, one variant and seed: a teacher fits 80 % of the images; students learn its soft labels."""
    s, variant = cfg["seed"], cfg["variant"]
    X, y = structured_data(cfg["structured"], cfg["data_dir"])
    g = torch.Generator().manual_seed(derive_seed(s, "split"))
    order = torch.randperm(len(y), generator=g)
    m = int(0.8 * len(y))
    mem, other = order[:m], order[m:]
    Xm, ym, Xo, yo = X[mem], y[mem], X[other], y[other]
    if variant in ("B", "D"):  # labels shuffled (both parts, each by its own permutation)
        gs = torch.Generator().manual_seed(derive_seed(s, "shuffle"))
        ym, yo = ym[torch.randperm(len(ym), generator=gs)], yo[torch.randperm(len(yo), generator=gs)]
    if variant in ("C", "D"):  # pixels shuffled by one fixed permutation for every image
        gp = torch.Generator().manual_seed(derive_seed(s, "treatment"))
        pix = torch.randperm(X.shape[1], generator=gp)
        Xm, Xo = Xm[:, pix], Xo[:, pix]
    Xm, ym, Xo, yo = Xm.to(device), ym.to(device), Xo.to(device), yo.to(device)
    t_seed = derive_seed(s, "teacher_init")
    teacher, z, epochs, reached = train_teacher(Xm, ym, cfg["structured_p"], t_seed, cfg["structured_teacher_epochs"],
                                                cfg["structured_lr"], device, f"teacher({variant}, seed={s})")
    with torch.no_grad():
        trivial = float(accuracies(teacher(Xo).argmax(1), yo)[0])
    base = {"seed": s, "variant": variant, "teacher_steps": epochs, "teacher_reached_100": reached,
            "acc_trivial_T": trivial, "seed_teacher": t_seed}
    if not reached:  # as in the main setting: no students of a teacher that did not memorize its data
        return {"runs": pd.DataFrame([base])}
    rows = []
    c = int(ym.max()) + 1
    inits = list(range(cfg["structured_inits"]))
    for rho in cfg["structured_rhos"]:
        tr, te = split_stratified(ym, rho, s)
        p = cfg["structured_p"]
        model, div = train_students((Xm.shape[1], p, p, c), [derive_seed(s, "student_init", k) for k in inits], Xm[tr],
                                     soft_labels(z[:, tr], cfg["structured_tau"]).expand(len(inits), -1, -1),
                                     labels=ym[tr], epochs=cfg["structured_student_epochs"], lr=cfg["structured_lr"],
                                     device=device, names=[f"student({variant}, rho={rho}, init={k})" for k in inits])
        with torch.no_grad():
            pred, pred_o = predictions(model(Xm)), predictions(model(Xo))
        for k in inits:
            rows.append({**base, "rho": rho, "init": k, "seed_student": derive_seed(s, "student_init", k),
                         "acc_train_S": accuracies(pred[k:k + 1, tr], ym[tr])[0],
                         "acc_test_S": accuracies(pred[k:k + 1, te], ym[te])[0],
                         "acc_other_S": accuracies(pred_o[k:k + 1], yo)[0]})
    return {"runs": pd.DataFrame(rows)}


def a2_configs(cfg: WorkshopConfig) -> list[dict]:
    """A.2's grid: one config per (c, samples per class, d) on the first seed."""
    return [{"c": c, "spc": spc, "d": d, "seed": cfg.seeds[0], "p": cfg.p, "student_p": cfg.student_p, "tau": cfg.tau,
             "lr": cfg.lr, "a2_student_epochs": cfg.a2.student_epochs or cfg.student_epochs, "a2_rho": cfg.a2.rho,
             "a2_inits": cfg.a2.inits, "a2_teacher_epochs": cfg.a2.teacher_epochs, "fresh_per_class": cfg.fresh_per_class}
            for c in cfg.a2.cs for spc in cfg.a2.spcs for d in cfg.a2.ds]


def toy_configs(cfg: WorkshopConfig) -> list[dict]:
    """Fig. 3 in the 2D toy: one config per (case, dataset seed)."""
    return [{**dataclasses.asdict(dataclasses.replace(case, teacher_max_steps=cfg.toy.teacher_steps,
                                                      student_steps=cfg.toy.student_steps)),
             "toy_seed": s, "toy_inits": cfg.toy.inits, "toy_sim_lr": cfg.toy.sim_lr}
            for case in (C3, C20) for s in cfg.toy.seeds]


def toy_key(conf: dict) -> int:
    """The 2D toy's batches: the datasets of one class count train together."""
    return conf["c"]


def structured_configs(cfg: WorkshopConfig) -> list[dict]:
    """Fig. 4: one config per (variant, seed)."""
    st = cfg.structured
    shared = {"structured": st.data, **{f"structured_{k}": v for k, v in dataclasses.asdict(st).items()
                                        if k not in ("data", "data_dir", "seeds")}}
    return [{"variant": v, "seed": s, **shared, "data_dir": st.data_dir} for v in VARIANTS for s in st.seeds]
