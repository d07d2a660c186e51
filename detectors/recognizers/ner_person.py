"""PERSON from spaCy's English NER model, made to hold up on pastes: a guess is cut to the
words a name can hold, dropped when it is a status word or reason phrase alone, a heading or
field label, an identifier, a country or an organisation, and, in a sentence written in
another language, kept only when shaped like a full name."""
from __future__ import annotations

import functools

import regex as re
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from shadowmap.detectors.recognizers.country_names import COUNTRY_NAMES

# What the small NER model tags as a person in error messages, logs and code ("logged in to
# the server (Unauthorized)", "final String"): HTTP reason phrases, states, log levels and type
# names, alone, are nobody's name.
NOT_NAMES = frozenset((
    "unauthorized", "unauthorised", "forbidden", "unavailable", "service unavailable", "conflict", "accepted",
    "created", "gone", "locked", "timeout", "gateway timeout", "bad gateway", "bad request", "not found",
    "notfound", "too many requests", "payment required", "method not allowed", "not acceptable",
    "precondition failed", "unprocessable entity", "internal server error", "access denied", "permission denied",
    "denied", "refused", "connection refused", "expired", "pending", "running", "completed", "succeeded",
    "failed", "failure", "terminated", "evicted", "crashloopbackoff", "imagepullbackoff", "errimagepull",
    "error", "warning", "critical", "fatal", "panic", "debug", "trace", "exception", "traceback", "deprecated",
    "unknown", "undefined", "null", "none", "true", "false",
    # Forms of address alone ("Dear Sir or Madam,").
    "sir", "madam", "ma'am", "mister", "miss", "sir or madam", "sirs", "dear",
    # Code's type names and modifiers ("private static final String TOKEN = ...").
    "string", "boolean", "integer", "object", "void", "final", "static", "public", "private", "protected",
))

# A name does not start with a verb a commit message, a changelog or a request starts with
# ("a1b2c3d Add retry to payment client" in git log --oneline), nor hold a word that names a
# part of a system ("API Key: sk-...", "Admin Key", "Server"): those are headings and labels.
_LEADING_VERBS = frozenset((
    "add", "adds", "added", "fix", "fixes", "fixed", "update", "updates", "updated", "remove", "removes", "removed",
    "bump", "bumps", "bumped", "merge", "merged", "revert", "reverts", "reverted", "refactor", "refactored",
    "implement", "implemented", "rename", "renamed", "move", "moved", "drop", "dropped", "use", "allow", "enable",
    "disable", "improve", "handle", "ensure", "create", "delete", "replace", "upgrade", "downgrade", "migrate",
    "cleanup", "prepare", "release", "initial", "wip", "chore", "feat", "docs", "tests", "perf",
    # and a request to an assistant starts with ("Mention Airflow, Spark and dbt")
    "mention", "write", "explain", "summarize", "summarise", "translate", "list", "describe", "include", "compare",
    "generate", "rewrite", "convert", "draft", "review", "refine", "format", "fill",
))
_SYSTEM_WORDS = frozenset((
    "api", "key", "keys", "token", "tokens", "secret", "secrets", "password", "passwords", "admin", "server",
    "endpoint", "gateway", "database", "cluster", "config", "hostname", "username", "login", "webhook", "repo",
    "namespace", "deployment", "pipeline", "backend", "frontend", "sdk", "cli", "url", "json", "yaml",
))
# Software and services the model takes for people in a developer's prose ("Refactor Kafka
# consumer", "Can Grafana alert us", "Vercel was also an option"): a guess that is one of them
# alone is not a name. Those that are also common given names (Travis, Hugo, Luigi) are left out.
SOFTWARE_NAMES = frozenset((
    "kafka", "grafana", "jenkins", "vercel", "netlify", "heroku", "sonar", "sonarqube", "redis", "docker",
    "kubernetes", "terraform", "ansible", "nginx", "apache", "tomcat", "jetty", "django", "flask", "laravel",
    "symfony", "hibernate", "maven", "gradle", "jira", "confluence", "trello", "asana", "notion", "slack", "figma",
    "sentry", "datadog", "kibana", "logstash", "elasticsearch", "prometheus", "jaeger", "zipkin", "consul", "nomad",
    "packer", "vagrant", "pulumi", "helm", "istio", "linkerd", "envoy", "traefik", "caddy", "celery", "airflow",
    "dagster", "flink", "hadoop", "presto", "trino", "cassandra", "mongo", "mongodb", "postgres", "postgresql",
    "mysql", "mariadb", "snowflake", "databricks", "bigquery", "redshift", "fargate", "stripe", "twilio",
    "sendgrid", "mailgun", "okta", "keycloak", "firebase", "supabase", "webpack", "jest", "mocha", "cypress",
    "selenium", "playwright", "puppeteer", "storybook", "svelte", "nuxt", "gatsby", "jekyll", "pandas", "numpy",
    "scipy", "keras", "pytorch", "tensorflow", "jupyter", "conda", "pydantic", "fastapi", "uvicorn", "gunicorn",
    "rabbitmq", "zookeeper", "etcd", "minio", "ceph", "openshift", "rancher", "argo", "argocd", "flux", "tekton",
    "bitbucket", "gitlab", "github", "circleci", "buildkite", "teamcity", "bamboo", "octopus", "splunk",
    "pagerduty", "opsgenie", "zendesk", "intercom", "hubspot", "salesforce", "shopify", "magento", "wordpress",
    "drupal", "joomla", "cloudflare", "akamai", "fastly", "auth0", "chatgpt", "claude", "gemini", "copilot",
    "cursor", "ollama", "mistral", "llama", "whisper", "langchain", "llamaindex", "huggingface", "postman",
    "insomnia", "swagger", "graphql", "prisma", "sequelize", "mongoose", "typeorm", "dbeaver", "pgadmin",
    "metabase", "superset", "looker", "tableau", "powerbi", "excel", "outlook", "teams", "zoom", "webex",
    # browsers, runtimes, systems and languages (not Ruby or Swift: names too)
    "safari", "chrome", "chromium", "firefox", "node", "nodejs", "deno", "java", "kotlin", "scala", "perl", "php",
    "rust", "golang", "linux", "ubuntu", "debian", "fedora", "centos", "android", "windows", "macos", "xcode",
    "vscode", "intellij", "pycharm",
))
# A capital inside a word after lower-case letters makes an identifier ("ExternalSecret",
# "PaymentDeclined"), except after the prefixes of names written that way ("McDonald",
# "MacArthur", "DeAndre", "LaToya", "DiCaprio", "VanDyke", "FitzGerald").
_INNER_CAPITAL = re.compile(r"\p{Ll}\p{Lu}")
_NAME_PREFIXES = frozenset(("mc", "mac", "de", "di", "da", "du", "la", "le", "van", "von", "fitz", "st"))

# Places the model takes for people: country and territory names in the languages of the
# national formats (country_names.py), names with a word for a state or islands in them
# ("República Checa", "Brunei Darussalam"), and what follows Saint / San ("Sainte Joseph").
# Countries that are also given names or surnames ("Jordan", "Tom Holland") stay names.
_STATE_WORDS = frozenset((
    "republic", "república", "republica", "republik", "république", "repubblica", "republiek", "republika",
    "republiken", "kingdom", "königreich", "royaume", "reino", "regno", "koninkrijk", "kungariket", "islands",
    "islas", "ilhas", "isole", "îles", "inseln", "eilanden", "emirates", "federation", "principality",
    "darussalam", "territory", "territories",
))
_NAME_LIKE_COUNTRIES = frozenset((
    "jordan", "chad", "georgia", "israel", "india", "kenya", "holland", "england", "ireland", "wales", "france",
    "salvador", "trinidad", "jersey", "guernsey", "man", "victoria", "marshall", "cook", "norfolk", "christmas",
))
_PLACE_PREFIX = re.compile(r"(?:Saint|Sainte|San|Santa|Santo|São|Sankt|St\.?|Ste\.?)[ ]$")
# A company described as one ("Mälzer is a Dutch multinational investment bank"; not "Maria
# is a teller at the bank"), or someone's employer named in one word ("I work for Boyer"; not
# "I work for Maria Lopez"): an organisation named after people.
_ORGANISATION_AFTER = re.compile(
    r"[ ]+(?:is|was)[ ]+(?:a|an|the)[ ]+(?:(?!(?:at|for|in|with|of|from|by|on|to|who|whose)[ ])[\p{L}\-]+[ ]+){0,6}?"
    r"(?:company|bank|firm|corporation|group|agency"
    r"|business|brand|manufacturer|retailer|start-?up|provider|vendor|conglomerate|organi[sz]ation|institution"
    r"|charity|chain|franchise|enterprise|publisher|insurer|consultancy|multinational)\b", re.IGNORECASE)
# A word that makes a group of capitalised words a team's, a department's or a company's
# name ("Acme Billing", "FN:Acme Support Team", "Hi Billing Department,").
ORGANISATION_WORDS = frozenset((
    "team", "support", "sales", "marketing", "engineering", "finance", "hr", "legal", "ops", "devops", "security",
    "billing", "payroll", "procurement", "operations", "accounts", "admin", "group", "department", "dept",
    "office", "desk", "helpdesk", "service", "services", "inc", "ltd", "llc", "gmbh", "corp", "company", "bank",
))
# Job titles and roles written capitalised where a name would stand ("Dear Hiring Manager,",
# "Madam President"): a guess holding one is no name.
ROLE_WORDS = frozenset((
    "manager", "managers", "president", "director", "directors", "chairman", "chairwoman", "chair", "ceo", "cto",
    "cfo", "coo", "cio", "ciso", "vp", "officer", "recruiter", "recruiters", "committee", "board", "hiring",
    "colleague", "colleagues", "customer", "customers", "member", "members", "candidate", "applicant", "sir",
    "madam", "lead", "head", "engineer", "developer", "designer", "analyst", "accountant", "intern",
))
# The last word of a company's name ("James Group", "Rowe PLC", "Becker Holdings").
_ORGANISATION_SUFFIXES = frozenset((
    "group", "inc", "ltd", "llc", "llp", "plc", "gmbh", "ag", "sa", "sas", "srl", "bv", "nv", "ab", "oy", "as",
    "corp", "corporation", "company", "co", "partners", "associates", "holdings", "bank", "consulting",
    "solutions", "systems", "technologies", "labs", "studio", "studios", "agency", "foundation", "institute",
))
_ORGANISATION_BEFORE = re.compile(r"(?i:\b(?:work(?:s|ed|ing)?[ ]+(?:for|at)|employed[ ]+(?:by|at)))[ ]+$")


def not_a_person(text: str, start: int, end: int) -> bool:
    """Whether the words ``text[start:end]``, which the model took for a name, are a status
    word, a heading or label, an identifier, a place or an organisation instead."""
    value = text[start:end]
    plain = value.strip(_PUNCTUATION).lower()
    if plain in NOT_NAMES or plain in SOFTWARE_NAMES:
        return True
    words = [word.strip(_PUNCTUATION) for word in plain.split()]
    if not words or words[0] in _LEADING_VERBS or not _SYSTEM_WORDS.isdisjoint(words):
        return True
    if len(words) > 1 and (words[-1] in _ORGANISATION_SUFFIXES or not ORGANISATION_WORDS.isdisjoint(words)):
        return True
    if not ROLE_WORDS.isdisjoint(words):
        return True
    for word in value.split():
        inner = _INNER_CAPITAL.search(word)
        if inner and word[:inner.start() + 1].strip(_PUNCTUATION).lower() not in _NAME_PREFIXES:
            return True
    folded = " ".join(value.strip(_PUNCTUATION).casefold().split())
    if folded in COUNTRY_NAMES and folded not in _NAME_LIKE_COUNTRIES:
        return True
    if any(w in _STATE_WORDS for w in folded.split()):
        return True
    if _PLACE_PREFIX.search(text, max(0, start - 8), start):
        return True
    return (_ORGANISATION_AFTER.match(text, end, min(len(text), end + 120)) is not None
            or len(words) == 1 and _ORGANISATION_BEFORE.search(text, max(0, start - 24), start) is not None)


# The NER model is English. In a sentence written in another language it takes capitalised
# nouns (German capitalises every noun), the formal "Sie" and sentence-opening verbs for
# names: "Mein Laptop", "Rufen Sie", "Rechnung", "kurze Nachricht". There a guess is kept only
# when it is shaped like a full name: two or more capitalised words, none of them a function
# word of that language, with only name particles ("de", "van", "von") between them. Single
# names in such sentences are left to the conversational patterns (conversation_names.py:
# "Hallo Thomas,", "Herr Becker", "Hola Lucía,"), which read the words around them.
# The languages: those of the national address and phone formats (addresses.py, phones).
# Their function words: spaCy's stop-word lists (data-only modules of spacy.lang, read from
# their files so that importing a language's package, seconds for nine, is not needed).
FOREIGN_LANGUAGES = ("de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb")
# Of a sentence's function words, this many distinct ones of one language, and more than
# its English-only ones, make it a sentence in that language.
MIN_FOREIGN_WORDS = 2
_NAME_PARTICLES = frozenset(("de", "del", "della", "der", "den", "di", "da", "das", "do", "dos", "du", "la", "le",
                             "van", "von", "ten", "ter", "zu", "y", "e", "bin", "ibn", "al", "el", "st"))
_LETTERS = re.compile(r"\p{L}+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
_SENTENCE_REACH = 400


@functools.cache
def _stop_words(lang: str) -> frozenset[str]:
    import importlib.util

    spec = importlib.util.find_spec("spacy")
    assert spec is not None and spec.submodule_search_locations
    path = f"{spec.submodule_search_locations[0]}/lang/{lang}/stop_words.py"
    module_spec = importlib.util.spec_from_file_location(f"_shadowmap_stop_words_{lang}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(word.lower() for word in module.STOP_WORDS)


def english_stop_words() -> frozenset[str]:
    return _stop_words("en")


@functools.cache
def _function_words() -> tuple[frozenset[str], dict[str, tuple[frozenset[str], frozenset[str]]]]:
    """English's, and per other language (its own but not English's, English's but not its)."""
    english = _stop_words("en")
    return english, {lang: (_stop_words(lang) - english, english - _stop_words(lang)) for lang in FOREIGN_LANGUAGES}


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    floor = max(0, start - _SENTENCE_REACH)
    begin = floor
    for match in _SENTENCE_END.finditer(text, floor, start):
        begin = match.end()
    stop = _SENTENCE_END.search(text, end, min(len(text), end + _SENTENCE_REACH))
    return begin, stop.start() if stop else min(len(text), end + _SENTENCE_REACH)


def foreign_language(text: str, start: int, end: int) -> str | None:
    """The language other than English the sentence around ``text[start:end]`` is written
    in, judged by its function words outside that span; None for English or undecided."""
    begin, finish = _sentence_around(text, start, end)
    words = {w.lower() for w in (*_LETTERS.findall(text, begin, start), *_LETTERS.findall(text, end, finish))}
    _english, languages = _function_words()
    best, best_count = None, 0
    for lang, (own, english_only) in languages.items():
        count = len(words & own)
        if count >= MIN_FOREIGN_WORDS and count > len(words & english_only) and count > best_count:
            best, best_count = lang, count
    return best


_WORD_SPAN = re.compile(r"\S+")
_FIRST_LETTER = re.compile(r"\p{L}")
_PUNCTUATION = " .,:;!?()[]{}'\"-"


def _capitalised(text: str, start: int, end: int) -> bool:
    letter = _FIRST_LETTER.search(text, start, end)
    return letter is not None and letter.group().isupper()


def full_name_shape(value: str, lang: str) -> bool:
    """Two or more capitalised words, none a function word of ``lang``, with only name
    particles between them ("Jean de la Fontaine")."""
    words = value.split()
    capitalised = [_capitalised(w, 0, len(w)) for w in words]
    if sum(capitalised) < 2 or not capitalised[0] or not capitalised[-1]:
        return False
    stops = _stop_words(lang)
    return all(w.strip(_PUNCTUATION).lower() not in stops if cap else w.lower() in _NAME_PARTICLES
               for w, cap in zip(words, capitalised, strict=True))


_CELL_GAP = re.compile(r"\t| {2,}|\n")


def name_bounds(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span cut to the words a name can hold: it ends in a capitalised word and starts
    with one or with a particle ("de Gaulle"). The model runs on past a name ("Grace
    Hopper - honestly", "Unter den Linden 77") or takes a sentence's words for one ("mi
    mandi il report", "kun je": None, nothing of a name in them). A name's words are one
    space apart: across a tab, a run of spaces or a line end lie a table's cells
    ("Filesystem      Size", df -h's header) or two lines (None)."""
    if _CELL_GAP.search(text, start, end):
        return None
    words = [m.span() for m in _WORD_SPAN.finditer(text, start, end)]
    while words and not _capitalised(text, *words[-1]):
        words.pop()
    while words and not _capitalised(text, *words[0]) and text[words[0][0]:words[0][1]].lower() not in _NAME_PARTICLES:
        words.pop(0)
    if not words:
        return None
    return words[0][0], words[-1][1]


class NerPersonRecognizer(SpacyRecognizer):
    """spaCy's PERSON entities cut to the words a name can hold (name_bounds), without a
    status word, heading, identifier, place or organisation (not_a_person), and in a
    sentence in another language only those shaped like a full name (FOREIGN_LANGUAGES).
    Keeps SpacyRecognizer's name: recognizer configs refer to it by that."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="SpacyRecognizer")
        _function_words()    # read at load (~2 ms), not on the first paste with a name

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        kept = []
        for result in super().analyze(text, entities, nlp_artifacts):
            bounds = name_bounds(text, result.start, result.end)
            if bounds is None:
                continue
            value = text[bounds[0]:bounds[1]]
            if not_a_person(text, *bounds):
                continue
            lang = foreign_language(text, *bounds)
            if lang is not None and not full_name_shape(value, lang):
                continue
            result.start, result.end = bounds
            kept.append(result)
        return kept
