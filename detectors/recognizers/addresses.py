"""Postal addresses in the formats of many countries, on one line or several: the
locality part (a postcode in its country's shape, with its town or state) anchors the
match, and a street line with a house number (or a street-type word) within the three
lines or comma-separated parts before it makes it an address. Also PO boxes and US
military (APO / FPO / DPO) addresses.

A postcode alone is not an address (invoice numbers have five digits too), nor is a street
name alone; the two together are. US and UK addresses with an English street suffix are
also StreetAddressRecognizer's (personal.py); where both match, the overlap keeps one.
"""
from __future__ import annotations

import re as stdlib_re

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import cases

_UP = r"[A-ZÀ-ÖØ-Þ]"
_TOWN = rf"{_UP}[\w'’.\-]+(?:[ \-](?:{_UP}|(?:les|le|la|de|di|del|sur|am|an|der|aan|den|op)\b)[\w'’.\-]*){{0,4}}"
# The locality part of each family of formats: postcode and town, in their order.
LOCALITIES = {
    # US: "Springfield, IL 62704"; military: "APO AE 09012"
    "us": r"(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ]\d{5}(?!\d)|[A-Z]{2},?[ ]\d{5}(?:-\d{4})?(?!\d)",
    # UK: "London W2 4BH" or the postcode on its own line
    "uk": r"[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}(?![\w])",
    # Canada: "Toronto, ON M5H 2S6"
    "ca": r"(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)[ ,]{1,2}[A-Z]\d[A-Z][ ]?\d[A-Z]\d(?![\w])",
    # Australia: "Sydney NSW 2000", "Smithside, SA, 2614"
    "au": r"(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT),?[ ]\d{4}(?!\d)",
    # Netherlands: "1015 CJ Amsterdam"
    "nl": rf"\d{{4}}[ ]?[A-Z]{{2}}(?![\w])(?:,?[ \n]{_TOWN})?",
    # Sweden: "111 21 Stockholm"
    "se": rf"\d{{3}}[ ]\d{{2}}[ ]{_TOWN}",
    # Five-digit postcode then town (DE, FR, ES, IT, FI), with Italy's "(RM)" or " RM"
    "postcode_town": rf"\d{{5}},?[ ]{_TOWN}(?:[ ]\(?[A-Z]{{2}}\)?(?![\w]))?",
    # Town then five-digit postcode (Spain as Faker writes it: "Badajoz, 42249"); the town
    # is a part before it, like the street.
    "town_postcode": r",[ ]\d{5}(?![\w\-.])",
    # Four-digit postcode then town (NO, DK, AT, CH, BE)
    "postcode4_town": rf"\d{{4}}[ ]{_TOWN}",
    # Japan, romanised: "Shibuya-ku, Tokyo 150-0002" (the prefecture or ward before the
    # postcode; "123-4567" alone is a phone or an order number)
    "jp": r"\d{3}-\d{4}(?![\w\-])",
}
# Three passes, each over families that start alike (a capital, a digit, ", "): the
# standard library's engine skips ahead to a pattern's possible first characters, which
# an alternation of unlike starts or a leading lookbehind would prevent; the boundary
# before a match and Japan's ward or prefecture are checked on the few matches instead.
# Each pass opens with a lookahead its families all satisfy (two capitals or a capital and
# a digit; three digits then a digit, space or dash), so most positions (a capital before
# a lower-case letter, a short digit run) are rejected after two to four characters rather
# than by every family in turn: a megabyte of a customer table, 0.36 -> 0.08 s of CPU.
PASS_FAMILIES = (
    (r"(?=[A-Z][A-Z\d])", ("us", "uk", "ca", "au")),
    (r"(?=\d\d\d[\d \-])", ("se", "postcode_town", "nl", "postcode4_town", "jp")),
    ("", ("town_postcode",)),
)
_PASSES = tuple(stdlib_re.compile(lead + "(?:" + "|".join(f"(?P<{name}>{LOCALITIES[name]})" for name in names) + ")")
                for lead, names in PASS_FAMILIES)
_JP_BEFORE = stdlib_re.compile(r"(?:〒[ ]?|(?:Tokyo|Osaka|Kyoto|Hokkaido|Japan|-ku|-shi|-ken|-cho|-machi|-gun)[ ,]{1,3})$")
_POSTCODE_TOWN = stdlib_re.compile(LOCALITIES["postcode_town"])

_STREET_WORDS = (
    "rue|avenue|av\\.|boulevard|bd|chemin|allée|impasse|place|route|quai|cours|passage|square|voie"
    "|calle|c/|avenida|avda\\.?|plaza|paseo|ronda|vial|cañada|alameda|pasaje|camino|carretera|callejón|travesía"
    "|rambla|urbanización|glorieta|cuesta|via|viale|piazza|piazzale|strada|canale|contrada|borgo|vicolo|largo"
    "|corso|lungomare|rotonda|stretto|incrocio|vico"
)
_STREET_SUFFIX = ("straße|strasse|str\\.|weg|allee|platz|ring|damm|gasse|ufer|laan|straat|gracht|dreef|plein|kade|singel"
                  "|dijk|hof|markt|pad|steeg|baan|wal|gatan|vägen|gata|gate|gränd|stigen|allén|vej|gade|katu|tie|veien"
                  "|torget|backen|plass|vei|vegen|plads|torv|stræde|kuja|polku|tori|väylä|raitti")
_COMPOUND_KEYWORDS = ("straße", "Straße", "strasse", "Strasse", "str.", "weg", "Weg", "allee", "Allee", "platz", "Platz",
                      "gasse", "ufer", "laan", "straat", "gracht", "dreef", "plein", "kade", "singel", "dijk", "markt",
                      "steeg", "baan", "gatan", "vägen", "gata", "gränd", "stigen", "vej", "gade", "katu", "veien",
                      "torget", "backen",
                      # a ring road named after a person: "Gerta-Etzler-Ring 4152" ("ring" alone is in prose)
                      "-Ring ",
                      # Norway's "Karl Johans gate 22" and Finland's "Mannerheimintie 14": the common
                      # words only before a house number's space.
                      "gate ", "tie ", "vei ", "vegen", "plass", "plads", "torv", "stræde", "kuja", "polku", "väylä")
# Street words written apart from the name in Norway and Denmark ("Karl Johans gate 22",
# "Thorvald Meyers gate 5B", "Kongens vei 3").
_SPACED_SUFFIX = "gate|gata|vei|veien|vegen|plass|plads|allé|torv|gade|vej"
_CONNECTOR = r"(?:de|del|la|las|los|di|da|van|der|den|le|du|des|am|an)"
# English street suffixes (USPS Publication 28, appendix C1, and British usage): a number
# and capitalised words are a street only when the last word is one ("3 Large Boxes" is not).
_EN_SUFFIX = (
    "alley|annex|arcade|avenue|ave|bayou|beach|bend|bluffs?|bottom|boulevard|blvd|branch|bridge|brooks?|burgs?|bypass"
    "|camp|canyon|cape|causeway|centers?|centre|circles?|cir|cliffs?|close|club|commons?|corners?|course|courts?|ct"
    "|coves?|creek|crescent|crest|crossing|crossroad|cross|curve|dale|dam|divide|drives?|dr|estates?|expressway"
    "|extensions?|falls?|ferry|fields?|flats?|fords?|forest|forges?|forks?|fort|freeway|gardens?|gateway|glens?"
    "|greens?|groves?|harbors?|haven|heights|highway|hwy|hills?|hollow|inlet|islands?|isle|junctions?|keys?"
    "|knolls?|lakes?|land|landing|lane|ln|lights?|loaf|locks?|lodge|loop|mall|manors?|meadows?|mews|mills?|mission"
    "|motorway|mount|mountains?|neck|orchard|oval|overpass|parks?|parkways?|pkwy|pass|passage|path|pike|pines?"
    "|place|pl|plains?|plaza|points?|ports?|prairie|radial|ramp|ranch|rapids?|rest|ridges?|rise|river|roads?|rd"
    "|route|row|run|shoals?|shores?|skyway|springs?|spurs?|squares?|sq|station|stravenue|stream|streets?|st"
    "|summit|terrace|ter|throughway|trace|track|trafficway|trail|trailer|tunnel|turnpike|underpass|unions?"
    "|valleys?|viaduct|views?|villages?|ville|vista|walks?|wall|ways?|wells?|wharf|wynd"
    # Australian street types (Australia Post's addressing guidelines, after AS 4590) that the
    # lists above lack: "25 Grimes Glade", "1 Ortiz Gap", "9 Stuart Brae".
    "|boardwalk|boulevarde|brae|chase|circuit|circus|concourse|copse|dell|esplanade|fairway|gap|glade|grange|gully"
    "|laneway|link|lookout|meander|nook|outlook|parade|pathway|promenade|quadrant|quays|ramble|reach|retreat"
    "|round|strand|walkway"
)
# A street line: a house number then capitalised words ("4686 Lowe Turnpike", "7 Adam
# Ridges"), a number then a street-type word ("4, rue de Maurice"), a street-type word
# first ("Calle Mayor 15", "Via Lercari", "rue Édouard Bourgeois"), a name with a street
# suffix then its number ("Hauptstraße 12", "Keizersgracht 123", "Drottninggatan 53"), or
# capitalised words and a street word apart ("Karl Johans gate 22"),
# or a unit line ("Flat 61w", "Apt. 406", "PSC 1234", "USNS Brown").
_STREET_LINE = re.compile(
    rf"(?<![\w.,:/\-])\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}}){{0,2}},?[ ](?:(?i:{_STREET_WORDS})\b"
    rf"|(?:(?:{_UP}[\w'’.\-]*|\d{{1,3}}(?:st|nd|rd|th))[ ]){{1,4}}(?i:{_EN_SUFFIX})\b)"
    rf"|(?<![\w])(?i:{_STREET_WORDS})[ ](?:{_CONNECTOR}[ ])*{_UP}"
    rf"|(?<![\w])(?:{_UP}[\w'’.\-]*[ ]){{1,3}}(?i:{_SPACED_SUFFIX})[ ]\d{{1,5}}[A-Za-z]?(?![\w])"
    rf"|(?<![\w])(?:{_UP}[\w'’.\-]*)?(?i:{_STREET_SUFFIX})[ ]\d{{1,5}}[A-Za-z]?(?![\w])"
    r"|(?<![\w])(?:Flat|Apt\.?|Apartment|Studio|Unit|Suite|PSC|USNS|USS|USCGC)[ ]\w+"
)
# Japan's chome-ban-go ("1-2-3 Jingumae"): a street line only before a Japanese postcode
# ("2025-08-11 SEPA" is a date and a word).
_JP_STREET_LINE = re.compile(rf"(?<![\w\-])\d{{1,3}}-\d{{1,4}}(?:-\d{{1,4}})?,?[ ]{_UP}")
_HOUSE_NUMBER_PART = re.compile(r"^[ \t]*\d{1,5}[A-Za-z]?[ \t]*$")
_TYPE_FIRST_PART = re.compile(rf"^[ \t]*(?i:{_STREET_WORDS})[ ]")
_PO_BOX = re.compile(
    r"(?<![\w])(?:P\.?[ ]?O\.?[ ]?Box|Post Office Box|Postfach|Apartado(?: de Correos)?|Casella Postale|Postbus"
    r"|Boîte Postale|Box)[ ]\d{1,6}(?![\w])")
# How far back a street line may be: three parts (line breaks or ", ") within this many characters.
MAX_PARTS_BACK = 3
MAX_CHARS_BACK = 160
_PART_BREAK = re.compile(r"\n|,[ ]")
# A part between the street and the locality is a town or a unit, not a sentence.
# A Danish floor ("2. th.", "st. tv.") is an ordinal's dot, not a sentence's end.
_SENTENCE = re.compile(r"(?<!\b\p{Lu}\p{Ll}{0,2})(?<![\d]|\bst|\bth|\btv|\bmf)[.!?][ ]|\b(?:is|are|was|the|and|to|for|please)\b",
                       re.IGNORECASE)
MAX_PART_CHARS = 60


class PostalAddressRecognizer(SecretRecognizer):
    entity_type = "POSTAL_ADDRESS"
    data_class = "pii"
    reason = "Postal address"
    # find() below reads the locality families itself; the registry requires a declared pattern.
    patterns = ((LOCALITIES["uk"], 0.9),)
    # Below StreetAddressRecognizer's 0.95: where both match (US and UK formats), the
    # finding stays a STREET_ADDRESS as before.
    score = 0.9
    # An address needs a street line, and every street line holds one of these words (a
    # street type or suffix, a unit, a PO box, a Japanese ward): the postcode passes run
    # only near them, from a little before (the line's start) to the reach of the look back.
    # Short or common fragments ("st", "ring", "pad") would put a window everywhere: the
    # English suffixes count capitalised ("Street", "St"), the compound suffixes only where
    # they are specific.
    keywords = (*cases(*_STREET_WORDS.replace("\\", "").split("|")), *_COMPOUND_KEYWORDS,
                *(v for w in _EN_SUFFIX.replace("s?", "").split("|") for v in (w.capitalize(), w.upper())),
                "Flat", "Apt", "Apartment", "Studio", "Unit", "Suite", "PSC", "USNS", "USS", "USCGC", "Box", "BOX",
                "Postfach", "Apartado", "Casella", "Postbus", "Boîte", "-ku", "-shi", "-ken", "-cho", "Tokyo", "Osaka",
                "Kyoto", "〒")
    reach_before = 16
    reach_after = MAX_CHARS_BACK + 64

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        windows = self.windows(text, near)
        matches = sorted((match for start, end in windows for pattern in _PASSES
                          for match in pattern.finditer(text, start, end)), key=lambda m: m.start())
        found: list[tuple[int, int, float]] = []
        for match in matches:
            family = match.lastgroup or ""
            at = match.start()
            if family == "town_postcode":
                # ", 42249" after a town's last letter: the postcode itself is the match.
                if not at or not text[at - 1].isalpha():
                    continue
                at += 2
            elif family == "jp" and not _JP_BEFORE.search(text, max(0, at - 24), at):
                continue
            if found and at < found[-1][1]:
                continue    # inside the address just found (a UK postcode in "London W2 4BH")
            # Not inside a longer token: checked here, not by a lookbehind, which would keep
            # the regex engine from skipping ahead to the pattern's first character.
            elif at and (text[at - 1].isalnum() or text[at - 1] in "_-./"):
                continue
            start = self._street_start(text, at, family)
            if start is None:
                continue
            end = match.end()
            if family == "town_postcode":
                # "Paix, 75002 Paris": the town after the postcode belongs to it too.
                after = _POSTCODE_TOWN.match(text, at)
                end = after.end() if after else end
            end = start + len(text[start:end].rstrip(".,;: "))
            found.append((start, end, self.score))
        return found

    def _street_start(self, text: str, at: int, family: str) -> int | None:
        """Where the street line before ``at`` starts, if one is within reach."""
        floor = max(0, at - MAX_CHARS_BACK)
        before = text[floor:at]
        boxes = list(_PO_BOX.finditer(before))
        box = boxes[-1] if boxes else None
        if box is not None and not _SENTENCE.search(before[box.end():]):
            return floor + box.start()
        cuts = [m.end() for m in _PART_BREAK.finditer(before)]
        # The part the locality starts in, then up to MAX_PARTS_BACK before it.
        bounds = [0, *cuts, len(before)]
        parts = list(zip(bounds, bounds[1:], strict=False))[::-1]
        # "Badajoz, 42249": the part before the postcode is the town, the street before that.
        first_street_part = 2 if family == "town_postcode" else 0
        for index, (part_start, part_end) in enumerate(parts[:MAX_PARTS_BACK + 1]):
            part = before[part_start:part_end]
            street_line = _JP_STREET_LINE if family == "jp" else _STREET_LINE
            streets = list(street_line.finditer(part)) if index >= first_street_part else []
            if streets:
                street_start = part_start + streets[0].start()
                # "Via Lercari, 92 ..." and "4, rue de Maurice, ...": the part before holds
                # the street's name or its house number.
                if index + 1 < len(parts):
                    previous = before[parts[index + 1][0]:parts[index + 1][1]]
                    if _HOUSE_NUMBER_PART.match(previous.rstrip(", ")) or _TYPE_FIRST_PART.match(previous):
                        street_start = parts[index + 1][0] + len(previous) - len(previous.lstrip())
                return floor + street_start
            if index and (len(part.strip(" ,\n")) > MAX_PART_CHARS or _SENTENCE.search(part)):
                return None
        return None
        return None
