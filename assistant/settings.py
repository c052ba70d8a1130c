"""One typed settings object for the whole assistant, overridable by ``ASSISTANT_*`` env vars."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
BUNDLED_CORPUS = PROJECT_DIR / "corpus"  # the summit article
USER_CACHE = Path.home() / ".cache" / "summit-assistant"


def _default_data_dir() -> Path:
    # In a source checkout keep state beside the code (gitignored); installed elsewhere, use the cache.
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / ".data"
    return USER_CACHE


def _default_models_dir() -> Path:
    # One per user, shared by every data folder (every clone): the ONNX export is made once per machine.
    return USER_CACHE / "models"


class Settings(BaseSettings):
    """Every tunable of the assistant. ``Settings(k=3)`` or ``ASSISTANT_K=3`` both work."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid", validate_default=True)

    corpus_dir: Path = Field(default=BUNDLED_CORPUS, description="Folder of .txt/.md articles.")
    data_dir: Path = Field(default_factory=_default_data_dir, description="Index, feedback and reports.")

    # Vector store: embedded Chroma on disk by default, a Chroma server by configuration.
    chroma_mode: Literal["embedded", "server"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    chroma_ssl: bool = False
    chroma_headers: dict[str, str] = Field(default_factory=dict)
    chroma_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a Chroma server.")
    collection_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$",
        description="Start of the index's collection name (default: summit for the bundled article, else documents).",
    )

    # Embeddings: the same all-MiniLM-L6-v2 either way (vectors agree to cosine 0.9999999); onnx serves
    # without importing torch, torch is sentence-transformers itself (the reference, and the ONNX export).
    embedding_backend: Literal["onnx", "torch"] = "onnx"
    models_dir: Path = Field(
        default_factory=_default_models_dir, description="Exported ONNX models, shared by every data dir."
    )

    # Chunking: sentence-aware chunks measured in the embedding model's word pieces.
    chunk_tokens: int = Field(default=96, ge=16, le=256)
    chunk_overlap: int = Field(default=1, ge=0, le=5, description="Sentences shared by neighbouring chunks.")

    # Retrieval.
    retriever: Literal["dense", "bm25", "hybrid"] = "hybrid"
    rerank: bool = True
    k: int = Field(default=4, ge=1, le=50, description="Passages handed to the generator.")
    candidates: int = Field(default=10, ge=1, le=200, description="Chunks each retriever proposes before fusion.")
    rrf_c: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Dense share of the sentence score (rest: term coverage)."
    )
    window: int = Field(default=1, ge=0, le=5, description="Neighbour sentences kept around a reranked sentence.")

    # Answering.
    llm: str = Field(
        default="extractive",
        description="extractive | llamacpp:PATH | ollama:MODEL | openai:MODEL (Assistant(chat_model=...) overrides it).",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1)."
    )
    llm_api_key: str | None = Field(
        default=None, description="API key for openai: backends (any string for local servers)."
    )
    ollama_base_url: str = "http://127.0.0.1:11434"
    llm_timeout: float = Field(default=20.0, gt=0, description="Seconds before an LLM backend counts as unreachable.")
    llm_max_tokens: int = Field(default=256, ge=16, le=4096)
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    # Fitted by `assistant eval --calibrate` on evals/main.jsonl (sweep in evals/reports/calibration.json).
    refusal_threshold: float = Field(default=0.24, ge=0.0, le=1.0)
    # The trained reader (assistant/data/reader/, made by `assistant train`): it reads the best candidate sentences
    # and decides whether the text answers, and with what span. Off, the rules and the refusal threshold decide.
    reader: bool = True
    reader_dir: Path | None = Field(default=None, description="A reader model folder (default: the shipped one).")
    reader_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Answer at or above this reader probability (default: the model's)."
    )
    reader_candidates: int = Field(default=8, ge=1, le=32, description="Sentences the reader reads per question.")
    reader_reads_all: bool = Field(
        default=False,
        description="Read every question, even with nothing to decide (its verdict is recorded: calibration).",
    )
    reader_overrules: float = Field(
        default=0.9, ge=0.0, le=1.0, description="Reader probability at which its answer replaces an LLM's refusal."
    )
    # Answer-rule families switched off (names in assistant.generation.rules.RULE_NAMES), to measure what each
    # one does: ASSISTANT_DISABLED_RULES=ranks,titles or `assistant eval --without ranks`.
    disabled_rules: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_answer_sentences: int = Field(default=3, ge=1, le=10)
    max_question_chars: int = Field(default=2000, ge=10)

    # Chat page.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    share: bool = False
    concurrency: int = Field(default=2, ge=1, le=64, description="Chat requests answered at once (2 cores).")
    auth: str | None = Field(default=None, description="user:password for HTTP basic auth on the chat page.")

    @field_validator("disabled_rules", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else value

    @field_validator("auth")
    @classmethod
    def _auth_has_user_and_password(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or value.startswith(":") or value.endswith(":")):
            raise ValueError("ASSISTANT_AUTH must look like user:password")
        return value

    def with_overrides(self, **overrides: Any) -> Settings:
        """A validated copy with ``overrides`` applied (``model_copy`` would skip validation)."""
        return type(self)(**{**self.model_dump(), **overrides}) if overrides else self

    @property
    def index_prefix(self) -> str:
        """The collection prefix in use: a user's own documents are not indexed under the summit's name."""
        if self.collection_prefix:
            return self.collection_prefix
        return "summit" if self.corpus_dir.resolve() == BUNDLED_CORPUS else "documents"

    @property
    def library_dir(self) -> Path:
        """Where `assistant ingest` keeps converted documents; indexed together with corpus_dir."""
        return self.data_dir / "library"

    @property
    def feedback_file(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "chroma"


def explain(error: ValidationError) -> str:
    """One line per bad setting, named as a user sets it: "ASSISTANT_K='abc': Input should be a valid integer"."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "settings"
        name = f"ASSISTANT_{field.upper()}" if field in Settings.model_fields else field
        value = problem.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int, float)) and len(repr(value)) <= 60 else ""
        lines.append(f"{name}{shown}: {problem['msg']}")
    return "; ".join(lines)
