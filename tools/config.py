"""The one configuration object, read from a TOML file and ``CONVREC_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_home() -> Path:
    return Path(os.environ.get("CONVREC_HOME", Path.home() / ".cache" / "convrec"))


def _config_file() -> Path:
    return Path(os.environ.get("CONVREC_CONFIG", "convrec.toml"))


class Config(BaseSettings):
    """Every setting of convrec. Precedence: constructor > environment > TOML file > default."""

    model_config = SettingsConfigDict(env_prefix="CONVREC_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="cache: data, artifacts, memory")
    dataset: str = Field("ml-100k", description="'ml-100k', 'grouplens:<dir>' or 'synth:<items>:<users>'")
    artifacts: Path | None = Field(None, description="artifacts folder; default <home>/artifacts/<dataset>")
    seed: int = 0

    # collaborative filtering: which models `convrec build` trains and tunes on validation
    cf_models: list[str] = ["pop", "itemknn", "ease", "bpr", "lightgcn", "sasrec"]
    cf_epochs_scale: float = Field(1.0, description="multiplies training epochs (tests use less)")
    cold_items: int = Field(0, description="items whose train interactions are removed (cold-start protocol)")
    reranker: bool = Field(True, description="train the generative reranker in `convrec build`")
    ask_questions: bool = Field(True, description="the agent may ask one question beside a list when the evidence "
                                                 "is thin (agent/questions.py; on: it won on validation)")
    question_policy: dict[str, float] = Field(default_factory=dict, description="overrides of agent.questions."
                                              "QuestionPolicy's tuned values, e.g. {\"min_bits\": 1.5} (for tuning runs)")
    rerank_shares: dict[str, float] = Field(default_factory=dict, description="the reranker's generator share per "
                                            "evidence regime, e.g. {\"picked\": 0.75} (for tuning runs of the offline planner and "
                                            "the oracle; the LLM planner's compose keeps the reranker's own; empty: its own "
                                            "weight in every regime, which won in conversation: issue 25)")

    # serving: torch intra-op threads per process. One: a turn's tensors are tiny, and two
    # OpenMP threads on two busy cores spin-wait (an encode went from ~10 ms to ~600 ms).
    torch_threads: int = 1

    # retrieval and answers
    k: int = 10
    candidates: int = 100

    # long-term memory and dialogue state
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; None = embedded")
    memory_dir: Path | None = Field(None, description="embedded Chroma + checkpoints; default <home>/state")
    checkpoint_url: str | None = Field(
        None, description="postgresql://user@host:port/db: dialogue state in PostgreSQL; None = SQLite in state_dir")

    # serving: who may use the REST API and the UI (tokens and password hashes -> user ids)
    auth_file: Path | None = Field(None, description="TOML auth file; None = open demo (anyone picks any user)")

    # optional LLM behind any OpenAI-compatible endpoint
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(10.0, description="cap on one LLM request (the turn's deadline usually binds first)")
    llm_retries: int = Field(1, description="retries of a failed LLM request, while the turn's deadline allows")
    llm_planner: Literal["tools", "json-chat", "json-completion"] = Field(
        "tools", description="native tool calls; a JSON plan by chat (response_format); or by few-shot completion "
                             "with llama.cpp's json_schema (base models such as Gemma 3 270M)")
    llm_turn_seconds: float = Field(8.0, gt=0, description="all LLM time in one turn")
    llm_max_tool_calls: int = Field(4, ge=1, le=8, description="tool calls the LLM may make in one turn")
    llm_max_tokens: int = Field(256, ge=16, description="longest JSON plan the LLM may write")
    llm_breaker_failures: int = Field(2, ge=1, description="errors in a row that open the circuit (a timeout opens it at once)")
    llm_cooldown: float = Field(60.0, ge=0, description="seconds the LLM is skipped once the circuit opens")
    llm_warm_seconds: float = Field(
        0.0, ge=0, description="at load, one planning request outside any turn may take this long, so a cold "
                               "server loads its model and caches the prompt prefix before a person's first turn; "
                               "0 = none")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, _config_file()))

    @property
    def artifacts_dir(self) -> Path:
        if self.artifacts is not None:
            return Path(self.artifacts)
        safe = self.dataset.replace(":", "-").replace("/", "_")
        return self.home / "artifacts" / safe

    @property
    def state_dir(self) -> Path:
        return Path(self.memory_dir) if self.memory_dir is not None else self.home / "state"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    def public(self) -> dict[str, Any]:
        """The settings that shape a build, for the manifest (no secrets, no local paths)."""
        return self.model_dump(
            mode="json",
            include={"dataset", "seed", "cf_models", "cf_epochs_scale", "cold_items", "candidates", "reranker"},
        )
