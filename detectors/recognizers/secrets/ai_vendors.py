"""AI vendors: the keys most likely to be pasted into the tools this product watches."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, assigned, cases, passed_to


class OpenaiApiKeyRecognizer(TokenRecognizer):
    entity_type = "OPENAI_API_KEY"
    reason = "OpenAI API key"
    # Every OpenAI key carries "T3BlbkFJ" (base64 of "OpenAI") between two random halves.
    patterns = (
        (r"(?<![A-Za-z0-9_\-])sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,100}T3BlbkFJ[A-Za-z0-9_\-]{20,100}(?![A-Za-z0-9_\-])", 0.95),
        (r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = ("T3BlbkFJ",)
    prefix_chars = 3
    min_entropy = 4.0


class AnthropicApiKeyRecognizer(TokenRecognizer):
    entity_type = "ANTHROPIC_API_KEY"
    reason = "Anthropic API key"
    patterns = ((r"(?<![A-Za-z0-9_\-])sk-ant-(?:api|admin|oat)\d\d-[A-Za-z0-9_\-]{80,100}AA(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("sk-ant-",)
    prefix_chars = 14
    min_entropy = 4.2


class HuggingfaceTokenRecognizer(TokenRecognizer):
    entity_type = "HUGGINGFACE_TOKEN"
    reason = "Hugging Face access token"
    patterns = (
        (r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9_])", 0.9),
        (r"(?<![A-Za-z0-9_])api_org_[A-Za-z]{34}(?![A-Za-z0-9_])", 0.9),
    )
    keywords = ("hf_", "api_org_")
    prefix_chars = 3
    min_entropy = 3.8


class MistralApiKeyRecognizer(TokenRecognizer):
    entity_type = "MISTRAL_API_KEY"
    reason = "Mistral AI API key"
    patterns = (
        (assigned("mistral", r"[A-Za-z0-9]{32}") + r"(?![A-Za-z0-9])", 0.85),
        (passed_to("mistral", r"[A-Za-z0-9]{32}"), 0.85),
    )
    keywords = cases("mistral")
    min_entropy = 4.0


class CohereApiKeyRecognizer(TokenRecognizer):
    entity_type = "COHERE_API_KEY"
    reason = "Cohere API key"
    patterns = (
        (assigned(r"cohere|co_api_key", r"[A-Za-z0-9]{40}") + r"(?![A-Za-z0-9])", 0.85),
        (passed_to("cohere", r"[A-Za-z0-9]{40}"), 0.85),
    )
    keywords = (*cases("cohere"), "CO_API_KEY", "co_api_key")
    min_entropy = 4.0


class GroqApiKeyRecognizer(TokenRecognizer):
    entity_type = "GROQ_API_KEY"
    reason = "Groq API key"
    patterns = ((r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("gsk_",)
    prefix_chars = 4
    min_entropy = 4.0


class ReplicateApiTokenRecognizer(TokenRecognizer):
    entity_type = "REPLICATE_API_TOKEN"
    reason = "Replicate API token"
    patterns = ((r"(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{37}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("r8_",)
    prefix_chars = 3
    min_entropy = 4.0


class PerplexityApiKeyRecognizer(TokenRecognizer):
    entity_type = "PERPLEXITY_API_KEY"
    reason = "Perplexity API key"
    patterns = ((r"(?<![A-Za-z0-9_\-])pplx-[A-Za-z0-9]{48}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("pplx-",)
    prefix_chars = 5
    min_entropy = 4.0


class XaiApiKeyRecognizer(TokenRecognizer):
    entity_type = "XAI_API_KEY"
    reason = "xAI (Grok) API key"
    patterns = ((r"(?<![A-Za-z0-9_\-])xai-[A-Za-z0-9]{80}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("xai-",)
    prefix_chars = 4
    min_entropy = 4.2


class DeepseekApiKeyRecognizer(TokenRecognizer):
    entity_type = "DEEPSEEK_API_KEY"
    reason = "DeepSeek API key"
    # "sk-" + 32 hex is also other vendors' shape: only where assigned to a DeepSeek name.
    patterns = ((assigned("deepseek", r"sk-[a-f0-9]{32}") + r"(?![A-Za-z0-9])", 0.9),)
    keywords = (*cases("deepseek"), "DeepSeek")
    prefix_chars = 3
    min_entropy = 3.2


class OpenrouterApiKeyRecognizer(TokenRecognizer):
    entity_type = "OPENROUTER_API_KEY"
    reason = "OpenRouter API key"
    patterns = ((r"(?<![A-Za-z0-9_\-])sk-or-v1-[a-f0-9]{64}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("sk-or-v1-",)
    prefix_chars = 9
    min_entropy = 3.5
