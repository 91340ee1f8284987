"""Chapter 8's runs: per teacher, its training, then every release recipe's students in one ensemble (two for the
canaries, one per mode), audited by :mod:`softleak.audit`; the recipes a run compares and the plan that costs it."""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pandas as pd
import torch

from ... import audit
from ...audit import example as digit_example
from ...audit.stats import PRIMARY, Records, Sets, analyse
from ...data import DIGITS_IMAGES, gaussian_random_labels, split_student
from ...distillation import release
from ...models import MLPEnsemble
from ...plan import META, Batch, Fit
from ...runtime import derive_seed, resolve_device, split_seed
from ...sweeps import default_workers, run_sweep
from ...training import fit
from .config import MODES, NAMESPACE, TABLES, ReleaseConfig

def recipes(cfg: ReleaseConfig, part: str) -> list[dict]:
    """Every release recipe of one setting: ``family``, ``knob`` (NaN where there is none), the recipe's
    ``defense`` text and its temperature ``tau``. The undefended release is the temperature family at
    the setting's τ."""
    if part == "random":
        tau, taus, topks, rounds, quants, noises, combos = (cfg.tau, cfg.taus, cfg.topks, cfg.rounds, cfg.quants,
                                                            cfg.noises, cfg.combos)
    else:
        can = cfg.canary
        tau, taus, topks, rounds, quants, noises, combos = (can.tau, can.taus, can.topks, can.rounds, can.quants,
                                                            can.noises, ())
    out = [{"family": "temperature", "knob": float(t), "defense": "none", "tau": float(t)} for t in taus]
    out += [{"family": "top-k", "knob": float(k), "defense": f"topk:{k}", "tau": tau} for k in topks]
    out += [{"family": "rounding", "knob": float(b), "defense": f"round:{b}", "tau": tau} for b in rounds]
    out += [{"family": "quantisation", "knob": float(b), "defense": f"quant:{b}", "tau": tau} for b in quants]
    out += [{"family": "logit noise", "knob": float(s), "defense": f"noise:{s:g}", "tau": tau} for s in noises]
    out += [{"family": "hard labels", "knob": float("nan"), "defense": "hard", "tau": tau}]
    out += [{"family": "combined", "knob": float("nan"), "defense": s, "tau": tau} for s in combos]
    for r in out:
        r["recipe"] = r["defense"] if r["family"] != "temperature" else f"τ = {r['tau']:g}"
    return out


def _recipe_text(recipe: dict) -> str:
    """A recipe's identity for its seeds: its defense and temperature (grid position never decides a seed)."""
    return f"{recipe['defense']}@{recipe['tau']:g}"


def release_all(z: torch.Tensor, rs: list[dict], inits: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """(len(rs) · inits, c, n) released soft labels, recipe-major, from teacher logits z (c, n), and per member
    the share of released vectors that are one-hot (a recipe that rounds every entry but one to 0 releases the
    hard label). A noisy recipe draws its noise afresh for every student start, seeded by its text and the start
    (:func:`softleak.audit.noise_seed`), as the audit does."""
    targets = [release(z.double(), r["tau"], r["defense"], seed=audit.noise_seed(seed, _recipe_text(r), k))
               for r in rs for k in range(inits)]
    one_hot = [float((t.amax(dim=-2) >= 1 - 1e-12).double().mean()) for t in targets]
    return torch.stack([t.float() for t in targets]), np.asarray(one_hot)


def _audit_tables(rs: list[dict], inits: int, seed: int, conf: dict, held, fresh, test=None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per recipe, the audit's record-level analysis of its students (:func:`softleak.audit.analyse`): one row of
    values, bootstrap intervals over records and starts, null ranges, p-values and verdict, and the null draws of
    the verdict's statistic (the exposure gap) for the pooled test over teachers. ``held``, ``fresh``, ``test``:
    (logits (E, c, n), labels[, teacher's classes]) of every member."""
    rows, draws = [], []
    for i, r in enumerate(rs):
        part = slice(i * inits, (i + 1) * inits)
        sets = Sets(Records(held[0][part], held[1]), Records(fresh[0][part], fresh[1], agree_with=fresh[2]),
                    None if test is None else Records(test[0][part], test[1]))
        found = analyse(sets, replicates=conf["audit_bootstrap"], permutations=conf["audit_null"], null_by="records",
                        seed=derive_seed(seed, "shuffle", audit.core.recipe_index(_recipe_text(r))))
        rows.append({"recipe": r["recipe"], "family": r["family"], **found.row()})
        gap = found.null_draws.get(PRIMARY["records"], np.array([]))
        draws.append(pd.DataFrame({"recipe": r["recipe"], "draw": np.arange(gap.size), "exposure_gap": gap}))
    return pd.DataFrame(rows), pd.concat(draws, ignore_index=True)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.double().cpu().numpy()


def _train(X, targets, labels, *, hidden, seeds, steps, lr, heldout, device, name):
    """Students of every recipe and init in one ensemble, by the audit's own trainer; the held-out accuracy is
    recorded 5 times (for "still rising"). Returns the model, the held-out accuracy at 80 % of the epochs,
    the final training accuracy and the names of diverged members, per member."""
    spec = audit.StudentSpec(hidden=(hidden,), epochs=steps, lr=lr)
    model, result = audit.train_students(X, targets, spec, labels=labels, seeds=seeds, device=device, desc=name,
                                         eval_sets={"heldout": heldout}, record_every=max(1, steps // 5))
    h = result.history
    late = h[h["step"] <= 0.8 * steps]["step"].max()
    acc80 = h[h["step"] == late].sort_values("member")["acc_heldout"].to_numpy()
    return model, acc80, result.final("acc_train"), set(result.diverged)


def _rows(metrics: pd.DataFrame, rs: list[dict], inits: int, seeds: list[int], acc80, base: dict) -> pd.DataFrame:
    info = pd.DataFrame([{**r, "init": k} for r in rs for k in range(inits)])
    out = pd.concat([info, metrics.reset_index(drop=True)], axis=1)
    out["acc_heldout_80"] = acc80
    out["seed_student"] = seeds
    for k, v in base.items():
        out[k] = v
    return out


def _random_one(conf: dict, device) -> pd.DataFrame:
    d, c, p, n = conf["d"], conf["c"], conf["p"], conf["n"]
    cell = derive_seed(conf["seed"], "data", n)
    X, y = gaussian_random_labels(n, d, c, derive_seed(cell, "data"))
    Xf, yf = gaussian_random_labels(conf["fresh"], d, c, derive_seed(cell, "val"), balanced=False)
    X, y, Xf, yf = (t.to(device) for t in (X, y, Xf, yf))
    t_seed = derive_seed(cell, "teacher_init", p)
    teacher = MLPEnsemble((d, p, c), [t_seed], device=device)
    fit(teacher, X, y, steps=conf["teacher_steps"], lr=conf["teacher_lr"], member_names=[f"teacher(n={n}, seed={conf['seed']})"])
    with torch.no_grad():
        z, zf = teacher(X)[0], teacher(Xf)[0]
    tr, te = split_student(y.cpu(), conf["rho"], split_seed(cell, conf["rho"]), stratify=True)
    tr, te = tr.to(device), te.to(device)
    rs, inits = conf["recipes"], conf["inits"]
    seeds = [derive_seed(cell, "student_init", k) for _ in rs for k in range(inits)]
    targets, one_hot = release_all(z[:, tr], rs, inits, cell)
    model, acc80, acc_train, diverged = _train(X[tr], targets, y[tr], hidden=p, seeds=seeds, steps=conf["student_steps"],
                                               lr=conf["student_lr"], heldout=(X[te], y[te]), device=device, name="student")
    with torch.no_grad():
        out_h, out_f = model(X[te]), model(Xf)
    met = audit.student_metrics(out_h, y[te], fresh_logits=out_f, fresh_y=yf, teacher_fresh=zf)
    base = {"seed": conf["seed"], "seed_data": cell, "seed_teacher": t_seed, "n": n,
            "acc_star_T": float((z.argmax(0) == y).double().mean()), "teacher_trivial": float((zf.argmax(0) == yf).double().mean())}
    out = _rows(met, rs, inits, seeds, acc80, base)
    out["acc_train"] = acc_train
    out["one_hot_share"] = one_hot
    out["diverged"] = [i in diverged for i in range(len(seeds))] if diverged else False
    table, draws = _audit_tables(rs, inits, cell, conf, (_numpy(out_h), y[te].cpu().numpy()),
                                 (_numpy(out_f), yf.cpu().numpy(), zf.argmax(0).cpu().numpy()))
    keys = {"seed": conf["seed"], "n": n}
    return {"random": out, "random_audit": table.assign(**keys), "random_null": draws.assign(**keys)}


def canary_teacher(conf: dict, device):
    """The canary setting's data and its teacher, trained until it fits every image and canary (capped): the audit
    example's digit teacher (:func:`softleak.audit.example.train_teacher`) at this chapter's canary settings."""
    spec = digit_example.DigitTeacher(count=conf["canary_count"], train=conf["canary_train"], hidden=conf["canary_p"],
                                      lr=conf["canary_teacher_lr"], steps=conf["canary_teacher_steps"])
    return digit_example.train_teacher(conf["seed"], spec, memorize=True, device=device)


def _canary_one(conf: dict, device) -> pd.DataFrame:
    teacher, (Xtr, ytr, ytrue, Xte, yte, yfc), t_seed, steps = canary_teacher(conf, device)
    m = conf["canary_count"]
    with torch.no_grad():
        z, zt = teacher(Xtr)[0], teacher(Xte)[0]
    base = {"seed": conf["seed"], "seed_teacher": t_seed, "teacher_steps": steps,
            "acc_star_T": float((z.argmax(0) == ytr).double().mean()),
            "acc_canary_T": float((z[:, :m].argmax(0) == ytr[:m]).double().mean()),
            "acc_test_real_T": float((zt.argmax(0) == yte).double().mean()),
            "teacher_trivial": float((zt.argmax(0) == yfc).double().mean())}
    canaries = torch.arange(m, device=device)
    cut, rest = (t.to(device) for t in split_student(torch.zeros(m, dtype=torch.long), conf["canary_rho"],
                                                      split_seed(conf["seed"], conf["canary_rho"])))
    real = torch.arange(m, Xtr.shape[0], device=device)
    rs, inits = conf["recipes"], conf["canary_inits"]
    seeds = [derive_seed(conf["seed"], "student_init", k) for _ in rs for k in range(inits)]
    frames, tables, nulls = [], [], []
    for mode in MODES:
        released = real if mode == "released0" else torch.cat([canaries[cut], real])
        held = canaries if mode == "released0" else canaries[rest]
        targets, one_hot = release_all(z[:, released], rs, inits,
                                        derive_seed(conf["seed"], "data", 1 + list(MODES).index(mode)))
        model, acc80, _, _ = _train(Xtr[released], targets, ytr[released], hidden=conf["canary_p"], seeds=seeds,
                                 steps=conf["canary_student_steps"], lr=conf["canary_student_lr"], heldout=(Xtr[held], ytr[held]),
                                 device=device, name=f"student({mode})")
        with torch.no_grad():
            out_te, out_h = model(Xte), model(Xtr[held])
        met = audit.student_metrics(out_h, ytr[held], fresh_logits=out_te, fresh_y=yfc, teacher_fresh=zt,
                                    test_logits=out_te, test_y=yte)
        rows = _rows(met, rs, inits, seeds, acc80, {**base, "mode": mode,
                                                     "num_released_canaries": int(released.numel() - real.numel())})
        frames.append(rows.assign(one_hot_share=one_hot))
        table, draws = _audit_tables(rs, inits, derive_seed(conf["seed"], "data", 1 + list(MODES).index(mode)), conf,
                                     (_numpy(out_h), ytr[held].cpu().numpy()),
                                     (_numpy(out_te), yfc.cpu().numpy(), zt.argmax(0).cpu().numpy()),
                                     (_numpy(out_te), yte.cpu().numpy()))
        tables.append(table.assign(seed=conf["seed"], mode=mode))
        nulls.append(draws.assign(seed=conf["seed"], mode=mode))
    return {"canary": pd.concat(frames, ignore_index=True), "canary_audit": pd.concat(tables, ignore_index=True),
            "canary_null": pd.concat(nulls, ignore_index=True)}


def _batch(configs: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    return [(_random_one if conf["part"] == "random" else _canary_one)(conf, device) for conf in configs]


def _cost(batch: list[dict]) -> float:
    conf = batch[0]
    if conf["part"] == "random":
        return conf["n"] * conf["rho"] * len(conf["recipes"]) * conf["inits"] * conf["student_steps"] * \
            conf["p"] * (conf["d"] + conf["c"])
    return 2 * conf["canary_train"] * len(conf["recipes"]) * conf["canary_inits"] * conf["canary_student_steps"] * \
        conf["canary_p"] * 74


def _configs(cfg: ReleaseConfig) -> list[dict]:
    """One config per (setting, teacher seed): the weak and the jump α of the random part, then the canaries. A
    config names its values flat (``canary_p``, ``audit_null``), as its cache key always has."""
    shared = dataclasses.asdict(cfg)
    rkeys = ("d", "c", "p", "rho", "teacher_lr", "teacher_steps", "student_lr", "student_steps", "inits", "fresh")
    sizes = {"audit_bootstrap": cfg.audit.bootstrap, "audit_null": cfg.audit.null}
    grids = ("seeds", "tau", "taus", "topks", "rounds", "quants", "noises")  # a config carries its recipes instead
    canary = {f"canary_{k}": v for k, v in dataclasses.asdict(cfg.canary).items() if k not in grids}
    configs = [{"part": "random", "alpha": a, "n": n, "seed": s, **{k: shared[k] for k in rkeys}, **sizes,
                "recipes": recipes(cfg, "random")}
               for a, n in ((cfg.weak.alpha, cfg.n_weak), (cfg.jump.alpha, cfg.n_jump)) for s in cfg.seeds]
    configs += [{"part": "canary", "seed": s, **canary, "recipes": recipes(cfg, "canary"), **sizes}
                for s in cfg.canary.seeds]
    return configs


PLAN_NOTES = ("the canary teachers train until they fit, at most canary_teacher_steps epochs: the plan counts the cap",)


def plan(cfg: ReleaseConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: per teacher, its training, then one student
    ensemble of every recipe and init (two for the canaries, one per mode), each recorded 6 times."""
    out = []
    for conf in _configs(cfg):
        E = len(conf["recipes"]) * (conf["inits"] if conf["part"] == "random" else conf["canary_inits"])
        if conf["part"] == "random":
            d, c, p, n = conf["d"], conf["c"], conf["p"], conf["n"]
            m = c * int(conf["rho"] * (n // c))  # the stratified split
            fits = (Fit(partial(MLPEnsemble, (d, p, c), [0], device=META), (n, d), conf["teacher_steps"]),
                    Fit(partial(MLPEnsemble, (d, p, c), range(E), device=META), (m, d), conf["student_steps"],
                        records=6, eval_rows=n - m),
                    Fit(partial(MLPEnsemble, (d, p, c), range(E), device=META), (n - m + conf["fresh"], d), 0))
        else:
            d, p, n, k = 64, conf["canary_p"], conf["canary_train"], conf["canary_count"]
            test = DIGITS_IMAGES - n
            fits = [Fit(partial(MLPEnsemble, (d, p, 10), [0], device=META), (n, d), conf["canary_teacher_steps"])]
            for trained, held in ((n - k, k), (n - k + int(conf["canary_rho"] * k), k - int(conf["canary_rho"] * k))):
                fits += [Fit(partial(MLPEnsemble, (d, p, 10), range(E), device=META), (trained, d),
                             conf["canary_student_steps"], records=6, eval_rows=held),
                         Fit(partial(MLPEnsemble, (d, p, 10), range(E), device=META), (test + held, d), 0)]
        out.append(Batch(f"{conf['part']}" + (f" α = {conf['alpha']:g}" if conf["part"] == "random" else ""), 1,
                         tuple(fits)))
    return out


def run(cfg: ReleaseConfig, *, cache_dir=None, progress: bool = True, device=None, workers: int | None = None
        ) -> dict[str, pd.DataFrame]:
    """Run chapter 8: ``{"random": …, "canary": …}``, one row per recipe, student init and teacher
    (and canary mode). Each (setting, teacher) is one cached batch: an interrupted run resumes."""
    device = resolve_device(device)
    workers = default_workers(device) if workers is None else workers
    out = run_sweep(partial(_batch, device=device), _configs(cfg), cache_dir=cache_dir, namespace=NAMESPACE,
                    desc="releases", progress=progress, workers=workers, cost=_cost)
    out = out if isinstance(out, dict) else {"random": out}
    for name in TABLES:
        t = out.get(name, pd.DataFrame())
        out[name] = t.drop(columns=[col for col in ("recipes", "part") if col in t], errors="ignore")
    return out



def results_table(out: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Both settings' runs and the audit's analysis per teacher and recipe as one tidy table (``part``: random,
    canary, random_audit or canary_audit), for ``table.parquet``; the null draws are left out (their seeds are
    recorded and they are cheap to draw again)."""
    table = pd.concat([out[name].assign(part=name) for name in ("random", "canary", "random_audit", "canary_audit")
                       if name in out and not out[name].empty], ignore_index=True)
    table.attrs["cache"] = out["random"].attrs.get("cache") if "random" in out else None
    return table
