"""Answer backends behind one contract (see ``base.AnswerGenerator``)."""

from .base import AnswerGenerator, Draft, GeneratorInput
from .extractive import ExtractiveGenerator

__all__ = ["AnswerGenerator", "Draft", "ExtractiveGenerator", "GeneratorInput"]
