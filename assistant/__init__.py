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

from .answer import Answer, Citation  # noqa: E402
from .core import Assistant, QuestionError  # noqa: E402
from .corpus import CorpusError  # noqa: E402
from .index import IndexUnavailable  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = ["Answer", "Assistant", "Citation", "CorpusError", "IndexUnavailable", "QuestionError", "Settings"]
