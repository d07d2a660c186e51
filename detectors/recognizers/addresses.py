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

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer

_UP = r"[A-ZÀ-ÖØ-Þ]"
_TOWN = rf"{_UP}[\w'’.\-]+(?:[ \-](?:{_UP}|(?:les|le|la|de|di|del|sur|am|an|der|aan|den|op)\b)[\w'’.\-]*){{0,4}}"
# The locality part of each family of formats: postcode and town, in their order.
LOCALITIES = {
    # US: "Springfield, IL 62704"; military: "APO AE 09012"
    "us": rf"(?<![\w])(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ]\d{{5}}(?!\d)|{_TOWN},?[ ][A-Z]{{2}},?[ ]\d{{5}}(?:-\d{{4}})?(?!\d)",
    # UK: "London W2 4BH" or the postcode on its own line
    "uk": r"(?<![\w])[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}(?![\w])",
    # Canada: "Toronto, ON M5H 2S6"
    "ca": r"(?<![\w])(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)[ ,]{1,2}[A-Z]\d[A-Z][ ]?\d[A-Z]\d(?![\w])",
    # Australia: "Sydney NSW 2000", "Smithside, SA, 2614"
    "au": r"(?<![\w])(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT),?[ ]\d{4}(?!\d)",
    # Netherlands: "1015 CJ Amsterdam"
    "nl": rf"(?<![\w])\d{{4}}[ ]?[A-Z]{{2}}(?![\w])(?:,?[ \n]{_TOWN})?",
    # Sweden: "111 21 Stockholm"
    "se": rf"(?<![\w])\d{{3}}[ ]\d{{2}}[ ]{_TOWN}",
    # Five-digit postcode then town (DE, FR, ES, IT, FI), with Italy's "(RM)" or " RM"
    "postcode_town": rf"(?<![\w\-.])\d{{5}},?[ ]{_TOWN}(?:[ ]\(?[A-Z]{{2}}\)?(?![\w]))?",
    # Town then five-digit postcode (Faker's Spain: "Badajoz, 42249")
    "town_postcode": rf"{_TOWN},[ ]\d{{5}}(?![\w\-])",
    # Four-digit postcode then town (NO, DK, AT, CH, BE)
    "postcode4_town": rf"(?<![\w\-.])\d{{4}}[ ]{_TOWN}",
    # Japan, romanised: "Shibuya-ku, Tokyo 150-0002"
    "jp": r"(?<![\w])(?:〒[ ]?)?\d{3}-\d{4}(?![\w\-])",
}
_LOCALITY = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in LOCALITIES.items()))
_POSTCODE_TOWN = re.compile(LOCALITIES["postcode_town"])

_STREET_WORDS = (
    "rue|avenue|av\\.|boulevard|bd|chemin|allée|impasse|place|route|quai|cours|passage|square|voie"
    "|calle|c/|avenida|avda\\.?|plaza|paseo|ronda|vial|cañada|alameda|pasaje|camino|carretera|callejón|travesía"
    "|rambla|urbanización|glorieta|cuesta|via|viale|piazza|piazzale|strada|canale|contrada|borgo|vicolo|largo"
    "|corso|lungomare|rotonda|stretto|incrocio|vico"
)
_STREET_SUFFIX = ("straße|strasse|str\\.|weg|allee|platz|ring|damm|gasse|ufer|laan|straat|gracht|dreef|plein|kade|singel"
                  "|dijk|hof|markt|pad|steeg|baan|wal|gatan|vägen|gata|gate|gränd|stigen|allén|vej|gade|katu|tie|veien"
                  "|torget|backen")
_CONNECTOR = r"(?:de|del|la|las|los|di|da|van|der|den|le|du|des|am|an)"
# A street line: a house number then capitalised words ("4686 Lowe Turnpike", "7 Adam
# Ridges"), a number then a street-type word ("4, rue de Maurice"), a street-type word
# first ("Calle Mayor 15", "Via Lercari", "rue Édouard Bourgeois"), a name with a street
# suffix then its number ("Hauptstraße 12", "Keizersgracht 123", "Drottninggatan 53"),
# or a unit line ("Flat 61w", "Apt. 406", "PSC 1234", "USNS Brown").
_STREET_LINE = re.compile(
    rf"(?<![\w.,:/\-])\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}}){{0,2}},?[ ](?:(?i:{_STREET_WORDS})\b"
    rf"|{_UP}[\w'’.\-]+[ ]{_UP}[\w'’.\-]+|\d{{1,3}}(?:st|nd|rd|th)[ ]{_UP})"
    rf"|(?<![\w])(?i:{_STREET_WORDS})[ ](?:{_CONNECTOR}[ ])*{_UP}"
    rf"|(?<![\w])(?:{_UP}[\w'’.\-]*)?(?i:{_STREET_SUFFIX})[ ]\d{{1,5}}[A-Za-z]?(?![\w])"
    r"|(?<![\w])(?:Flat|Apt\.?|Apartment|Studio|Unit|Suite|PSC|USNS|USS|USCGC)[ ]\w+"
    # Japan's chome-ban-go: "1-2-3 Jingumae"
    rf"|(?<![\w\-])\d{{1,4}}-\d{{1,4}}(?:-\d{{1,4}})?,?[ ]{_UP}"
)
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
_SENTENCE = re.compile(r"(?<!\b\p{Lu}\p{Ll}{0,2})[.!?][ ]|\b(?:is|are|was|the|and|to|for|please)\b", re.IGNORECASE)
MAX_PART_CHARS = 60


class PostalAddressRecognizer(SecretRecognizer):
    entity_type = "POSTAL_ADDRESS"
    data_class = "pii"
    reason = "Postal address"
    patterns = ((_LOCALITY.pattern, 0.9),)
    # Below StreetAddressRecognizer's 0.95: where both match (US and UK formats), the
    # finding stays a STREET_ADDRESS as before.
    score = 0.9
    # No keyword is common to every format: the locality regex runs on the whole text
    # (one C-speed pass; each of its alternatives starts with a digit or a capital).
    keywords = ()

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match in _LOCALITY.finditer(text):
            start = self._street_start(text, match.start(), match.lastgroup or "")
            if start is None:
                continue
            end = match.end()
            if match.lastgroup == "town_postcode":
                # "Paix, 75002 Paris": the town after the postcode belongs to it too.
                postcode_at = end - 5
                after = _POSTCODE_TOWN.match(text, postcode_at)
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
        for index, (part_start, part_end) in enumerate(parts[:MAX_PARTS_BACK + 1]):
            part = before[part_start:part_end]
            streets = list(_STREET_LINE.finditer(part))
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
