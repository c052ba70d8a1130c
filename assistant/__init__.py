"""summit-assistant: grounded answers about the South Korea–Cambodia summit article.

>>> from assistant import Assistant          # doctest: +SKIP
>>> Assistant().ask("Who did Yoon Suk Yeol meet in Seoul?").citations[0].paragraph  # doctest: +SKIP
1
"""

import os

# Offline by construction: these must be set before sentence-transformers, chromadb or gradio import.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}.items():
    os.environ.setdefault(_name, _value)

from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from .answer import Answer, Citation
    from .core import Assistant
    from .errors import CorpusError, IndexUnavailable, QuestionError
    from .settings import Settings

# The public names load on first use (PEP 562): ``assistant ask`` can hand its question to a running chat page
# without importing the answer engine at all.
_EXPORTS = {
    "Answer": "answer",
    "Citation": "answer",
    "Assistant": "core",
    "QuestionError": "errors",
    "CorpusError": "errors",
    "IndexUnavailable": "errors",
    "Settings": "settings",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = ["Answer", "Assistant", "Citation", "CorpusError", "IndexUnavailable", "QuestionError", "Settings"]
