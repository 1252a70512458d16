"""A real local LLM: Gemma 3 270M (GGUF) behind an OpenAI-compatible server, llama.cpp or transformers."""
