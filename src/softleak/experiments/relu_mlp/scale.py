"""This preset's scale: the numbers of the config the page glues, and the caveat that closes the page's
conclusion (the student's learning rate and the sizes differ from the paper's)."""
from __future__ import annotations
from ...chapters import Figure, Verdicts
from .common import PAPER_STUDENT_LR
from .config import ReluConfig, orange_cut


def settings(cfg: ReluConfig) -> dict[str, object]:
    """The config's numbers the page glues."""
    return {"d": cfg.d, "c": cfg.c, "p": cfg.p, "chance": 1.0 / cfg.c, "tau": cfg.tau,
            "student_lr": cfg.student_lr, "student_steps": cfg.student_steps,
            "lr_over_paper": cfg.student_lr / PAPER_STUDENT_LR, "orange_cut": orange_cut(cfg.c),
            "curve_rho": cfg.curve.rho, "tail_rho": cfg.tail.rho,
            "capacity_rho": cfg.capacity.rho, "width_alpha": cfg.width.alpha}


def read_scale(v: Verdicts) -> list[str]:
    """Read each verdict as a statement about this preset."""
    return [f"\n\nThe student's learning rate here is {v.num('lr_over_paper')} times the paper's, and the sizes "
            "are smaller (see the deviations table): read each verdict as a statement about this preset."]


FIGURE = Figure("scale", "This preset's scale", read=read_scale)
