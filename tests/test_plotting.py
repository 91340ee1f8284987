"""The book's figure rules: readable at the page's column width, multi-panel figures wrapped."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from softleak.plotting import core  # noqa: E402


def test_min_font_follows_the_shown_width():
    # a figure narrower than the column is shown at its size: 16 px is 16 px × 72 / 110 pt
    assert core.min_font_pt(5.0) == pytest.approx(16 * 72 / 110)
    # a figure 8 in wide is shrunk to 680 px: its fonts must be larger in pt
    assert core.min_font_pt(8.0) == pytest.approx(16 * 72 * 8 / 680)


def test_legible_resizes_wide_figures_and_raises_small_text():
    fig, axes = core.plt.subplots(1, 4, figsize=(17, 4))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set_title("small", fontsize=6)
        ax.legend(fontsize=5)
    axes[-1].legend(["outside"], loc="center left", bbox_to_anchor=(1.05, 0.5), fontsize=5)  # widens the saved figure
    assert core.smallest_font_px(fig) < core.CAPTION_PX
    core.legible(fig)
    assert fig.get_figwidth() == core.MAX_WIDTH_IN
    assert core.smallest_font_px(fig) >= core.CAPTION_PX - 1e-9
    core.plt.close(fig)


def test_panels_wrap_two_to_a_row():
    fig, axes = core.panels(3)
    assert len(axes) == 3 and len(fig.axes) == 3
    assert {round(ax.get_position().y0, 2) for ax in axes}.__len__() == 2  # two rows
    assert fig.get_figwidth() <= core.MAX_WIDTH_IN
    core.plt.close(fig)


def test_displayed_figures_pass_through_legible():
    """In a notebook, set_theme makes the PNG of every displayed figure the legible one (8 in at most)."""
    import io

    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure
    from PIL import Image

    shell = InteractiveShell.instance()
    try:
        core.set_theme()
        fig, _ = core.plt.subplots(1, 4, figsize=(17, 4))
        png = shell.display_formatter.formatters["image/png"].lookup_by_type(Figure)(fig)
        width = Image.open(io.BytesIO(png)).size[0]
        assert width <= (core.MAX_WIDTH_IN + 0.25) * core.DPI and fig.get_figwidth() == core.MAX_WIDTH_IN  # tight bbox pads
        core.plt.close(fig)
    finally:
        InteractiveShell.clear_instance()


def test_a_wide_legend_on_the_right_moves_below_the_plot():
    fig, ax = core.plt.subplots(figsize=(8.6, 5.0), constrained_layout=True)
    for k in range(7):
        ax.plot([0, 1], [k, k + 1], label=f"region {k}: a long description of what this colour means")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    height = fig.get_figheight()
    core.legible(fig)
    fig.draw_without_rendering()
    assert ax.get_legend() is None and len(fig.legends) == 1
    assert fig.legends[0].get_window_extent().y1 <= ax.get_window_extent().y0  # below the axes
    assert ax.get_window_extent().width > 0.7 * fig.bbox.width  # the plot keeps the column, not a strip
    assert fig.get_figheight() > height  # the figure grew by the legend's height
    core.plt.close(fig)


def test_a_small_legend_on_the_right_stays():
    fig, ax = core.plt.subplots(figsize=(6, 4))
    ax.plot([0, 1], [0, 1], label="a")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    core.legible(fig)
    assert ax.get_legend() is not None and not fig.legends
    core.plt.close(fig)
