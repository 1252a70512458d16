"""Long-term preference memory (Chroma) and the checkpointer for dialogue state (LangGraph)."""

from memory.checkpoint import StateUnavailable, memory_checkpointer, open_checkpointer
from memory.preferences import MemoryRecord, MemoryUnavailable, PreferenceMemory, UserProfile

__all__ = [
    "MemoryRecord",
    "MemoryUnavailable",
    "PreferenceMemory",
    "StateUnavailable",
    "UserProfile",
    "memory_checkpointer",
    "open_checkpointer",
]
