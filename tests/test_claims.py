from softleak.claims import misses_markdown
from softleak.rules import AtLeast, ClaimSpec, Evidence


def test_misses_markdown_lists_failed_inconclusive_and_untested_paper_claims():
    ev = {"ok": Evidence.exact(1.0, n=3), "bad": Evidence.exact(0.0, n=3), "wide": Evidence.samples([0.4, 0.6, 0.5, 0.7]),
          "none": Evidence.none()}
    specs = [ClaimSpec(q, f"claim {q}", "p", AtLeast(q, 0.5, "paper", "the paper")) for q in ev]
    specs.append(ClaimSpec("own", "a book check", "—", AtLeast("bad", 0.5, "book", "b"), kind="book"))
    text = misses_markdown([s.check(ev) for s in specs])
    assert "`bad`: claim bad" in text and "`wide`" in text.split("Inconclusive")[1] and "`none`" in text
    assert "`ok`" not in text and "own" not in text
    assert misses_markdown([specs[0].check(ev)]) == "Every claim of the paper tested at this preset reproduces."
