"""Does a name look like an AI tool's? The one rule the agent (which processes and listeners
outside the catalog it reports) and the collector (which names of unknown tools score the
"ai_name" signal) share, and the model-server ports they both look at.

Words are matched whole (between non-letters), so "ssh-agent" is not "agent" unless agent is
on the list; calibrated by bench/unknown_tools.py on the catalog's products against this
machine's executables and packages, split into a tuning and a reporting half."""
from __future__ import annotations

import re

# whole words that name AI products or what they do
AI_WORDS = ("ai", "gpt", "llm", "llms", "chatgpt", "chatbot", "copilot", "llama", "ollama", "mistral", "claude",
            "gemini", "genai", "openai", "diffusion", "whisper", "rag", "lmstudio", "vllm", "gguf", "agentic")
# fragments that mean AI wherever they appear in a name (llamafile, autogpt, gpt4all)
AI_FRAGMENTS = ("gpt", "llm", "llama", "copilot", "genai", "chatbot", "ollama", "openai")
_WORDS = re.compile(r"(?:^|[^a-z])(?:" + "|".join(AI_WORDS) + r")(?:[^a-z]|$)")

# Default ports of local model servers that little else uses (their docs): Ollama 11434, LM Studio
# 1234, Jan 1337, GPT4All 4891, KoboldCpp 5001, text-generation-webui / Gradio 7860, ComfyUI 8188;
# LocalAI and llama.cpp's server 8080 and AnythingLLM 3001 are generic (GENERIC_MODEL_PORTS).
DISTINCT_MODEL_PORTS = frozenset({11434, 1234, 1337, 4891, 5001, 7860, 8188})
# Ports model servers share with other servers: only with an AI-looking process. 3001 is
# AnythingLLM's, and Browsersync's UI by default (browser-sync's lib/default-config.js,
# ui.port 3001): the catalog claims AnythingLLM by its process and port.
GENERIC_MODEL_PORTS = frozenset({8080, 8000, 5000, 3000, 3001})
MODEL_PORTS = DISTINCT_MODEL_PORTS | GENERIC_MODEL_PORTS


# Programs the rule would take for AI tools that are not, by exact name (a process name's case
# is its program's; GitHub Copilot's CLI is "copilot", which the catalog matches):
# "Copilot" is Copilot Money, a macOS budgeting app (Homebrew/homebrew-cask Casks/c/copilot.rb:
# app "Copilot.app", bundle com.copilot.production).
NOT_AI_PROGRAMS = frozenset({"Copilot"})


def looks_like_ai(name: str) -> bool:
    if name in NOT_AI_PROGRAMS:
        return False
    lowered = name.lower()
    return bool(_WORDS.search(lowered)) or any(fragment in lowered for fragment in AI_FRAGMENTS)


def model_server_listener(process: str, port: int) -> bool:
    """A listener outside the catalog worth reporting: on a port that local model servers use
    and little else, or on a common web port when its process's name looks like an AI tool's."""
    return port in DISTINCT_MODEL_PORTS or (port in GENERIC_MODEL_PORTS and looks_like_ai(process))
