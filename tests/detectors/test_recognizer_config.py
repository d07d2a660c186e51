"""The recognizer configuration file: a built-in recognizer switched off, its score set,
its context words replaced, each shown on a real engine against the default one; and the
file's validation."""
import pytest

from shadowmap.detectors.engine import DetectorSettings, ScanEngine
from shadowmap.detectors.recognizer_config import RecognizerConfigError, load_recognizer_config

CONFIG = """
recognizers:
  - name: CreditCardRecognizer          # Presidio's own, by its name
    type: predefined
    enabled: false
  - entity: EMAIL_ADDRESS
    score: 0.3                           # below the engine's threshold (0.5)
  - entity: ABA_ROUTING_NUMBER
    score: 0.4                           # below the threshold unless a context word lifts it
    context: [routing]
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory) -> ScanEngine:
    path = tmp_path_factory.mktemp("config") / "recognizers.yaml"
    path.write_text(CONFIG)
    return ScanEngine(DetectorSettings(recognizer_config=str(path)))


def _types(engine: ScanEngine, text: str) -> dict[str, float]:
    return {f.entity_type: f.score for f in engine.scan(text)}


def test_a_recognizer_switched_off(engine, tuned):
    text = "ref 4111111111111111 settled"        # no card word: only Presidio's recognizer finds it
    assert "CREDIT_CARD" in _types(engine, text)
    assert "CREDIT_CARD" not in _types(tuned, text)


def test_a_score_set(engine, tuned):
    text = "write to jane.roe@acme.io today"
    assert _types(engine, text)["EMAIL_ADDRESS"] == 1.0
    assert "EMAIL_ADDRESS" not in _types(tuned, text)


def test_context_words_replaced(engine, tuned):
    with_word, without = "routing number 021000021", "ABA 021000021"
    assert "ABA_ROUTING_NUMBER" in _types(engine, with_word) and "ABA_ROUTING_NUMBER" in _types(engine, without)
    assert _types(tuned, with_word)["ABA_ROUTING_NUMBER"] >= 0.5     # 0.4, lifted by "routing"
    assert "ABA_ROUTING_NUMBER" not in _types(tuned, without)         # 0.4, no context word


@pytest.mark.parametrize("text, message", [
    ("recognizers:\n  - name: X\n    colour: red\n", "unknown keys"),
    ("recognizers:\n  - name: X\n    score: 1.5\n", "score"),
    ("recognizers:\n  - name: X\n    enabled: maybe\n", "enabled"),
    ("recognizers:\n  - name: X\n    context: routing\n", "context"),
    ("recognizers:\n  - enabled: false\n", "name or an entity"),
    ("recognizers:\n  - name: X\n    type: custom\n", "predefined"),
    ("recogniser:\n  - name: X\n", "unknown keys"),
])
def test_invalid_files_are_refused(tmp_path, text, message):
    path = tmp_path / "recognizers.yaml"
    path.write_text(text)
    with pytest.raises(RecognizerConfigError, match=message):
        load_recognizer_config(path)


def test_an_entry_selecting_no_recognizer_is_refused(tmp_path):
    path = tmp_path / "recognizers.yaml"
    path.write_text("recognizers:\n  - name: NoSuchRecognizer\n    enabled: false\n")
    with pytest.raises(RecognizerConfigError, match="NoSuchRecognizer"):
        ScanEngine(DetectorSettings(recognizer_config=str(path)))
