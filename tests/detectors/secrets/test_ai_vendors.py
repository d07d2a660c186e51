"""AI vendors: OpenAI, Anthropic, Hugging Face, Mistral, Cohere, Groq, Replicate,
Perplexity, xAI, DeepSeek, OpenRouter (Google AI keys are GOOGLE_API_KEY, in test_clouds)."""
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
_rng = random.Random("ai vendors")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


OPENAI_PROJ = "sk-proj-" + r(74, ALNUM + "_-") + "T3BlbkFJ" + r(74, ALNUM + "_-")
OPENAI_LEGACY = "sk-" + r(20) + "T3BlbkFJ" + r(20)
ANTHROPIC = "sk-ant-api03-" + r(93, ALNUM + "_-") + "AA"
HF = "hf_" + r(34, string.ascii_letters)
MISTRAL = r(32)
COHERE = r(40)
GSK = "gsk_" + r(52)
R8 = "r8_" + r(37)
PPLX = "pplx-" + r(48)
XAI = "xai-" + r(80)
DEEPSEEK = "sk-" + r(32, HEX)
OPENROUTER = "sk-or-v1-" + r(64, HEX)

CASES = [
    ("OPENAI_API_KEY", f"OPENAI_API_KEY={OPENAI_PROJ}", [OPENAI_PROJ]),
    ("OPENAI_API_KEY", f"client = OpenAI(api_key=\"{OPENAI_LEGACY}\")", [OPENAI_LEGACY]),
    ("OPENAI_API_KEY", "sk-proj-" + r(74) + r(82), []),                       # no OpenAI marker
    ("OPENAI_API_KEY", "OPENAI_API_KEY=sk-...", []),                           # elided
    ("OPENAI_API_KEY", "sk-proj-" + "x" * 74 + "T3BlbkFJ" + "x" * 74, []),     # mask
    ("ANTHROPIC_API_KEY", f"ANTHROPIC_API_KEY={ANTHROPIC}", [ANTHROPIC]),
    ("ANTHROPIC_API_KEY", f"x-api-key: {ANTHROPIC[:-2]}", []),                 # missing the AA tail
    ("ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY=sk-ant-api03-your-key-here", []),  # placeholder
    ("HUGGINGFACE_TOKEN", f"huggingface-cli login --token {HF}", [HF]),
    ("HUGGINGFACE_TOKEN", "HF_TOKEN=hf_" + "x" * 34, []),                      # mask
    ("HUGGINGFACE_TOKEN", "hf_" + r(20, string.ascii_letters), []),           # too short
    ("HUGGINGFACE_TOKEN", "see hf_hub_download() in the docs", []),            # an API name
    ("MISTRAL_API_KEY", f"MISTRAL_API_KEY={MISTRAL}", [MISTRAL]),
    ("MISTRAL_API_KEY", f"client = Mistral(api_key='{MISTRAL}')", [MISTRAL]),
    ("MISTRAL_API_KEY", f"request id {MISTRAL}", []),                          # no Mistral name
    ("MISTRAL_API_KEY", "MISTRAL_API_KEY=" + "0" * 32, []),                    # zeroed
    ("COHERE_API_KEY", f"co = cohere.ClientV2(api_key=\"{COHERE}\")", [COHERE]),
    ("COHERE_API_KEY", f"CO_API_KEY={COHERE}", [COHERE]),
    ("COHERE_API_KEY", f"sha1 {r(40, HEX)} cohere", []),                       # a hash, no assignment
    ("GROQ_API_KEY", f"GROQ_API_KEY={GSK}", [GSK]),
    ("GROQ_API_KEY", "gsk_" + "x" * 52, []),                                   # mask
    ("GROQ_API_KEY", GSK[:30], []),                                            # too short
    ("REPLICATE_API_TOKEN", f"export REPLICATE_API_TOKEN={R8}", [R8]),
    ("REPLICATE_API_TOKEN", "r8_" + "*" * 37, []),                             # mask
    ("REPLICATE_API_TOKEN", "r8_" + r(10), []),                                # too short
    ("PERPLEXITY_API_KEY", f"PERPLEXITY_API_KEY={PPLX}", [PPLX]),
    ("PERPLEXITY_API_KEY", "pplx-" + "x" * 48, []),                            # mask
    ("PERPLEXITY_API_KEY", "pplx-api", []),                                    # a name
    ("XAI_API_KEY", f"XAI_API_KEY={XAI}", [XAI]),
    ("XAI_API_KEY", "xai-" + r(40), []),                                       # too short
    ("XAI_API_KEY", "xai-grok-2-vision-1212", []),                             # a model name
    ("DEEPSEEK_API_KEY", f"DEEPSEEK_API_KEY={DEEPSEEK}", [DEEPSEEK]),
    ("DEEPSEEK_API_KEY", f"key {DEEPSEEK}", []),                               # no DeepSeek name
    ("DEEPSEEK_API_KEY", "DEEPSEEK_API_KEY=sk-" + "0" * 32, []),               # zeroed
    ("OPENROUTER_API_KEY", f"OPENROUTER_API_KEY={OPENROUTER}", [OPENROUTER]),
    ("OPENROUTER_API_KEY", "sk-or-v1-" + "0" * 64, []),                        # zeroed
    ("OPENROUTER_API_KEY", "sk-or-v2-" + OPENROUTER[9:], []),                  # wrong version
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_ai_vendor_key(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
