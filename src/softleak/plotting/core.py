"""The shared look of every figure: theme, metric labels and colours, the one region colour
registry of all phase diagrams, and the heatmap helpers the chapters' figures build on.

``METRICS`` maps each metric column (spec §0.3) to its axis label and colour, so the same quantity
looks the same in every chapter; ``REGION_COLOURS`` gives each phase-diagram region one colour in
every chapter.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap

#: metric column -> (label, colour)
METRICS = {
    "acc_star_T": (r"acc$_*^T$ (teacher on $\mathcal{D}_*^T$)", "#222222"),
    "acc_val_T": (r"acc$_{val}^T$", "#7f7f7f"),
    "acc_fresh_T": (r"teacher on fresh $\mathcal{D}_{val}$ pairs (mirror unseen too)", "#bcbd22"),
    "acc_train_S": (r"acc$_{train}^S$", "#1f77b4"),
    "acc_test_S": (r"acc$_{test}^S$ (held-out memorized)", "#d62728"),
    "acc_val_S": (r"acc$_{val}^S$", "#2ca02c"),
    "acc_match_T_test": (r"match-T on $\mathcal{D}_{test}^S$ (agreement with teacher)", "#9467bd"),
    "acc_match_T_grid": (r"agreement with teacher on $[-1,1]^2$", "#8c564b"),
    "loss_train_S": (r"soft CE on $\mathcal{D}_{train}^S$", "#1f77b4"),
    "loss_test_S": (r"soft CE on $\mathcal{D}_{test}^S$", "#d62728"),
    "acc_match_T_train": (r"match-T on $\mathcal{D}_{train}^S$", "#9467bd"),
    "mse_train": (r"mse$_{train}$ (student vs teacher logits)", "#17becf"),
    "mse_test": (r"mse$_{test}$ (student vs teacher logits)", "#bcbd22"),
}
#: student kind -> colour, shared by every figure that compares them
STUDENTS = {"hard": ("independent student (hard labels)", "#7f7f7f"), "soft": ("soft-label student", "#1f77b4")}


#: the book page's main column at a 1280 px window (sphinx-book-theme, measured in Chromium), and the
#: figure captions' font size there (they inherit the body's 1 rem), in CSS pixels
PAGE_COLUMN_PX = 680
CAPTION_PX = 16
#: a figure wider than this is shown at this width (fonts keep their size, so they grow against it)
MAX_WIDTH_IN = 8.0
DPI = 110


def min_font_pt(width_in: float, *, dpi: float = DPI, column_px: float = PAGE_COLUMN_PX, min_px: float = CAPTION_PX) -> float:
    """The smallest font size (pt) whose text is at least ``min_px`` once a figure ``width_in`` wide is shown in
    the page's column (scaled down to it when wider)."""
    shown_px = min(width_in * dpi, column_px)
    return min_px * 72 * width_in / shown_px


def _shown_width_in(fig) -> float:
    """The width of what ``bbox_inches="tight"`` saves: the figure, plus legends placed outside its axes."""
    fig.draw_without_rendering()
    return max(fig.get_tightbbox().width, 1e-3)


def legible(fig):
    """Make ``fig`` readable in the book's column: wider than :data:`MAX_WIDTH_IN`, it is resized to that width,
    every text smaller than :func:`min_font_pt` is raised to it, the layout is redone (constrained), and legends
    and titles are kept within the width (:func:`_fit_within`). The notebooks' figures pass through here on
    display (:func:`set_theme`)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.text import Text

    width, height = fig.get_size_inches()
    if width > MAX_WIDTH_IN:
        fig.set_size_inches(MAX_WIDTH_IN, height * max(MAX_WIDTH_IN / width, 0.75))
    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.set_layout_engine("constrained")  # larger text needs the layout redone
    floor = min_font_pt(fig.get_figwidth())
    fig.draw_without_rendering()  # create the tick labels
    for ax in fig.axes:  # tick labels, the ones drawn later included
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            sizes = [t.get_fontsize() for t in axis.get_ticklabels(which="both")]
            if sizes and sizes[0] < floor:
                ax.tick_params(axis=name, which="both", labelsize=floor)
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < floor - 1e-6:
            text.set_fontsize(floor)
    _legend_below(fig)
    _fit_within(fig)
    return fig


def _legend_below(fig, share: float = 0.3) -> None:
    """An axes legend outside the right edge that takes more than ``share`` of the figure's width leaves the plot a
    strip once the text is raised: it becomes a figure legend below the axes, and the figure grows by its height."""
    if fig.legends:  # the figure has its legend already
        return
    fig.draw_without_rendering()
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or leg.get_bbox_to_anchor().x0 < ax.get_window_extent().x1 - 1:
            continue
        if leg.get_window_extent().width <= share * fig.bbox.width:
            continue
        handles, labels = leg.legend_handles, [t.get_text() for t in leg.texts]
        size = max([leg._fontsize, *(t.get_fontsize() for t in leg.texts)])
        leg.remove()
        new = fig.legend(handles, labels, loc="outside lower center", ncol=2 if len(labels) > 3 else 1,
                         frameon=leg.get_frame_on(), fontsize=size)
        fig.draw_without_rendering()
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + new.get_window_extent().height / fig.dpi)
        return  # one figure legend at most


def _rewrap(text: str, shrink: float) -> str:
    """``text`` wrapped so that its longest line is about ``shrink`` times as long (its own line breaks kept)."""
    import textwrap

    lines = text.split("\n")
    chars = max(6, int(max(len(line) for line in lines) * shrink))
    return "\n".join(part for line in lines for part in (textwrap.wrap(line, chars) or [""]))


def _fit_within(fig) -> None:
    """Keep the larger text inside the figure's width: legends lose columns, titles wrap onto more lines."""
    fig.draw_without_rendering()
    width = fig.bbox.width
    for leg in list(fig.legends):  # a figure legend wider than the figure: rebuilt with fewer columns
        ncols = leg._ncols
        while leg.get_window_extent().width > width and ncols > 1:
            ncols -= 1
            handles, labels = leg.legend_handles, [t.get_text() for t in leg.texts]
            outside = getattr(leg, "_outside_loc", None)
            loc = "outside lower center" if outside else leg._loc
            fig.legends.remove(leg)
            size = max([leg._fontsize, *(t.get_fontsize() for t in leg.texts)])
            leg = fig.legend(handles, labels, loc=loc, ncol=ncols, frameon=leg.get_frame_on(), fontsize=size)
            fig.draw_without_rendering()
    for ax in fig.axes:  # category names along x that run into each other: onto more lines
        ticks = [t for t in ax.get_xticklabels() if t.get_text()]
        if ticks and not any(ch.isdigit() for t in ticks for ch in t.get_text()[:1]):
            room, labels = ax.get_window_extent().width / len(ticks), []
            for t in ticks:
                w, text = t.get_window_extent().width, t.get_text()
                if w > room * 0.85 and "$" not in text and (" " in text or "\n" in text):
                    text = _rewrap(text, room * 0.9 / w)
                labels.append(text)
            if labels != [t.get_text() for t in ticks]:
                ax.set_xticks([t.get_position()[0] for t in ticks], labels)
    for ax in fig.axes:  # an axis label longer than its axes: onto more lines
        for label, room in ((ax.xaxis.label, ax.get_window_extent().width), (ax.yaxis.label, ax.get_window_extent().height)):
            text, extent = label.get_text(), label.get_window_extent()
            long = extent.width if label is ax.xaxis.label else extent.height
            if text and long > room * 1.05 and "$" not in text:
                label.set_text(_rewrap(text, room / long))
    for ax in fig.axes:
        room = ax.get_window_extent().width * 1.05
        for title in (ax.title, ax._left_title, ax._right_title):
            text = title.get_text()
            extent = title.get_window_extent().width
            if text and extent > room and "$" not in text:
                title.set_text(_rewrap(text, room / extent))


def smallest_font_px(fig, *, dpi: float = DPI, column_px: float = PAGE_COLUMN_PX) -> float:
    """The smallest visible text of ``fig`` in CSS pixels once saved tight and shown in the page's column."""
    from matplotlib.text import Text

    width = _shown_width_in(fig)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    return min(sizes) / 72 * dpi * min(width * dpi, column_px) / (width * dpi) if sizes else float("inf")


def panels(n: int, *, panel: tuple[float, float] = (3.7, 3.2), cols: int = 2, **kw):
    """``n`` axes wrapped ``cols`` to a row (a multi-panel figure wraps rather than shrinks): ``(fig, axes)`` with
    ``axes`` a flat list of ``n``; unused grid cells are removed."""
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(panel[0] * cols, panel[1] * rows), constrained_layout=True,
                             squeeze=False, **kw)
    axes = list(grid.flatten())
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def set_theme() -> None:
    """The book's seaborn theme and table display (call once per notebook): tables show their cells
    whole, so a claim's rule, a measured interval or a deviation's reason is never cut to "…"; figures
    shown with ``display`` pass through :func:`legible`."""
    pd.set_option("display.max_colwidth", None)
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titlesize": "medium"})
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
        from matplotlib.figure import Figure
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        plt.close(plt.figure())  # resolve the backend now: the inline backend registers its own formatter then
        shell.display_formatter.formatters["image/png"].for_type(
            Figure, lambda fig: print_figure(legible(fig), "png", bbox_inches="tight"))


def class_colours(c: int) -> ListedColormap:
    """c distinguishable colours: a qualitative palette up to 10 classes, a spectrum beyond."""
    colours = sns.color_palette("tab10", c) if c <= 10 else sns.color_palette("Spectral", c)
    return ListedColormap(colours)




#: phase-diagram region -> colour, one registry for every chapter (paper Fig. 4B, 7A)
REGION_COLOURS = {
    "grey": "#b0b0b0",
    "lightblue": "#c6dbef",
    "blue": "#3182bd",
    "green": "#74c476",
    "orange": "#fd8d3c",
    "red": "#e6550d",
}


def region_legend(descriptions: dict[str, str]) -> dict[str, tuple[str, str]]:
    """region -> (colour, description) for one chapter's diagram, colours from the registry."""
    return {name: (REGION_COLOURS[name], text) for name, text in descriptions.items()}


def edges(values) -> np.ndarray:
    """Cell edges for pcolormesh from sorted cell centres."""
    v = np.asarray(sorted(values), dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def inverse_rho(ax, rhos, label: str = r"$\alpha = 1/\rho$", c: int = 1, **kw) -> None:
    """The identifiability curve α = 1/(ρc) (c = 1: the binary single-logit case)."""
    r = np.linspace(min(rhos), max(rhos), 200)
    kw = {"color": "#08519c", "ls": "--", "lw": 1.6, **kw}
    ax.plot(1 / (r * c), r, label=label, **kw)


def heatmap(ax, means: pd.DataFrame, metric: str, *, log: bool = False, cmap: str = "viridis", vmin=None, vmax=None,
            y: str = "rho", logy: bool = False, xlabel: str = r"$\alpha = n/d$"):
    """One metric over the (α, y) grid; ``means`` has one row per (alpha, y); y is ρ or τ (log axis)."""
    grid = means.pivot_table(index=y, columns="alpha", values=metric)
    values = grid.to_numpy()
    y_edges = 10 ** edges(np.log10(grid.index)) if logy else edges(grid.index)
    if log:
        from matplotlib.colors import LogNorm

        positive = values[values > 0]
        norm = LogNorm(vmin=vmin or max(positive.min(), 1e-12), vmax=vmax or positive.max())
        mesh = ax.pcolormesh(edges(grid.columns), y_edges, np.clip(values, norm.vmin, None), norm=norm, cmap=cmap)
    else:
        mesh = ax.pcolormesh(edges(grid.columns), y_edges, values, cmap=cmap, vmin=vmin, vmax=vmax)
    pad = (grid.columns.max() - grid.columns.min()) / max(len(grid.columns) - 1, 1) / 2
    ax.set(xlabel=xlabel, ylabel={"rho": r"$\rho$", "tau": r"$\tau$"}.get(y, y),
           xlim=(grid.columns.min() - pad, grid.columns.max() + pad))
    if logy:
        ax.set_yscale("log")
    ax.figure.colorbar(mesh, ax=ax, shrink=0.85)
    return mesh



def errorbars(ax, df, x, metric, colour, label, **kw) -> None:
    s = df.sort_values(x)
    err = s[f"{metric}_sem"] if f"{metric}_sem" in s else None
    style = {"marker": "o", "ms": 3.5, "lw": 1.4, "capsize": 2, **kw}
    ax.errorbar(s[x], s[metric], yerr=err, color=colour, label=label, **style)
