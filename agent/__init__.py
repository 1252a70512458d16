"""The conversational agent: ``from agent import ConvRec``."""

from agent.api import ConvRec, TurnFailed
from agent.request import Request
from agent.state import RecItem, Reply

__all__ = ["ConvRec", "RecItem", "Reply", "Request", "TurnFailed"]
