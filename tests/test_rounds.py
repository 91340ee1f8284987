"""Sequential seeds: rounds declared before any run, every interval at 1 − 0.05/K, a claim frozen at the round that
decides it, more seeds only while a claim is open."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from softleak.chapters import Chapter, Figure, Part, extend_seeds, seed_limited
from softleak.claims import verdict_text
from softleak.config import Rounds, more_seeds, replace_checked
from softleak.rules import (FAILS, INCONCLUSIVE, REPRODUCES, AtLeast, BeyondNull, ClaimSpec, Evidence, current_rounds,
                            declared_rounds, level)


def test_intervals_inside_declared_rounds_are_bonferroni_over_the_rounds_against_scipy():
    x = np.array([0.61, 0.72, 0.55, 0.69, 0.64, 0.70])
    with declared_rounds(3):
        assert current_rounds() == 3 and level() == pytest.approx(1 - 0.05 / 3)
        ev = Evidence.samples(x)
        share = Evidence.share(5, 6)
        sel = Evidence.samples(x, looks=4)
    assert current_rounds() == 1  # reset on leaving
    low, high = stats.t.interval(1 - 0.05 / 3, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (ev.low, ev.high) == pytest.approx((low, high), rel=1e-12) and ev.rounds == 3
    low, high = stats.t.interval(1 - 0.05 / 12, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (sel.low, sel.high) == pytest.approx((low, high), rel=1e-12)  # cells and rounds multiply
    ci = stats.binomtest(5, 6).proportion_ci(confidence_level=1 - 0.05 / 3, method="exact")
    assert (share.low, share.high) == pytest.approx((ci.low, ci.high), rel=1e-12) and share.rounds == 3
    assert "98.33 %" in str(share) and "Bonferroni over 3 rounds" in str(ev)
    assert ev.record("q")["rounds"] == 3
    plain = Evidence.samples(x)  # outside: the plain 95 % interval
    assert plain.rounds == 1 and plain.high - plain.low < ev.high - ev.low
    with pytest.raises(ValueError, match="rounds=0 is not allowed"):
        with declared_rounds(0):
            pass


def test_a_permutation_p_value_is_compared_with_alpha_over_the_rounds():
    rule = BeyondNull("p", "labels permuted")
    assert rule.decide({"p": Evidence.permutation(0.03, n=5)}).verdict == REPRODUCES
    with declared_rounds(2):
        ev = Evidence.permutation(0.03, n=5)
    d = rule.decide({"p": ev})
    assert d.verdict == INCONCLUSIVE and "0.025" in d.note and "2 rounds" in d.note


def test_rounds_config_and_more_seeds():
    assert Rounds().count == 1
    with pytest.raises(ValueError, match="count=0 is not allowed"):
        Rounds(0)
    with pytest.raises(ValueError, match="seeds=0 is not allowed with count=2"):
        Rounds(2, 0)
    assert more_seeds((0, 1, 2), 3) == (0, 1, 2, 3, 4, 5) and more_seeds((4, 0), 1) == (4, 0, 5)

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        seeds: tuple = (0, 1, 2)
        seed_rounds: Rounds = Rounds()

    cfg = replace_checked(Cfg(), seed_rounds_count=3, seed_rounds_seeds=2)
    assert cfg.seed_rounds == Rounds(3, 2)
    with pytest.raises(ValueError, match="seed_rounds_seeds=0 is not allowed with count=3"):
        replace_checked(cfg, seed_rounds_seeds=0)


# a toy chapter: each seed draws one value per quantity; "a" sits far above its threshold (decided at once), "b" a
# little above (needs more seeds), "c" straddles for ever (its mean is on the threshold)
_MEANS = {"a": 1.0, "b": 0.62, "c": 0.5}
SPECS = [ClaimSpec(q, f"{q} clears one half", "—", AtLeast(q, 0.5, "book", "one half")) for q in _MEANS]


def _run(cfg, **_):
    rows = []
    for s in cfg.seeds:
        rng = np.random.default_rng(1000 + s)
        rows.append({"seed": s, **{q: m + 0.05 * rng.standard_normal() for q, m in _MEANS.items()}})
    return pd.DataFrame(rows)


def _derive(tables, cfg):
    df = tables["runs"]
    ev = {q: Evidence.samples(df[q]) for q in _MEANS}
    return Part([s.check(ev) for s in SPECS], ev, {"mean_of_runs": float(len(df))})


@dataclasses.dataclass(frozen=True)
class ToyCfg:
    seeds: tuple = (0, 1, 2)
    seed_rounds: Rounds = Rounds()


def _toy(extend=extend_seeds):
    return Chapter("01_toy_2d", "tests", {}, replace_checked, (), _run, lambda cfg: [],
                   (Figure("toy", "toy", _derive),), lambda cfg: None, extend=extend)


def test_decide_adds_seeds_while_claims_are_open_and_freezes_a_claim_at_its_round():
    calls = []
    chapter = _toy()
    run = chapter.run

    def counting(cfg, **kw):
        calls.append(cfg.seeds)
        return run(cfg, **kw)

    chapter = dataclasses.replace(chapter, run=counting)
    cfg = ToyCfg(seed_rounds=Rounds(3, 3, post_hoc="declared after a probe"))
    out = chapter.decide(cfg, verbose=False)
    by = {c.id: c for c in out.claims}
    # round 1 decides "a" at the 1 − 0.05/3 level; "b" needs more seeds; "c" never settles
    assert by["a"].verdict == REPRODUCES and by["a"].round == 1 and by["a"].rounds == 3 and not by["a"].post_hoc
    assert by["a"].evidence[0]["n"] == 3 and by["a"].evidence[0]["rounds"] == 3
    assert by["b"].verdict == REPRODUCES and by["b"].round > 1 and "declared after a probe" in by["b"].post_hoc
    # "c" stays open; after round 2 its mean sits on the threshold, so a third round would not settle it
    assert by["c"].verdict == INCONCLUSIVE and by["c"].round == 2 and "would not settle it" in by["c"].note
    assert calls == [(0, 1, 2), (0, 1, 2, 3, 4, 5)] and out.cfg.seeds == calls[-1]
    assert len(out.log) == 2 and "c" in out.log[-1]
    # the page's numbers: a frozen claim's quantity as it was decided; the rest from the last round
    assert out.metrics["a"] == by["a"].evidence[0]["value"] and out.metrics["mean_of_runs"] == 6.0
    assert out.metrics["a"] == pytest.approx(_run(ToyCfg())["a"].mean())
    assert out.metrics["c"] == pytest.approx(out.runs["c"].mean())
    # the same first round at one declared round: the plain 95 % interval
    once = _toy().decide(ToyCfg(), verbose=False)
    assert all(c.rounds == 1 and c.round == 1 for c in once.claims)
    a1 = next(c for c in once.claims if c.id == "a").evidence[0]
    assert a1["high"] - a1["low"] < by["a"].evidence[0]["high"] - by["a"].evidence[0]["low"]
    text = verdict_text(by["b"])
    assert f"decided in round {by['b'].round} of 3" in text and "1.67 %" in text


def test_decide_stops_when_more_seeds_would_decide_nothing():
    chapter = _toy(extend=lambda cfg, open_claims, rounds: None)
    out = chapter.decide(ToyCfg(seed_rounds=Rounds(3, 3)), verbose=False)
    assert out.cfg.seeds == (0, 1, 2) and len(out.log) == 1
    # a chapter without extend has one round whatever its config declares
    plain = _toy(extend=None)
    assert plain.rounds(ToyCfg(seed_rounds=Rounds(3, 3))) == Rounds()


def test_an_unconverged_claim_asks_for_no_seeds():
    spec = SPECS[0]
    c = spec.check({"a": Evidence.samples([0.4, 0.7, 0.5])})
    assert c.verdict == INCONCLUSIVE and seed_limited(c)
    stuck = dataclasses.replace(c, note="not converged: would have read 'reproduces', but …")
    assert not seed_limited(stuck)
    assert extend_seeds(ToyCfg(), [stuck], Rounds(2, 2)) is None
    assert extend_seeds(ToyCfg(), [c], Rounds(2, 2)).seeds == (0, 1, 2, 3, 4)
    fails = spec.check({"a": Evidence.samples([0.1, 0.12, 0.11])})
    assert fails.verdict == FAILS and not seed_limited(fails) and math.isfinite(fails.evidence[0]["value"])


def test_extend_groups_adds_seeds_only_to_the_groups_open_claims_read():
    from softleak.chapters import extend_groups, group_seeds
    from softleak.rules import Claim

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        seeds: tuple = (0, 1, 2)
        extra_seeds: tuple = ()

    extend = extend_groups({"c2": "small", "big": "large"}, ("small", "large"))
    open_c2 = Claim("c2.order", "paper", "s", "r", "p", "o", None, INCONCLUSIVE)
    cfg = extend(Cfg(), [open_c2], Rounds(3, 2))
    assert cfg.extra_seeds == (("small", (3, 4)),)
    assert group_seeds(cfg, "small") == (0, 1, 2, 3, 4) and group_seeds(cfg, "large") == (0, 1, 2)
    stray = Claim("other.x", "paper", "s", "r", "p", "o", None, INCONCLUSIVE)  # not mapped: every group
    cfg = extend(cfg, [open_c2, stray], Rounds(3, 2))
    assert dict(cfg.extra_seeds) == {"small": (3, 4, 5, 6), "large": (3, 4)}
    stuck = dataclasses.replace(open_c2, note="not converged: …")
    assert extend(Cfg(), [stuck], Rounds(3, 2)) is None


def test_a_real_chapter_decides_in_rounds_and_reuses_the_first_rounds_cells(tmp_path, monkeypatch):
    from softleak import presets
    from softleak.experiments import logistic

    cfg = presets.resolve("03_logistic_thresholds", "smoke", alphas=(0.5, 1.5, 3.0), rhos=(0.8,), seeds=(0, 1, 2),
                          teacher_steps=60, seed_rounds_count=2, seed_rounds_seeds=2)
    out = logistic.CHAPTER.decide(cfg, verbose=False, cache_dir=tmp_path, progress=False, workers=1, device="cpu")
    opened = [c for c in out.claims if c.round == 2]
    assert out.cfg.seeds == (0, 1, 2, 3, 4) and len(out.log) == 2 and opened
    assert set(out.runs["seed"]) == {0, 1, 2, 3, 4}
    assert out.runs.attrs["cache"]["from_cache"] == 2 * len(cfg.alphas) * 3  # round 1's cells (both d) from the cache
    assert all(c.rounds == 2 for c in out.claims)
    intervals = [e for c in out.claims for e in c.evidence if e["method"] in ("t", "clopper-pearson", "fit")]
    assert intervals and all(e["rounds"] == 2 for e in intervals)  # every interval at 97.5 %
    # the results record the declared config (a build recognises them as its own) and the rounds beside it
    import json
    import time

    from softleak.claims import staleness, write_results
    from softleak.provenance import plain_config

    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    folder = write_results("03_logistic_thresholds", "smoke", table=out.runs, claims=out.claims, metrics=out.metrics,
                           config=out.declared, seeds=out.cfg.seeds, started=time.time(), rounds=out.rounds)
    payload = json.loads((folder / "claims.json").read_text())
    assert staleness(payload, {"config": plain_config(cfg)}) == []
    assert payload["provenance"]["seeds"] == [0, 1, 2, 3, 4] and len(payload["provenance"]["rounds"]["log"]) == 2
    assert payload["provenance"]["rounds"]["config"]["seeds"] == [0, 1, 2, 3, 4]


def test_extend_parts_sets_the_seeds_field_each_open_claim_reads():
    from softleak.chapters import extend_parts
    from softleak.rules import Claim

    @dataclasses.dataclass(frozen=True)
    class Part:
        seeds: tuple = (0, 1, 2)

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        seeds: tuple = (0, 1)
        structured: Part = Part()

    extend = extend_parts({"main": "seeds", "structured": "structured_seeds", "a1": None})
    claim = lambda cid, note="": Claim(cid, "paper", "s", "r", "p", "o", None, INCONCLUSIVE, note)  # noqa: E731
    cfg = extend(Cfg(), [claim("structured.gap")], Rounds(2, 3))
    assert cfg.structured.seeds == (0, 1, 2, 3, 4, 5) and cfg.seeds == (0, 1)
    cfg = extend(Cfg(), [claim("structured.gap"), claim("main.fit"), claim("a1.hot")], Rounds(2, 1))
    assert cfg.structured.seeds == (0, 1, 2, 3) and cfg.seeds == (0, 1, 2)
    assert extend(Cfg(), [claim("a1.hot")], Rounds(2, 1)) is None  # more seeds do not decide it
    on_edge = claim("main.fit", "q's interval straddles 0.5; its mean sits on 0.5, so more runs would not settle it")
    assert extend(Cfg(), [on_edge], Rounds(2, 1)) is None
    with pytest.raises(KeyError):
        extend(Cfg(), [claim("unmapped.x")], Rounds(2, 1))
