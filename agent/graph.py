"""The whole conversation graph in one screen.

    understand -> recall -> plan -+-> ask ---------------------------------------------+
                                  +-> answer ------------------------------------------+-> remember -> END
                                  +-> retrieve -> respond -----------------------------+
                                  +-> llm_plan <-> act -> compose -> respond           |
                                        (any fault: -> retrieve, the offline planner)  |

``retrieve`` is the offline planner's one registry call, ``recommend`` (candidates in the
reranker's order: item ids cross the tool boundary once); with an LLM configured, ``llm_plan`` asks it for tool calls, ``act`` runs them (looping back while native
tool calls, calls and the turn's deadline are left), and ``compose`` reranks what they returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from langgraph.graph import END, START, StateGraph

from agent import nodes
from agent.nodes import Toolbox
from agent.state import TraceStep, TurnState

NODES = ("understand", "recall", "plan", "ask", "answer", "retrieve", "respond", "remember",
         "llm_plan", "act", "compose")


def _traced(name: str, fn: Callable[..., dict[str, Any]]) -> Callable[[TurnState], dict[str, Any]]:
    """Time a node and add its step (and optional ``_detail``) to the turn's trace (a reducer adds it)."""

    def run(state: TurnState) -> dict[str, Any]:
        t0 = time.perf_counter()
        update = fn(state)
        detail = str(update.pop("_detail", ""))
        return {**update, "trace": [TraceStep(node=name, ms=round((time.perf_counter() - t0) * 1000, 2),
                                              detail=detail[:300])]}

    return run


def build_graph(tools: Toolbox, checkpointer=None):
    g = StateGraph(TurnState)
    for name in NODES:
        g.add_node(name, _traced(name, partial(getattr(nodes, name), tools=tools)))
    g.add_edge(START, "understand")
    g.add_edge("understand", "recall")
    g.add_edge("recall", "plan")
    g.add_conditional_edges("plan", partial(nodes.route, tools=tools),
                            {"ask": "ask", "answer": "answer", "retrieve": "retrieve", "llm_plan": "llm_plan"})
    g.add_edge("retrieve", "respond")
    g.add_conditional_edges("llm_plan", nodes.after_plan,
                            {"act": "act", "compose": "compose", "retrieve": "retrieve"})
    g.add_conditional_edges("act", partial(nodes.after_act, tools=tools),
                            {"llm_plan": "llm_plan", "compose": "compose", "retrieve": "retrieve"})
    g.add_conditional_edges("compose", nodes.after_compose,
                            {"respond": "respond", "retrieve": "retrieve"})
    for last in ("ask", "answer", "respond"):
        g.add_edge(last, "remember")
    g.add_edge("remember", END)
    return g.compile(checkpointer=checkpointer)
