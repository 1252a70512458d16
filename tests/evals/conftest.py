"""Full simulated runs on the small real build, shared by the leak check and the protocol tests."""

from __future__ import annotations

import pytest

from evals.runner import SimSettings, run_simulation

# protocol -> systems. The full agent and the strongest dialogue baseline show different lists,
# so the simulated user reacts to different films and says different things. constraints-pop
# has no memory: under the memory protocol it would be the cold-user run again.
RUN_SYSTEMS = {"standard": ["agent", "constraints-pop"], "memory": ["agent"], "cold-user": ["agent", "constraints-pop"]}
RUN_PROTOCOLS = tuple(RUN_SYSTEMS)


@pytest.fixture(scope="session")
def full_runs(small_artifacts, small_config):
    """protocol -> (report, conversations): every fixture user with a target, 5 turns, seed 0."""
    out = {}
    for protocol, systems in RUN_SYSTEMS.items():
        settings = SimSettings(users=0, max_turns=5, systems=systems, protocol=protocol, seed=0)
        out[protocol] = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    return out
