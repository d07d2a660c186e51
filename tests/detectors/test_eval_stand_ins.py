"""The evaluation's stand-in count (bench/eval/evaluate.py STAND_IN): what it calls a published
stand-in, and what it must not (a Kubernetes manifest's kind, a real value near the word)."""
import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench/eval/evaluate.py"
_spec = importlib.util.spec_from_file_location("eval_evaluate", _PATH)
assert _spec and _spec.loader
evaluate = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = evaluate  # its dataclasses look their module up
_spec.loader.exec_module(evaluate)


@pytest.mark.parametrize("text", [
    "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AKIAIOSFODNN7EXAMPLE", "token = abcdef0123456789abcdef",
    'password = "password"', "Pwd=mypassword;", "https://user:password@example.com", '"secret": "secret"',
])
def test_published_stand_ins_are_counted(text):
    assert evaluate.STAND_IN.search(text)


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Secret\ndata:\n  password: UyFCXCpkJHpEc2I9",
    "kind: 'Secret'", "type: secret", "password = 'S!B*d$zDsb='", "Example Corp", "xxxxx",
])
def test_other_values_are_not(text):
    assert not evaluate.STAND_IN.search(text)
