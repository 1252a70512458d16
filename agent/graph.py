"""The whole conversation graph in one screen.

    understand -> recall -> plan -+-> ask ----------------------------+
                                  +-> answer -------------------------+-> remember -> END
                                  +-> retrieve -> rerank -> respond --+
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from langgraph.graph import END, START, StateGraph

from agent import nodes
from agent.nodes import Toolbox
from agent.state import TurnState


def _traced(name: str, fn: Callable[..., dict[str, Any]]) -> Callable[[TurnState], dict[str, Any]]:
    """Time a node and append its step (and optional ``_detail``) to the turn's trace."""

    def run(state: TurnState) -> dict[str, Any]:
        t0 = time.perf_counter()
        update = fn(state)
        detail = str(update.pop("_detail", ""))
        step = {"node": name, "ms": round((time.perf_counter() - t0) * 1000, 2), "detail": detail[:300]}
        return {**update, "trace": [*state.get("trace", []), step]}

    return run


def build_graph(tools: Toolbox, checkpointer=None):
    g = StateGraph(TurnState)
    for name in ("understand", "recall", "plan", "ask", "answer", "retrieve", "rerank", "respond", "remember"):
        g.add_node(name, _traced(name, partial(getattr(nodes, name), tools=tools)))
    g.add_edge(START, "understand")
    g.add_edge("understand", "recall")
    g.add_edge("recall", "plan")
    g.add_conditional_edges("plan", nodes.route, {"ask": "ask", "answer": "answer", "retrieve": "retrieve"})
    g.add_edge("retrieve", "rerank")
    g.add_edge("rerank", "respond")
    for last in ("ask", "answer", "respond"):
        g.add_edge(last, "remember")
    g.add_edge("remember", END)
    return g.compile(checkpointer=checkpointer)
