"""Full simulated runs on the small real build, shared by the leak check and the protocol tests."""

from __future__ import annotations

import pytest

from evals.runner import SimSettings, run_simulation

# run -> (protocol, simulated user, systems). The full agent and the strongest dialogue baseline
# show different lists, so the simulated user reacts to different films and says different things.
# constraints-pop has no memory: under the memory protocol it would be the cold-user run again.
# "heldout": the standard protocol spoken by the held-out simulated user (evals/heldout.py).
RUNS = {"standard": ("standard", "template", ["agent", "constraints-pop"]),
        "memory": ("memory", "template", ["agent"]),
        "stale": ("stale", "template", ["agent"]),
        "cold-user": ("cold-user", "template", ["agent", "constraints-pop"]),
        "heldout": ("standard", "heldout", ["agent", "constraints-pop"])}
RUN_SYSTEMS = {name: systems for name, (_, _, systems) in RUNS.items()}
RUN_PROTOCOLS = tuple(RUNS)
# a seeded sample of the fixture's users (all 150 took 148 s of `make test`); every fixture user
# is still checked for leaks against random lists (test_leaks.py)
FULL_RUN_USERS = 60


@pytest.fixture(scope="session")
def full_runs(small_artifacts, small_config):
    """run -> (report, conversations): FULL_RUN_USERS fixture users, 5 turns, seed 0."""
    out = {}
    for name, (protocol, simulator, systems) in RUNS.items():
        settings = SimSettings(users=FULL_RUN_USERS, max_turns=5, systems=systems, protocol=protocol, simulator=simulator, seed=0)
        out[name] = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    return out
