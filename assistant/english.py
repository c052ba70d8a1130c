"""Whether a question is written in English: the article is English and every stage reads English, so a
question in Korean, Khmer or French finds nothing, and must be told so plainly rather than "the article
does not say".

The language model is py3langid's (langid.py's naive Bayes over byte n-grams, 97 languages including Korean
and Khmer), shipped inside its PyPI package: nothing is downloaded. It loads once, on first use (about 1 s:
the model is xz-compressed), and then classifies a question in well under a millisecond.
"""

from __future__ import annotations

import functools
from typing import Any

# A question is taken for another language only when the model gives English less than this probability.
# Measured on short questions (docs/how-answers-are-made.md, section 11): every question of
# the eval suites and short English ones ("Hun Manet?", "Angkor Wat?", "tl;dr") get at least 0.004;
# Korean and Khmer questions get below 1e-5, most French, German and Spanish ones below 0.002.
ENGLISH_FLOOR = 0.002


@functools.cache
def _identifier() -> Any:  # py3langid ships no type information
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load() -> None:
    """Load the model now (a serving process's warm-up), not on the first foreign question."""
    _identifier()


def english_probability(text: str) -> float:
    """The model's probability that ``text`` is English."""
    return float(dict(_identifier().rank(text)).get("en", 0.0))


def is_foreign(text: str) -> bool:
    """Whether ``text`` is confidently written in a language other than English. A bare name or a word or
    two ("Hun Manet?", "Trade?") leaves the model unsure, well above the floor."""
    return english_probability(text) < ENGLISH_FLOOR
