"""Fig. 18: what in the soft label carries the memory. (A) the tail cut: the k smallest entries zeroed (and the
released code's variant, k arbitrary entries); (B) class removal: a class's samples dropped, or its entry zeroed
in the other samples' soft labels. Read at the first tail-cut α where the normal student recovers everything.
Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...config import linear_grid
from ...metrics import FULL
from ...rules import AllOf, AtLeast, AtMost, Below, ClaimSpec, Equivalent, Evidence, fmt
from .analysis import figure_means
from .common import check_claim, gaps, paired, post_hoc_note, samples, seeds_note
from .config import ReluConfig

CRITICAL_DROP = 0.10  # book: a "critical" removal costs ≥ 10 points of the normal student's full recovery
CLASS_KILLED_TIMES_CHANCE = 2.0  # chance: "detrimental … to ≈ chance" read as at most twice 1/c
LITTLE = 0.10  # book: "maintained almost at a normal level" read as within 10 points of the normal student
CLASS_HIGH = 0.5  # book: "remains at a high level" read as at least half of the class's held-out labels
PAPER_TAIL_ALPHAS = linear_grid(0.25, 2.0, 8)  # paper Fig. 18: n_pc = 250 … 2000 at d = 1000


def tail_post_hoc(cfg: ReluConfig) -> str:
    if tuple(cfg.tail.alphas) == PAPER_TAIL_ALPHAS:
        return post_hoc_note(cfg)
    return post_hoc_note(cfg, f"tail_alphas = {', '.join(f'{a:g}' for a in cfg.tail.alphas)} (picked around where this "
                          "preset's normal student recovers, after seeing it)")


def _fig18_specs(cfg: ReluConfig) -> list[ClaimSpec]:
    ks = sorted(cfg.tail.ks)
    k_max = ks[-1] if ks else 0
    k_rand = min(cfg.tail.random_ks) if cfg.tail.random_ks else 1
    chance = 1.0 / cfg.c
    c0 = cfg.removed_class
    full = AtLeast("fig18.normal", FULL, "paper", "'where the normal student would otherwise have learned the teacher'",
                   label="normal student's acc_test_S", unit="pct")
    critical = f"'critical' read as ≥ {fmt(CRITICAL_DROP, 'pct')} of held-out accuracy lost"
    return [
        ClaimSpec("fig18a.tail", f"Fig. 18A (ρ = {cfg.tail.rho:g}, at the first tail-cut α where the normal student "
                  "recovers everything): zeroing the single smallest soft-label entry already loses the full recovery, "
                  "and zeroing more entries loses more",
                  "'already removing a single entry is critical when the normal student would otherwise have learned "
                  "the teacher. Removing more deteriorates performance … quickly'",
                  AllOf(full,
                        AtLeast("fig18a.k1_loss", CRITICAL_DROP, "book", critical,
                                label="normal − k = 1 acc_test_S, paired by seed", unit="pct"),
                        Below("fig18a.more", 0.0, "paper", "deteriorates further",
                              label=f"acc_test_S at k = {k_max} − at k = 1, paired by seed", unit="pct"))),
        ClaimSpec("fig18a.code_variant", f"Fig. 18A, the released code's tail cut: zeroing {k_rand} arbitrary "
                  "non-argmax entr" + ("y" if k_rand == 1 else "ies") + " per soft label (what the authors' code does, "
                  "spec §5.8) also loses the full recovery",
                  "not in the paper: its code zeroes arbitrary entries where the text says the smallest",
                  AllOf(full, AtLeast("fig18a.random_loss", CRITICAL_DROP, "book", critical,
                                      label=f"normal − {k_rand} random entr{'y' if k_rand == 1 else 'ies'} zeroed, "
                                            "paired by seed", unit="pct")), kind="book"),
        ClaimSpec("fig18b.removal", f"Fig. 18B: zeroing class {c0}'s entry in the other samples' soft labels drops "
                  f"held-out accuracy on class {c0} to about chance while the other classes keep theirs; removing all "
                  f"class-{c0} samples instead keeps class {c0} high",
                  "acc on class c₀ 'detrimental' (≈ chance, below in the workshop version) with the entry removed, "
                  "others 'almost at a normal level'; with its samples removed it 'remains at a high level'",
                  AllOf(AtMost("fig18b.entry_class", CLASS_KILLED_TIMES_CHANCE * chance, "chance",
                               f"{CLASS_KILLED_TIMES_CHANCE:g} × chance 1/c",
                               label=f"entry removed: acc_test_S on class {c0}", unit="pct"),
                        Equivalent.margin("fig18b.entry_others", 0.0, LITTLE, "book", "'almost at a normal level' read "
                                          f"as within {fmt(LITTLE, 'pct')}",
                                          label="normal − entry removed: acc_test_S on the other classes, paired by seed",
                                          unit="pct"),
                        AtLeast("fig18b.samples_class", CLASS_HIGH, "book", "'a high level' read as at least half",
                                label=f"samples removed: acc_test_S on class {c0}", unit="pct"))),
    ]


def fig18_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 18: soft-label treatments at ρ = ``tail.rho``, read at the smallest tail-cut α where the
    normal student's seed mean reaches full recovery (the paper's "where the normal student would
    otherwise have learned the teacher"). Every treatment of one seed shares the data set, teacher,
    split and initialisation, so differences are paired by seed."""
    tail = runs[runs["experiment"] == "tailcut"]
    means = figure_means(runs, "tailcut")
    note = seeds_note("Fig. 18", tail["seed"].unique())
    keys = ["fig18.normal", "fig18a.k1_loss", "fig18a.more", "fig18a.random_loss", "fig18b.entry_class",
            "fig18b.entry_others", "fig18b.samples_class"]
    missing = _tail_missing(tail)
    a_rec = tail_alpha(runs)
    n_alphas = tail["alpha"].nunique()
    ev: dict[str, Evidence] = {}
    if not np.isfinite(a_rec):
        why = missing or "the normal student reaches full recovery at no tail-cut α"
        ev = {k: Evidence.none(why, unit="pct") for k in keys}
    else:
        at = tail[np.isclose(tail["alpha"], a_rec)]

        def v(variant: str, k: int = 0, metric: str = "acc_test_S") -> pd.Series:
            s = at[(at["variant"] == variant) & (at["k"] == k)].set_index("seed")[metric].sort_index()
            return s if len(s) else pd.Series(np.nan, index=at["seed"].unique())

        ks = sorted(cfg.tail.ks)
        k_rand = min(cfg.tail.random_ks) if cfg.tail.random_ks else 1
        detail = f"α = {a_rec:g}"
        ev["fig18.normal"] = samples(v("standard"), looks=n_alphas, detail=(
            f"{detail}: the first of {n_alphas} tail-cut α with full recovery on seed means"))
        ev["fig18a.k1_loss"] = paired(v("standard"), v("tail_smallest", 1), detail=detail)
        ev["fig18a.more"] = (paired(v("tail_smallest", ks[-1]), v("tail_smallest", 1), detail=detail) if len(ks) > 1
                             else Evidence.none("one k only", unit="pct"))
        ev["fig18a.random_loss"] = paired(v("standard"), v("tail_random", k_rand), detail=detail)
        c = cfg.c
        others = lambda variant: (v(variant) - v(variant, 0, "acc_test_S_class0") / c) / (1 - 1 / c)  # noqa: E731
        ev["fig18b.entry_class"] = samples(v("remove_entry", 0, "acc_test_S_class0"), detail=detail)
        ev["fig18b.entry_others"] = paired(others("standard"), others("remove_entry"),
                                            detail=f"{detail}; other classes from the average (balanced D_test^S)")
        ev["fig18b.samples_class"] = samples(v("remove_samples", 0, "acc_test_S_class0"), detail=detail)
    post = tail_post_hoc(cfg)
    claims = [check_claim(spec, ev, note, post_hoc=post) for spec in _fig18_specs(cfg)]
    ev["fig18.alpha"] = recovery_alpha(tail) if not missing else Evidence.none(missing)
    return claims, ev, means


def _tail_missing(tail: pd.DataFrame) -> str:
    return gaps(tail[["acc_test_S", "acc_test_S_class0"]]) if len(tail) else "not run at this preset"


def tail_alpha(runs: pd.DataFrame) -> float:
    """The tail-cut α Fig. 18 is read at: the smallest where the normal student's seed mean reaches full recovery
    (NaN if none, or a run is missing)."""
    tail = runs[runs["experiment"] == "tailcut"]
    if _tail_missing(tail):
        return np.nan
    means = figure_means(runs, "tailcut")
    std = means[means["variant"] == "standard"].sort_values("alpha")
    rec = std[std["acc_test_S"] >= FULL]
    return float(rec["alpha"].iloc[0]) if len(rec) else np.nan


def recovery_alpha(tail: pd.DataFrame) -> Evidence:
    """Per seed, the smallest tail-cut α where the normal student recovers everything, over seeds: read off the
    α grid (half its largest step each side); a seed that never recovers lies beyond the grid's end (censored)."""
    std = tail[tail["variant"] == "standard"]
    alphas = np.sort(std["alpha"].unique())
    per_seed = [float(g.loc[g["acc_test_S"] >= FULL, "alpha"].min()) if (g["acc_test_S"] >= FULL).any() else np.inf
                for _, g in std.groupby("seed")]
    step = float(np.diff(alphas).max()) if len(alphas) > 1 else 0.0
    return samples(per_seed, unit="num", resolution=step, grid_end=float(alphas[-1]) if len(alphas) else None,
                    detail="first α of full recovery per seed")


def derive_fig18(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 18's claims; the α it is read at and each treatment's seed means there."""
    runs = tables["runs"]
    claims, ev, tail = fig18_claims(runs, cfg)
    metrics: dict[str, object] = {}
    a = tail_alpha(runs)
    metrics["tailcut.alpha"] = a  # the α Fig. 18 is read at (NaN: none)
    if np.isfinite(a):
        at = tail[np.isclose(tail["alpha"], a)]
        val = lambda v, k=0, m="acc_test_S": float(at.loc[(at["variant"] == v) & (at["k"] == k), m].iloc[0]) \
            if ((at["variant"] == v) & (at["k"] == k)).any() else np.nan  # noqa: E731
        metrics.update({"tailcut.none.acc_test_S": val("standard"),
                        **{f"tailcut.k{k}.acc_test_S": val("tail_smallest", k) for k in cfg.tail.ks},
                        **{f"tailcut.k{k}_random.acc_test_S": val("tail_random", k) for k in cfg.tail.random_ks},
                        **{f"removal.{v}.{m}": val(v, 0, m) for v in ("standard", "remove_samples", "remove_entry")
                           for m in ("acc_test_S", "acc_test_S_class0")}})
    return Part(claims, ev, metrics, {"tail": tail})


def read_fig18(v: Verdicts) -> list[str]:
    """What the tail cut and the class removal say, at the α Fig. 18 is read at."""
    metrics, parts = v.metrics, []
    tail, code = v["fig18a.tail"], v["fig18a.code_variant"]
    if np.isfinite(float(metrics.get("tailcut.alpha", np.nan))):
        text = {"reproduces": "zeroing the single smallest soft-label entry already loses the full recovery, as the "
                              "paper says",
                "fails": "zeroing the single smallest soft-label entry does not cost the full recovery the way the "
                         "paper describes",
                "inconclusive": "whether zeroing the single smallest entry costs the full recovery is not settled",
                "untested": "the tail cut could not be tested"}[tail]
        code_text = {"reproduces": "zeroing one arbitrary entry, as the released code does, costs it too",
                     "fails": "zeroing one arbitrary entry, as the released code does, does not",
                     "inconclusive": "for the code's arbitrary entries it is not settled",
                     "untested": "the code's variant was not tested"}[code]
        parts.append(f"\n\nAt α = {v.num('tailcut.alpha')} (Fig. 18A), {text}; {code_text}.")
        rem = v["fig18b.removal"]
        parts.append({"reproduces": "Removing one class's entry from the other samples' soft labels takes that class "
                                    "to about chance while removing its samples does not: what the student knows about "
                                    "a class comes from how the other samples' soft labels rate it.",
                      "fails": "The class-removal picture of Fig. 18B does not reproduce at this preset.",
                      "inconclusive": "The class-removal picture of Fig. 18B is not settled at this preset.",
                      "untested": ""}[rem])
    return parts


FIGURE = Figure("fig18", "Fig. 18: what in the soft label carries the memory", derive=derive_fig18, read=read_fig18)
