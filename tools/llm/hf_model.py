"""The Gemma GGUF as a transformers model, converted once and cached under ``$CONVREC_HOME``."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tools.llm.install import MODEL_ID, gguf_path


def converted_dir(home: Path) -> Path:
    return home / "llm" / f"{MODEL_ID}-hf"


def load(home: Path):
    """(model, tokenizer, seconds). The first call de-quantises the GGUF (minutes) and saves the result."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    target = converted_dir(home)
    if not (target / "config.json").exists():
        gguf = gguf_path()
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # the weights are already de-quantised to fp32; the GGUF "quantizer" only blocks saving
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = target.with_name(target.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        # renamed only when complete: an interrupted conversion is redone, not half-loaded
        partial.rename(target)
    model = AutoModelForCausalLM.from_pretrained(target, dtype="float32")
    tokenizer = AutoTokenizer.from_pretrained(target)
    model.eval()
    return model, tokenizer, time.perf_counter() - start
