"""Postal addresses across countries' formats, multi-line, PO boxes and military mail,
and the near misses: postcodes and street-looking words that are not an address."""
import pytest

ADDRESSES = [
    ("US", "validate the following 4686 Lowe Turnpike, Sethtown, WI 89390", "4686 Lowe Turnpike, Sethtown, WI 89390"),
    ("US multi-line", "Ship to:\n2029 Robertson Junctions Apt. 406\nTracytown, VI 93855\nThanks",
     "2029 Robertson Junctions Apt. 406\nTracytown, VI 93855"),
    ("UK multi-line", "same: 7 Adam Ridges\nWest Christinechester\nL9 6QS", "7 Adam Ridges\nWest Christinechester\nL9 6QS"),
    ("DE", "sent to Gierschnerweg 914, 91660 Wanzleben?", "Gierschnerweg 914, 91660 Wanzleben"),
    ("FR", "Adresse : 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
    ("ES", "La dirección es Calle Mayor 15, 28013 Madrid.", "Calle Mayor 15, 28013 Madrid"),
    ("IT", "validate the following Via Lercari, 92 Piano 1, 83016, Roccabascerana (AV)",
     "Via Lercari, 92 Piano 1, 83016, Roccabascerana (AV)"),
    ("NL", "Mijn adres is Keizersgracht 123, 1015 CJ Amsterdam.", "Keizersgracht 123, 1015 CJ Amsterdam"),
    ("SE", "Skicka till Drottninggatan 53, 111 21 Stockholm.", "Drottninggatan 53, 111 21 Stockholm"),
    ("NO", "Send the signed copy to Storgata 12, 0155 Oslo, attention Ingrid.", "Storgata 12, 0155 Oslo"),
    ("NO street word apart", "Levering: Karl Johans gate 22\n0159 Oslo", "Karl Johans gate 22\n0159 Oslo"),
    ("NO vei", "Send til Kongens vei 3, 1415 Oppegård", "Kongens vei 3, 1415 Oppegård"),
    ("DK", "Our Copenhagen office moved: Vesterbrogade 24, 1620 København V.", "Vesterbrogade 24, 1620 København V"),
    ("DK floor and side", "Adresse: Nørrebrogade 45, 2. th., 2200 København N", "Nørrebrogade 45, 2. th., 2200 København N"),
    ("DK ground floor", "Adresse: Amagerbrogade 101, st. tv., 2300 København S",
     "Amagerbrogade 101, st. tv., 2300 København S"),
    ("FI", "Toimitusosoite: Mannerheimintie 14 B, 00100 Helsinki", "Mannerheimintie 14 B, 00100 Helsinki"),
    ("FI staircase and flat", "Osoite: Hämeenkatu 7 A 12\n33100 Tampere", "Hämeenkatu 7 A 12\n33100 Tampere"),
    ("FI kuja", "Kauppakuja 3, 90100 Oulu", "Kauppakuja 3, 90100 Oulu"),
    ("CA", "Mail it to 350 Bay Street, Toronto, ON M5H 2S6.", "350 Bay Street, Toronto, ON M5H 2S6"),
    ("AU", "Deliver to 0 Mike Cross\nSmithside, SA, 2614 today", "0 Mike Cross\nSmithside, SA, 2614"),
    ("AU street type", "same: 25 Grimes Glade, Lorishire, VIC, 2467", "25 Grimes Glade, Lorishire, VIC, 2467"),
    ("AU parade", "Ship to 14 Marine Parade\nSt Kilda VIC 3182 please", "14 Marine Parade\nSt Kilda VIC 3182"),
    ("DE ring named after a person", "neue Adresse: Gerta-Etzler-Ring 4152, 55964 Niesky",
     "Gerta-Etzler-Ring 4152, 55964 Niesky"),
    ("JP", "Office: 1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001", "1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001"),
    ("PO box", "Send the invoice to PO Box 1142, Portland, OR 97207 please.", "PO Box 1142, Portland, OR 97207"),
    ("APO", "Mail: PSC 1234, Box 5678\nAPO AA 34001", "Box 5678\nAPO AA 34001"),
    ("FPO", "USNS Brown\nFPO AE 09876", "USNS Brown\nFPO AE 09876"),
]


def _addresses(spans, text: str) -> list[str]:
    # US and UK formats with an English street suffix may come out as STREET_ADDRESS
    # (personal.py), which wins an overlap; either type is an address.
    return spans(text, "POSTAL_ADDRESS") + spans(text, "STREET_ADDRESS")


@pytest.mark.parametrize("country, text, address", ADDRESSES, ids=[a[0] for a in ADDRESSES])
def test_postal_addresses(spans, country, text, address):
    found = _addresses(spans, text)
    assert len(found) == 1 and found[0] in address and len(found[0]) >= len(address) // 2, found


@pytest.mark.parametrize("text", [
    "Processed 12345 Records in 42 ms",
    "Build 7, 12345 Tests passed",
    "Invoice 2024-0042, due 12345 Euros",
    "We shipped 3 Large Boxes, 12345 Units to the DC",
    "The 1015 CJ build flag was set",            # a Dutch postcode shape, no street
    "Room 101\nLondon SW1A 1AA",                  # a postcode, no street line
    "2025-08-11 SEPA transfer 7463 EUR from ES06 Way",   # a date and a word: no Japanese street
    "Boarding at gate 22, 0159 passengers cleared",      # "gate" and a number, a count, no town
    "I like the tie 14, 00100 times over",               # Finnish "tie" in English, no town
    "Varenr. 2200 og 45 stk. leveret",                   # a Danish order line
    "We closed 3 Big Gap tickets, 2614 left",            # a street type, no locality after it
    "the Boxing-Ring 4 rounds, 12345 viewers",           # a ring and numbers, no town
])
def test_address_near_misses(spans, text):
    assert _addresses(spans, text) == []


def test_the_passes_lookaheads_change_no_match():
    """Each pass's leading lookahead only skips positions none of its families can match:
    on every corpus and realistic paste text, the passes find what the bare alternations find."""
    import json
    import re
    from pathlib import Path

    from shadowmap.detectors.recognizers.addresses import _PASSES, LOCALITIES, PASS_FAMILIES
    root = Path(__file__).resolve().parents[2]
    texts = [json.loads(line)["text"] for line in (root / "tests/corpus/corpus.jsonl").open()]
    texts += [json.loads(line)["text"] for line in (root / "bench/eval/pii.jsonl").open()]
    texts.append("Springfield, IL 62704 · London W2 4BH · Toronto, ON M5H 2S6 · Sydney NSW 2000 · 1015 CJ "
                 "Amsterdam · 111 21 Stockholm · 75002 Paris · Badajoz, 42249 · 0150 Oslo · Tokyo 150-0002")
    for (_lead, names), fast in zip(PASS_FAMILIES, _PASSES, strict=True):
        bare = re.compile("|".join(f"(?P<{name}>{LOCALITIES[name]})" for name in names))
        for text in texts:
            assert [(m.span(), m.lastgroup) for m in fast.finditer(text)] == \
                   [(m.span(), m.lastgroup) for m in bare.finditer(text)], text[:200]
