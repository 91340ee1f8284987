

def test_misses_markdown_lists_only_failed_claims_without_their_rules():
    from softleak.claims import Claim, misses_markdown

    claims = [Claim("a.ok", "holds (rule: x)", "p", "o", True), Claim("b.miss", "fails here (rule: y > 1)", "p", "o", False),
              Claim("c.none", "not tested (rule: z)", "p", "o", None)]
    text = misses_markdown(claims)
    assert "`b.miss`: fails here" in text and "rule" not in text.split("`b.miss`")[1]
    assert "a.ok" not in text and "c.none" not in text
    assert misses_markdown(claims[:1]) == "Every claim tested at this preset reproduces."
