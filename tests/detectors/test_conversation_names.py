"""Names in conversation: addressed, greeted, signed, related, introduced, titled; and the
words that stand where a name would but are not one."""
import pytest


@pytest.mark.parametrize("text, name", [
    ("Lucrezia, can I please speak to your boss?", "Lucrezia"),
    ("Hi Siobhan, thanks for the quick reply yesterday.", "Siobhan"),
    ("Thanks so much for your help!\n\nCheers,\nBartholomew", "Bartholomew"),
    ("I would like to remove my kid Marine from the will.", "Marine"),
    ("What's your last name? Bishop", "Bishop"),
    ("Please have the manager call me, I'd like to join accounts with ms. Renée", "Renée"),
    ("I want to add Nicola Palmer as a beneficiary to my account", "Nicola Palmer"),
])
def test_names_in_conversation(spans, text, name):
    assert name in spans(text, "PERSON")


@pytest.mark.parametrize("text", [
    "Hi team, the build is green again.",
    "Yes, can you check the logs?",
    "Thanks,\nThe Team",
    "Thanks all, see you Monday.",
])
def test_name_near_misses(spans, text):
    assert spans(text, "PERSON") == []
