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
