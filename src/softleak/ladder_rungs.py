"""The rungs of the ladders :mod:`softleak.ladders` declares: per chapter, the overrides of its ``cpu`` config at each
rung (narrowed to the runs a claim reads), and the chapters' edges the ladders are read against. Like
:mod:`softleak.ladders`, it imports no chapter at module level, so declaring a rung never changes a chapter's
fingerprint."""

from __future__ import annotations

import dataclasses

from .theory import FULL as FITTED  # the train claims' "always 100 %", at the book's level of full


def _c2_taus(cfg) -> tuple[float, float]:
    return (cfg.c2_taus[0], cfg.c2_taus[-1])


def _multinomial_narrow(cfg, **keep) -> dict:
    """Chapter 4's config with only the runs a claim reads: two cheap c = 10 cells (a threshold needs a grid step),
    the class-count sweep at its first two c and x, and no Fig. 13, unless kept."""
    out = dict(c10_alphas=tuple(cfg.c10_alphas[-2:]), c10_taus=(cfg.c10_taus[0],), f13_alphas=(),
               scaling_cs=tuple(cfg.scaling_cs[:2]), scaling_xs=tuple(cfg.scaling_xs[:2]))
    out.update(keep)
    return out


def _shuffle_rungs(cfg):
    return [(float(d), f"d = {d}", _multinomial_narrow(cfg, d=d, c2_taus=_c2_taus(cfg)))
            for d in (cfg.d, 2 * cfg.d, 4 * cfg.d)]


def _order_rungs(cfg):
    o = cfg.scaling_optim
    return [(float(k), f"epochs ×{k}", _multinomial_narrow(
        cfg, c2_alphas=tuple(cfg.c2_alphas[:2]), c2_taus=(cfg.c2_taus[0],), scaling_xs=cfg.scaling_xs,
        scaling_optim_teacher_steps=k * o.teacher_steps, scaling_optim_student_steps=k * o.student_steps))
        for k in (1, 2, 4)]


def _modular_threshold_rungs(cfg):
    from .experiments.modular.fig3b_fig11b import threshold_rhos

    fail, success = threshold_rhos(cfg.transformer)  # the claim's two ρ (0.525 and 0.675 at cpu)
    narrow = dict(archs=("transformer",), taus=(min(cfg.taus),), rhos=(fail, success), small_rho=fail, fig10=(),
                  premise=())
    return [(float(k), f"budget ×{k}", {**narrow, "budget_scale": float(k)}) for k in (1, 2, 4)]


def _modular_block_rungs(cfg):
    """The MLP's ``soft_labels_block`` students (teacher ①'s, at the largest ρ, the lowest and highest τ) at ×1, ×2, ×4
    the declared budget: its high-τ students had not stopped moving at ×1."""
    top = max(cfg.rhos_of("mlp"))
    narrow = dict(archs=("mlp",), taus=(max(cfg.taus), min(cfg.taus)), rhos=(top,), mlp_rhos=(top,), small_rho=top,
                  fig10=(), premise=())
    return [(float(k), f"budget ×{k}", {**narrow, "budget_scale": float(k)}) for k in (1, 2, 4)]


def _modular_top_rungs(cfg):
    """The transformer's students at the largest ρ, the highest and lowest τ, every teacher, at ×1, ×2, ×4 the declared
    budget: the one ρ whose τ = 0.1 students, and teacher ②'s τ = 10 student, had not stopped moving at ×1."""
    top = max(cfg.rhos_of("transformer"))
    narrow = dict(archs=("transformer",), taus=(max(cfg.taus), min(cfg.taus)), rhos=(top,), small_rho=top, fig10=(),
                  premise=())
    return [(float(k), f"budget ×{k}", {**narrow, "budget_scale": float(k)}) for k in (1, 2, 4)]


LOW_VAL = 0.5  # chapter 2's "does not generalize" (softleak.experiments.modular.common.LOW), the rule's edge
GENERALIZED_VAL = 0.95  # chapter 2's "generalizes" (softleak.experiments.modular.config.GENERALIZED)
BLOCK_GAP = GENERALIZED_VAL - LOW_VAL  # the soft_labels_block edge, as the chapter computes it (fig3b_fig11b.BLOCK_GAP)
RECOVERED_TEST = 0.95  # the copies claims' "reaches 1.0", less 5 points (fig3b_fig11b.RECOVERED)
INDEPENDENT_SPREAD = 0.10  # the independent claims' "within 10 points" (fig3b_fig11b.INDEPENDENT_TOLERANCE)
LEAK_RHO_CODE = 0.3  # 417 of 1 392 pairs at cpu: the authors' ρ = 0.1 has 383 of 3 830


def _modular_leak_rungs(cfg):
    """The leak claims at the preset's small ρ and at ρ = 0.3, each from the student's own initial weights and from
    its teacher's (the authors' code)."""
    small = cfg.small_rho
    rhos = (small, LEAK_RHO_CODE)
    narrow = dict(taus=(max(cfg.taus),), rhos=rhos, mlp_rhos=rhos, fig10=(), premise=())
    rungs = [(f"small ρ = {small:g}, own init (the book)", small, "own"),
             (f"small ρ = {small:g}, teacher's init (the code)", small, "teacher"),
             (f"small ρ = {LEAK_RHO_CODE:g}, own init", LEAK_RHO_CODE, "own"),
             (f"small ρ = {LEAK_RHO_CODE:g}, teacher's init (the code)", LEAK_RHO_CODE, "teacher")]
    return [(float(i), label, {**narrow, "small_rho": rho, "student_init": init})
            for i, (label, rho, init) in enumerate(rungs)]


def _class_range_rungs(cfg):
    """Fig. 5B's class-count sweep up to c = 20 (cpu), 30 and 50 (the paper's largest), every other experiment at its
    cheapest (the runs of the smaller c are shared between rungs)."""
    narrow = _multinomial_narrow(cfg, c2_alphas=tuple(cfg.c2_alphas[:2]), c2_taus=(cfg.c2_taus[0],),
                                 scaling_xs=cfg.scaling_xs)
    top = max(cfg.scaling_cs)
    extra = [c for c in (30, 40, 50) if c > top]
    return [(float(max(cs)), f"c ≤ {max(cs)}", {**narrow, "scaling_cs": tuple(cs)})
            for cs in (tuple(cfg.scaling_cs), tuple(cfg.scaling_cs) + tuple(extra[:1]), tuple(cfg.scaling_cs) + tuple(extra))]


def _relu_width_narrow(cfg) -> dict:
    """Chapter 5 with only Fig. 21's cells (and the grid's cells at its α, which they share teachers with)."""
    return dict(alphas=(cfg.width.alpha,), curve_alphas=(cfg.width.alpha,), shuffled_seeds=0, tail_alphas=(),
                tail_seeds=0, capacity_alphas=(), capacity_ps=(), jump_ladder=(), student_ps=(), class_counts=())


def _relu_width_rungs(cfg):
    narrow = _relu_width_narrow(cfg)
    return [(0.0, f"the book: Adam {cfg.student_lr:g} × {cfg.student_steps} epochs", narrow),
            (1.0, "the code: Adam 10⁻⁴ × 10 000 epochs", {**narrow, "student_lr": 1e-4, "student_steps": 10_000})]


def _workshop_a3_narrow(cfg) -> dict:
    """Chapter 7 with every experiment but A.3 at its cheapest (one value per grid)."""
    return dict(rhos=(cfg.a3.rho,), a1_taus=(cfg.tau,), a1_lrs=(cfg.lr,), a2_cs=cfg.a2.cs[:1], a2_spcs=cfg.a2.spcs[:1],
                a2_ds=cfg.a2.ds[:1], sim_rhos=(), toy_seeds=cfg.toy.seeds[:1],
                structured_rhos=cfg.structured.rhos[:1], a4_seeds=cfg.a4.seeds[:1])


def _workshop_tau_rungs(cfg):
    narrow = _workshop_a3_narrow(cfg)
    return [(float(t), f"τ = {t:g}" + (" (the book: the workshop's Fig. 4)" if t == cfg.tau else " (the main paper's)"),
             {**narrow, "tau": float(t)}) for t in (cfg.tau, 20.0)]


def _workshop_size_rungs(cfg):
    """(d, samples per class, p, p_S) ×1, ×1.5, ×2 at the workshop's ratios (d / samples = 10, p / d = 1/2,
    p_S / p = 3/2), toward its (1000, 100, 500, 750); ×4 would cost about 15× the chapter's A.3 at cpu."""
    narrow = _workshop_a3_narrow(cfg)
    out = []
    for k in (1, 1.5, 2):
        d, spc, p, ps = (int(round(k * v)) for v in (cfg.d, cfg.samples_per_class, cfg.p, cfg.student_p))
        out.append((float(d), f"d = {d}", {**narrow, "d": d, "samples_per_class": spc, "p": p, "student_p": ps,
                                           "widths": (ps,)}))
    return out


def _mlp_teacher_rungs(cfg):
    """``fig11a.memorize`` reads only the MLP's teachers: the book's (checkpoints at 10×, 20×, 40× the run's fit, 50 %
    of the pairs), the authors' schedule (three runs of 5 000, 10 000 and 20 000 epochs at 30 %) at the book's P, and
    the same at the paper's P = 113. The students are cut to one ρ, one τ and one epoch: the claim does not read
    them."""
    from .experiments.modular.config import PRESETS

    paper = PRESETS["paper"].mlp  # the authors' schedule: frac, epochs, stops and separate runs
    top = max(cfg.rhos_of("mlp"))
    stud = dict(rhos=(top,), student_epochs=(1,), mid_teachers=())
    narrow = dict(archs=("mlp",), taus=(max(cfg.taus),), rhos=(top,), small_rho=top, fig10=(), premise=())
    book = dataclasses.replace(cfg.mlp, **stud)
    code = dataclasses.replace(book, frac=paper.frac, teacher_epochs=paper.teacher_epochs, stops=paper.stops,
                               separate_runs=paper.separate_runs)

    def stops(a) -> str:
        return ", ".join(r.replace("fit*", "").replace("epoch>=", "") for r in a.stops) + (
            " × the fit epoch" if all(r.startswith("fit*") for r in a.stops) else " epochs")

    return [(0.0, f"the book: P = {book.P}, {book.frac:.0%}, checkpoints at {stops(book)}", {**narrow, "mlp": book}),
            (1.0, f"the code: P = {code.P}, {code.frac:.0%}, runs of {stops(code)}", {**narrow, "mlp": code}),
            (2.0, f"the code at the paper's P = {paper.P}", {**narrow, "mlp": dataclasses.replace(code, P=paper.P)})]


def _gpt2_size_rungs(cfg):
    """The offline model's depth and width ×1, ×1.5, ×2 with the sentences and classes (5 sentences a class, as the
    paper's 6), toward pretrained GPT-2 small (12 layers × 768, 6 000 sentences, 1 000 classes)."""
    out = []
    for k in (1, 1.5, 2):
        layers, width, n, c = (int(round(k * v)) for v in (cfg.n_layer, cfg.n_embd, cfg.n, cfg.c))
        out.append((float(k), f"×{k:g}: {layers} layers × {width}, {n} sentences, {c} classes",
                    dict(n_layer=layers, n_embd=width, n=n, c=c)))
    return out


def _toy_teacher_rungs(cfg):
    """Chapter 1's c = 3 case (the others dropped) with its teacher trained the book's way (until 100 % on D*^T), the
    authors' code's way (a fixed 4 000 epochs, short of 100 % for most datasets) and at the paper's stated width."""
    from .experiments.toy2d.fig1_fig8 import AUTHORS_TEACHER_EPOCHS

    case = next(case for case in cfg.cases if case.c == 3)
    code = dataclasses.replace(case, teacher_stop="fixed", teacher_max_steps=AUTHORS_TEACHER_EPOCHS)
    return [(0.0, f"the book: p = {case.p}, teacher until 100 % (at most {case.teacher_max_steps} epochs)",
             {"cases": (case,)}),
            (1.0, f"the code: p = {case.p}, teacher a fixed {AUTHORS_TEACHER_EPOCHS} epochs", {"cases": (code,)}),
            (2.0, f"the paper's text: p = {PAPER_TOY_WIDTH}, teacher until 100 %",
             {"cases": (dataclasses.replace(case, p=PAPER_TOY_WIDTH),)})]


PAPER_TOY_WIDTH = 100  # Fig. 1's hidden width in the paper's text (the code, and the book, use 150)
