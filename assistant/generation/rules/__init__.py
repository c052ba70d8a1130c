"""The extractive backend's answer rules, one family per module, in the order they decide (first decision
wins). ``Settings.disabled_rules`` (``assistant eval --without RULE``) switches a family off."""

from __future__ import annotations

from collections.abc import Iterable

from .answer_types import AnswerTypes
from .base import Context, NoEvidence, Part, Reader, Rule
from .compose import compose
from .multipart import MultiPart
from .opposites import Opposite
from .overview import Overview
from .owners import SwappedOwner
from .ranks import WrongRank
from .reading import ReaderVerdict
from .titles import WrongTitle
from .unknown_values import UnknownValues
from .unmentioned import Unmentioned

RULES: tuple[Rule, ...] = (
    Overview(),
    NoEvidence(),
    UnknownValues(),
    Unmentioned(),
    SwappedOwner(),
    WrongRank(),
    Opposite(),
    WrongTitle(),
    ReaderVerdict(),
    AnswerTypes(),
    MultiPart(),
)
# Families that can be switched off (without evidence there is nothing any later rule could read).
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES if not isinstance(r, NoEvidence))


def configured(disabled: Iterable[str] = ()) -> list[Rule]:
    """The rules in order, less the ``disabled`` families; an unknown name is an error, not a silent no-op."""
    off = set(disabled)
    unknown = off - set(RULE_NAMES)
    if unknown:
        raise ValueError(f"unknown answer rule {', '.join(sorted(unknown))}; choose from {', '.join(RULE_NAMES)}")
    return [r for r in RULES if r.name not in off]


__all__ = ["RULES", "RULE_NAMES", "Context", "Part", "Reader", "Rule", "compose", "configured"]
