"""'What was the weather like?' about a thing the article never mentions: it cannot describe it."""

from __future__ import annotations

import re

from ..base import Draft
from .base import Context, Rule
from .drafts import refusal

_DESCRIBE = re.compile(r"^\W*(?:what|how)\s+(?:is|was|were|are)\s+(?:the\s+)?(?P<thing>[a-z]+)\s+like\b", re.IGNORECASE)


class Unmentioned(Rule):
    name = "unmentioned"

    def decide(self, ctx: Context) -> Draft | None:
        about = _DESCRIBE.match(ctx.question.resolved)
        if not about or ctx.reader.analyser.known_name(about["thing"]):
            return None
        # Nothing is quoted: whatever scored best is not about the thing asked.
        return refusal(f"The article does not mention the {about['thing']}.", [], ctx.reader.threshold)
