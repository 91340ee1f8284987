"""§3, audit a model you have: the worked example of ``python -m softleak.audit`` on the files a publisher of a digit
teacher would hold, for the chapter's first digit teacher (which memorized the canaries) and for a teacher of the
same shape that never saw them, run as a user runs it (a subprocess, with ``--fail-on-leak``)."""

from __future__ import annotations

from pathlib import Path

from ... import audit
from ...audit import example as digit_example
from ...chapters import Figure
from .config import ReleaseConfig


def example_teacher(cfg: ReleaseConfig) -> digit_example.DigitTeacher:
    """The worked example's digit teacher at this chapter's canary settings."""
    k = cfg.canary
    return digit_example.DigitTeacher(count=k.count, train=k.train, hidden=k.p, lr=k.teacher_lr,
                                      steps=k.teacher_steps, tau=k.tau)


def write_example(cfg: ReleaseConfig, folder, *, memorize: bool = True, seed: int | None = None, device=None
                  ) -> dict[str, Path]:
    """Write the files a user of ``python -m softleak.audit`` would have (:func:`softleak.audit.example.write_files`)
    from the first canary teacher of this chapter (``memorize=True``: it is the chapter's own teacher of that
    seed) or from a teacher of the same shape that never sees the canaries. Returns the paths by flag."""
    return digit_example.write_files(folder, memorize=memorize, seed=cfg.canary.seeds[0] if seed is None else seed,
                                     teacher=example_teacher(cfg), device=device)


def audit_command(cfg: ReleaseConfig, paths: dict[str, Path], out: Path, *, inits: int = 2) -> list[str]:
    """The ``python -m softleak.audit`` arguments a user would give on :func:`write_example`'s files: the undefended
    release and hard labels at the canary setting's τ, with the chapter's student, writing the JSON to ``out``;
    the audit's bootstrap and null at the chapter's sizes."""
    k = cfg.canary
    return [*digit_example.command(paths, tau=k.tau, hidden=k.p, lr=k.student_lr, epochs=k.student_steps, inits=inits,
                                   out=out),
            "--bootstrap", str(cfg.audit.bootstrap), "--null", str(cfg.audit.null)]


#: the worked example's two teachers: label -> (folder, whether it memorizes the canaries)
EXAMPLE_TEACHERS = {"memorizes the canaries": ("memorizes", True), "never sees them": ("never_sees", False)}


def audit_examples(cfg: ReleaseConfig, folder, *, inits: int = 2) -> dict[str, dict]:
    """The worked example as a user runs it: for each of :data:`EXAMPLE_TEACHERS`, its files
    (:func:`write_example`), then ``python -m softleak.audit … --fail-on-leak`` in a subprocess. Returns per teacher
    ``{"report": the JSON report, "status": the exit status, "command": the arguments, "stdout": what it printed}``.

    Raises:
        RuntimeError: the command line failed (an exit status other than 0 or 3), with its stderr.
    """
    import json
    import subprocess
    import sys

    out = {}
    for label, (name, memorize) in EXAMPLE_TEACHERS.items():
        where = Path(folder) / name
        args = [*audit_command(cfg, write_example(cfg, where, memorize=memorize), where / "report.json", inits=inits),
                "--quiet", "--fail-on-leak"]
        done = subprocess.run([sys.executable, "-m", "softleak.audit", *args], capture_output=True, text=True)
        if done.returncode not in (audit.EXIT_OK, audit.EXIT_LEAKS):
            raise RuntimeError(f"python -m softleak.audit failed for the teacher that {label}: {done.stderr}")
        out[label] = {"report": json.loads((where / "report.json").read_text()), "status": done.returncode,
                      "command": args, "stdout": done.stdout}
    return out


def example_metrics(examples: dict[str, dict]) -> dict[str, object]:
    """The page's numbers of :func:`audit_examples`: per teacher the undefended recipe's verdict, its p-value and
    the command's exit status."""
    metrics = {}
    for label, (name, _) in EXAMPLE_TEACHERS.items():
        first = examples[label]["report"]["recipes"][0]
        metrics.update({f"example.{name}.verdict": first["verdict"], f"example.{name}.p_value": first["p_value"],
                        f"example.{name}.exit_status": examples[label]["status"]})
    return metrics


#: the section draws the two reports (:func:`softleak.plotting.example_view`); the notebook runs it and glues
#: :func:`example_metrics`, after the chapter's summary
FIGURE = Figure("example", "3. Audit a model you have")
