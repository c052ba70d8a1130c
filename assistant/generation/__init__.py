"""Answer backends behind one contract (see ``base.AnswerGenerator``)."""

from .base import AnswerGenerator, Draft
from .extractive import ExtractiveGenerator

__all__ = ["AnswerGenerator", "Draft", "ExtractiveGenerator"]
