"""Cards of 12-19 digits in card context, and US bank (ACH) routing and account numbers,
with their near misses: a bad check digit, no card word, a bad ABA checksum."""
import pytest

from shadowmap.detectors.recognizers.payment_numbers import aba_valid, luhn_valid


@pytest.mark.parametrize("text, card", [
    ("The customer's Maestro card 6759 9458 0730 2159 keeps getting declined", "6759 9458 0730 2159"),
    ("JCB card number 3528236405622413, expiry 09/27", "3528236405622413"),
    ("test with card number 4752772040560865697 fails the length check", "4752772040560865697"),   # 19-digit Visa
    ("Maestro card no. 501826212992 was rejected by the terminal.", "501826212992"),              # 12 digits
    ("My credit card 213106675271488 has been lost", "213106675271488"),                           # JCB 15
    ("cc 2252-4460-0092-6283 on my e-mail", "2252-4460-0092-6283"),                                # Mastercard 2-series
    ("I want to cancel my card 060401290402 please", "060401290402"),                             # Maestro's 0604 range
])
def test_cards_in_context(spans, text, card):
    assert spans(text, "CREDIT_CARD") == [card]


@pytest.mark.parametrize("text", [
    "Order 4111 1111 1111 1112 shipped; tracking 1Z999AA10123456784.",   # Luhn-invalid
    "card 4752772040560865698 fails",                                    # 19 digits, bad check digit
    "build 501826212992 passed",                                         # Luhn-valid, no card word
    "card 1111111111111111111",                                          # one digit repeated
    "card 012345678903 on file",                                         # Luhn-valid, starts with 0, not 0604
])
def test_card_near_misses(spans, text):
    assert spans(text, "CREDIT_CARD") == []


def test_ach_routing_and_account(spans):
    text = "Set up the direct deposit: routing number 021000021, account number 483920175621."
    assert spans(text, "ABA_ROUTING_NUMBER") == ["021000021"]
    assert spans(text, "US_BANK_ACCOUNT_NUMBER") == ["483920175621"]


@pytest.mark.parametrize("text", [
    "Reference numbers: routing 123456789, account 55512345 for the bank transfer.",   # bad ABA checksum
    "Routing number 021000022 for the wire.",                                          # one digit off
])
def test_ach_near_misses(spans, text):
    assert spans(text, "ABA_ROUTING_NUMBER") == []
    assert spans(text, "US_BANK_ACCOUNT_NUMBER") == []


def test_account_number_needs_bank_context(spans):
    assert spans("Your account number 48392017 has been updated in the portal.", "US_BANK_ACCOUNT_NUMBER") == []


def test_checksums():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert aba_valid("011000015") and not aba_valid("011000016")
    assert not aba_valid("991000015")     # no Federal Reserve routing prefix 99
