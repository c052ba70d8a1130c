"""Whether a question is written in English: the article is English and every stage reads English, so a
question in Korean, Khmer or French finds nothing, and must be told so plainly rather than "the article
does not say".

The detector is Google's Compact Language Detector 2 (the PyPI package ``pycld2``: its tables are compiled
into the extension, nothing is downloaded; 160+ languages including Korean and Khmer). It takes well under a
millisecond and about 7 MiB, where py3langid's model took 74 MiB and 0.5-1.6 s to load
(docs/how-answers-are-made.md, section 11, has the comparison).
"""

from __future__ import annotations

import pycld2

# Answers CLD2 gives for English text: "un" (unknown) for a bare name or a word or two, and Scots, an
# English variety it mistakes short English for ("What did Kim Tae-hyo announce?").
ENGLISH_CODES = frozenset({"en", "un", "sco"})


def language(text: str) -> tuple[str, bool]:
    """CLD2's top language code for ``text`` and whether it calls the detection reliable."""
    try:
        reliable, _, details = pycld2.detect(text)
    except (pycld2.error, UnicodeEncodeError):  # a control byte or a lone surrogate: nothing to tell
        return "un", False
    return details[0][1], bool(reliable)


def is_foreign(text: str) -> bool:
    """Whether ``text`` is reliably written in a language other than English. A bare name or a word or two
    ("Hun Manet?", "Trade?") is not: CLD2 calls those unknown or unreliable."""
    code, reliable = language(text)
    return reliable and code not in ENGLISH_CODES
