"""'What is this article about?': the article's own lede, quoted."""

from __future__ import annotations

from ...corpus import Sentence
from ..base import Draft
from .base import Context, Rule

OVERVIEW_SENTENCES = 3  # lede sentences quoted


class Overview(Rule):
    name = "overview"

    def decide(self, ctx: Context) -> Draft | None:
        """The first sentence of each of the first paragraphs (of each document, when there are several)."""
        if ctx.question.answer_type != "overview":
            return None
        documents = ctx.reader.corpus.documents
        if len(documents) == 1:
            firsts: dict[int, Sentence] = {}
            for s in documents[0].sentences:
                firsts.setdefault(s.paragraph, s)
            lede = list(firsts.values())[:OVERVIEW_SENTENCES]
            intro = f"The article “{documents[0].title}” reports:"
        else:
            lede = [d.sentences[0] for d in documents[:OVERVIEW_SENTENCES] if d.sentences]
            intro = f"The {len(documents)} documents open with:"
        # Quoted as the article's own summary rather than scored against the question: full support.
        cited = [(s, 1.0) for s in lede]
        quotes = " ".join(f"“{s.text}” [{i}]" for i, (s, _) in enumerate(cited, 1))
        return Draft(f"{intro} {quotes}", cited, "answer", 1.0)
