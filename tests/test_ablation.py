"""The ablation table's reading of its cells: which families help which suites, held-out suites aside."""

from assistant.ablation import Ablation, Cell, markdown


def _cell(answer: float, refusal: float, changed: int = 1) -> Cell:
    return Cell({"answer_accuracy": answer, "refusal_accuracy": refusal}, changed)


def test_helps_and_hurts_count_development_suites_only():
    suites = ["main", "town", "coral", "coral+summit"]
    result = Ablation(
        suites,
        {s: {"answer_accuracy": 0.9, "refusal_accuracy": 0.8} for s in suites},
        {
            "summit_rule": {
                "main": _cell(0, -0.1),
                "town": _cell(0.03, 0),
                "coral": _cell(-0.2, 0),
                "coral+summit": _cell(-0.2, 0),
            },
            "general_rule": {
                "main": _cell(0, 0, 0),
                "town": _cell(-0.05, 0),
                "coral": _cell(0, 0, 0),
                "coral+summit": _cell(0, 0, 0),
            },
        },
    )
    assert result.helps("summit_rule") == ["main"] and result.hurts("summit_rule") == ["town"]
    assert result.helps("general_rule") == ["town"]
    assert result.summit_only() == ["summit_rule"]
    table = markdown(result)
    assert "coral (held out)" in table and "coral+summit (held out)" in table
    assert "| `summit_rule` | · / -0.100 (1) | +0.030 / · (1) |" in table
    assert "beyond the summit article's: `summit_rule`." in table
