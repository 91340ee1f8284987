"""What chapter 8's figures share: the rules that call a leak *stopped* and a release *safe*, the Pareto table of
leakage, membership and utility per recipe (and its best stopped recipe per family), the audit's null pooled over
teachers, and the runs a claim reads that had not converged. Every shared threshold is declared here, with where it
comes from."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ... import audit
from ...audit.stats import PRIMARY, pooled_p
from ...chapters import Part
from ...rules import AllOf, AtMost, Evidence, fmt, not_converged, per_teacher
from .config import FAMILIES, MODES, TABLES, ReleaseConfig

LEAKS_WORD = audit.stats.LEAKS  # the audit's verdict word
#: how a "leaks" claim's second part reads the audit's null (softleak.audit.stats)
NULL_BASIS = ("the exposure gap, held-out − fresh mean log2(c) − log2(rank of the label), averaged over teachers, "
              "against the same mean with each teacher's held-out and fresh records permuted")
#: a leak is **stopped** when the advantage's 95 % interval over teachers lies at or below 5 % of the way
#: from trivial to perfect recovery: indistinguishable from trivial within that margin
STOPPED = 0.05
#: a release is **safe** by these measures when its leak is stopped and its membership AUC's interval lies at
#: or below 0.6 (0.5 is no signal)
SAFE_AUC = 0.6
LEAKS = 0.02  # "leaks": an advantage whose whole interval lies above 2 % (above trivial, not by a rounding)
RISING = 0.02  # a recipe's held-out accuracy still rising: up ≥ 2 points over the last fifth of the epochs
CONFIDENCE = 0.95
#: "the teachers memorize": the share of teachers at 100 % clears a half with 95 % confidence (its Clopper–Pearson
#: lower end), and fails when its upper end is below a half (6 of 6 teachers decide it, 3 of 3 do not)
FIT_LEVEL = 0.5


def frames(tables: dict) -> dict[str, pd.DataFrame]:
    """The run's tables (:data:`TABLES`), an empty table for any the run did not return."""
    return {k: tables.get(k, pd.DataFrame()) for k in TABLES}


def setting_frames(out: dict[str, pd.DataFrame], setting: str, fit_by: list[str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Evidence]]:
    """One setting's students, its audits and its audit nulls (empty tables for those the run did not return),
    and the evidence that its teachers memorize (``<setting>.teachers_fit``: one teacher per ``fit_by`` group;
    none when the setting did not run)."""
    students = out[setting]
    audits, nulls = out.get(f"{setting}_audit", pd.DataFrame()), out.get(f"{setting}_null", pd.DataFrame())
    if students.empty:
        return students, audits, nulls, {}
    fits = students.groupby(fit_by)["acc_star_T"].first()
    return students, audits, nulls, {f"{setting}.teachers_fit": Evidence.share_of(fits >= 1.0, of="teachers")}


def recipe_evidence(students: pd.DataFrame, audits: pd.DataFrame, nulls: pd.DataFrame, *, by: str,
                    groups: Iterable[str], base: str, prefix: str = "", extra: tuple[str, ...] = ()
                    ) -> dict[str, Evidence]:
    """Per group (a value of column ``by``): the undefended (recipe ``base``) and hard-label students' advantage,
    membership AUC and ``extra`` columns per teacher (``<prefix><group>.<base|hard>.<column>``), and the audit's
    null pooled over teachers for the undefended release (``<prefix><group>.base.null_p``, when audited)."""
    ev: dict[str, Evidence] = {}
    for group in groups:
        g = students[students[by] == group]
        for name, recipe in (("base", base), ("hard", "hard")):
            sel = g[g["recipe"] == recipe]
            ev[f"{prefix}{group}.{name}.advantage"] = per_teacher(sel, "advantage", detail=recipe)
            ev[f"{prefix}{group}.{name}.auc"] = per_teacher(sel, "auc", unit="num", detail=recipe)
            for col in extra:
                ev[f"{prefix}{group}.{name}.{col}"] = per_teacher(sel, col, detail=recipe)
        if not audits.empty:
            ev[f"{prefix}{group}.base.null_p"] = pooled_null(audits[audits[by] == group], nulls[nulls[by] == group], base)
    return ev


def stopped_rule(q: str) -> AtMost:
    """The leak of quantity ``q`` (an advantage) is stopped: its interval lies at or below :data:`STOPPED`."""
    return AtMost(q, STOPPED, "book", "within 5 % of the way from trivial to perfect", label=q, unit="pct")


def safe_rule(prefix: str) -> AllOf:
    """The release ``prefix`` is safe: its leak is stopped and its membership AUC at or below :data:`SAFE_AUC`."""
    return AllOf(stopped_rule(f"{prefix}.advantage"),
                 AtMost(f"{prefix}.auc", SAFE_AUC, "book", "0.5 is no membership signal", label=f"{prefix}.auc"))


def pareto_table(df: pd.DataFrame, utility: str, by: tuple[str, ...] = (), audits: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """Per recipe (and ``by``): leakage, membership and utility with intervals over teachers, whether the leak
    is stopped and the release safe (the declared rules), whether the held-out accuracy was still rising, and
    (from ``audits``, the audit's analysis per teacher) for how many teachers the audit alone says "leaks"."""
    if df.empty:
        return pd.DataFrame()
    said = {}
    if audits is not None and not audits.empty:
        for key, g in audits.groupby([*by, "recipe"], sort=False):
            said[key if isinstance(key, tuple) else (key,)] = (int((g["verdict"] == LEAKS_WORD).sum()), len(g))
    rows = []
    for key, g in df.groupby([*by, "family", "recipe"], sort=False):
        key = key if isinstance(key, tuple) else (key,)
        ev = {"advantage": per_teacher(g, "advantage"), "auc": per_teacher(g, "auc", unit="num"),
              "utility": per_teacher(g, utility), "acc_heldout": per_teacher(g, "acc_heldout"),
              "trivial": per_teacher(g, "trivial")}
        decided = {"x.advantage": ev["advantage"], "x.auc": ev["auc"]}
        row = dict(zip([*by, "family", "recipe"], key))
        row.update({"knob": g["knob"].iloc[0], "defense": g["defense"].iloc[0], "tau": g["tau"].iloc[0],
                    "teachers": g["seed"].nunique()})
        for name, e in ev.items():
            row.update({name: e.value, f"{name}_low": e.low, f"{name}_high": e.high})
        row["stopped"] = stopped_rule("x.advantage").decide(decided).verdict == "reproduces"
        row["safe"] = safe_rule("x").decide(decided).verdict == "reproduces"
        row["still_rising"] = bool((g["acc_heldout"] - g["acc_heldout_80"]).mean() >= RISING)
        row["one_hot_share"] = float(g["one_hot_share"].mean()) if "one_hot_share" in g else float("nan")
        row["audit_leaks"], row["audit_teachers"] = said.get((*key[: len(by)], key[-1]), (0, 0))
        rows.append(row)
    return pd.DataFrame(rows)


def best_table(pareto: pd.DataFrame, base_recipe: str, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per family: the most useful recipe whose leak is stopped, its utility and its cost against the
    undefended release (``base_recipe``); a family none of whose recipes stops the leak says so."""
    rows = []
    for key, g in pareto.groupby(list(by), sort=False) if by else [((), pareto)]:
        key = key if isinstance(key, tuple) else (key,)
        base = g[g["recipe"] == base_recipe]
        base_u = float(base["utility"].iloc[0]) if not base.empty else float("nan")
        for fam in FAMILIES:
            f = g[g["family"] == fam]
            if f.empty:
                continue
            ok = f[f["stopped"]]
            row = dict(zip(by, key))
            row["family"] = fam
            if ok.empty:
                row.update({"best stopped recipe": "none stops the leak", "utility": float("nan"), "utility cost": float("nan"),
                            "advantage": float("nan"), "safe": False})
            else:
                best = ok.loc[ok["utility"].idxmax()]
                row.update({"best stopped recipe": best["recipe"], "utility": best["utility"],
                            "utility cost": base_u - best["utility"], "advantage": best["advantage"], "safe": bool(best["safe"])})
            rows.append(row)
    return pd.DataFrame(rows)





def pooled_null(audits: pd.DataFrame, nulls: pd.DataFrame, recipe: str) -> Evidence:
    """The audit's null pooled over teachers for one recipe: the mean exposure gap over teachers against the mean
    of draw k over teachers, each teacher's held-out and fresh records permuted on their own (a null stratified by
    teacher; :func:`softleak.audit.stats.pooled_p`)."""
    t = audits[audits["recipe"] == recipe].set_index("seed")
    d = nulls[nulls["recipe"] == recipe]
    if t.empty or d.empty:
        return Evidence.none(f"{recipe!r} not audited at this preset")
    draws = d.pivot(index="seed", columns="draw", values=PRIMARY["records"]).loc[t.index]
    p = pooled_p(t[PRIMARY["records"]].to_numpy(), draws.to_numpy())
    alone = int((t["verdict"] == LEAKS_WORD).sum())
    return Evidence.permutation(p, n=len(t), of="teachers", detail=(
        f"{recipe}: exposure gap {t[PRIMARY['records']].mean():.3f} bits, mean over teachers, against {draws.shape[1]} "
        f"draws of the null permuting held-out and fresh records within each teacher; the audit alone says 'leaks' "
        f"for {alone} of {len(t)} teachers"))


def _unfit_teachers(out: dict[str, pd.DataFrame], cfg: ReleaseConfig) -> dict[tuple[str, str], list[str]]:
    """Per (setting, regime or mode), the teachers below 100 % of their training data."""
    bad: dict[tuple[str, str], list[str]] = {}
    rnd, can = out["random"], out["canary"]
    for (n, s), a in (rnd.groupby(["n", "seed"])["acc_star_T"].first().items() if not rnd.empty else []):
        regime = "jump" if n == cfg.n_jump else "weak"
        if not a >= 1.0:
            bad.setdefault(("random", regime), []).append(f"{regime}-α teacher of seed {s} at {fmt(a, 'pct')}")
    for s, a in (can.groupby("seed")["acc_star_T"].first().items() if not can.empty else []):
        for mode in MODES if not a >= 1.0 else ():
            bad.setdefault(("canary", mode), []).append(f"digit teacher of seed {s} at {fmt(a, 'pct')}")
    return bad


def derive_setting(tables: dict, cfg: ReleaseConfig, *, evidence, reads, specs, post_hoc, metrics) -> Part:
    """One setting's figure: its claims (a claim that reads a teacher short of its data or students still rising is
    not converged; ``post_hoc(claim_id, cfg)`` names a setting chosen after a probe), their evidence, the figure's
    numbers (``metrics(out, tables, cfg)``) and its tables (``evidence(out, cfg) -> (evidence, tables)``)."""
    out = frames(tables)
    ev, own = evidence(out, cfg)
    bad = unconverged(out, own, cfg, reads(cfg))
    claims = [not_converged(s.check(ev, post_hoc=post_hoc(s.id, cfg)), bad.get(s.id, [])) for s in specs]
    return Part(claims, ev, metrics(out, own, cfg), own)


def unconverged(out: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], cfg: ReleaseConfig,
                reads: dict[str, tuple[tuple[str, str, str], ...]]) -> dict[str, list[str]]:
    """Per claim of ``reads`` (claim -> the students it reads: setting, regime or mode, recipe; "*" for every recipe
    of the grid), the runs it reads that did not reach their stopping condition: a teacher below 100 % of its data
    (the setting's premise) and a recipe whose students' held-out accuracy was still rising (:data:`RISING` over
    the last fifth of the budget, from the Pareto tables among ``tables``). Such a claim is inconclusive (not
    converged)."""
    bad = _unfit_teachers(out, cfg)
    for part, name, by in (("random", "pareto", "regime"), ("canary", "canary_pareto", "mode")):
        t = tables.get(name, pd.DataFrame())
        for group, recipe in (t.loc[t["still_rising"], [by, "recipe"]].itertuples(index=False) if not t.empty else []):
            bad.setdefault((part, group, recipe), []).append(f"{part} {group}: {recipe}'s students still rising")
    found = {}
    for cid, cells in reads.items():
        runs = [r for part, group, recipe in cells for key, rs in bad.items() for r in rs
                if key[:2] == (part, group) and (len(key) == 2 or recipe in ("*", key[2]))]
        found[cid] = list(dict.fromkeys(runs))
    return found
