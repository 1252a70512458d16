"""The conversational agent: ``from agent import ConvRec``."""

from agent.api import ConvRec, TurnFailed
from agent.request import Request
from agent.state import RecItem, Reply
from agent.vocabulary import MAX_MESSAGE

__all__ = ["MAX_MESSAGE", "ConvRec", "RecItem", "Reply", "Request", "TurnFailed"]
