"""Valid-looking sensitive values for the corpus, made from a seeded Random.

Every value passes the check a real one would (Luhn, IBAN mod 97, phonenumbers validity,
SSN ranges), so a detector that validates is not punished by a bad test value. Nothing
here is a real credential: keys and tokens are random characters in the vendor's format.
"""
from __future__ import annotations

import base64
import datetime
import random
import string
import zlib

import phonenumbers

ALNUM = string.ascii_letters + string.digits
# Fixed dates: Faker's "this year" would make the corpus depend on the day it is built.
YEAR_START, YEAR_END = datetime.datetime(2025, 1, 1), datetime.datetime(2025, 12, 31, 23, 59)
HIRED_FROM = datetime.date(2017, 1, 1)
B32 = string.ascii_uppercase + "234567"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "visa", "mc", "amex"])
    if kind == "amex":
        number = luhn_complete(rng.choice(["34", "37"]), 15, rng)
        groups = [number[:4], number[4:10], number[10:]]
    else:
        prefix = "4" if kind == "visa" else rng.choice(["51", "52", "53", "54", "55"])
        number = luhn_complete(prefix, 16, rng)
        groups = [number[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice([" ", "-", ""]).join(groups)


_IBAN_FORMATS = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20, "IT": 23}


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_FORMATS))
    if country == "GB":
        bban = rng.choice(["NWBK", "BARC", "HBUK", "LOYD"]) + "".join(rng.choice(string.digits) for _ in range(14))
    elif country == "NL":
        bban = rng.choice(["ABNA", "INGB", "RABO"]) + "".join(rng.choice(string.digits) for _ in range(10))
    elif country == "IT":
        bban = rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(22))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(_IBAN_FORMATS[country]))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return compact


_PHONE_PLANS = [
    ("US", "+1", ["212", "415", "646", "312", "617", "206", "303", "512", "404", "718"]),
    ("GB", "+44", ["20 7", "20 3", "161 4", "131 4", "7700 9", "7911 1"]),
]


def phone(rng: random.Random) -> str:
    """A valid number, written the way people write it (phonenumbers' own layouts)."""
    while True:
        region, _cc, areas = rng.choice(_PHONE_PLANS)
        area = rng.choice(areas).replace(" ", "")
        if region == "US":
            national = f"{area}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
        else:
            national = area + "".join(rng.choice(string.digits) for _ in range(10 - len(area)))
        parsed = phonenumbers.parse(national, region)
        if not phonenumbers.is_valid_number(parsed):
            continue
        layout = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL])
        text = phonenumbers.format_number(parsed, layout)
        if region == "US" and rng.random() < 0.4:
            text = rng.choice([f"{national[:3]}-{national[3:6]}-{national[6:]}", f"{national[:3]}.{national[3:6]}.{national[6:]}"])
        return text


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        group, serial = rng.randint(1, 99), rng.randint(1, 9999)
        value = f"{area:03d}-{group:02d}-{serial:04d}"
        if len(set(value.replace("-", ""))) > 3:
            return value


def nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        second = "A"
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{first}{second}{digits}{suffix}"


def ipv4(rng: random.Random, private: bool | None = None) -> str:
    if private is None:
        private = rng.random() < 0.5
    if private:
        return rng.choice([f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
                           f"192.168.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
                           f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"])
    return f"{rng.choice([23, 34, 52, 81, 91, 104, 145, 185, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"


def rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# Secrets in their vendors' published formats: (entity label for the corpus, maker).
def aws_key(rng):
    return rng.choice(["AKIA", "ASIA"]) + rand(rng, 16, B32)


def _base62_crc32(data: str) -> str:
    n, digits = zlib.crc32(data.encode("ascii")), []
    for _ in range(6):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return "".join(reversed(digits))


def github_token(rng):
    # 30 random characters + their CRC32 in base62, as GitHub issues them.
    body = rand(rng, 30)
    return rng.choice(["ghp_", "gho_", "ghs_"]) + body + _base62_crc32(body)


def openai_key(rng):
    return "sk-proj-" + rand(rng, 48, ALNUM + "_-") + "T3BlbkFJ" + rand(rng, 48, ALNUM + "_-")


def anthropic_key(rng):
    return "sk-ant-api03-" + rand(rng, 93, ALNUM + "_-") + "AA"


def slack_token(rng):
    return f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**12, 10**13)}-{rand(rng, 24)}"


def stripe_key(rng):
    return rng.choice(["sk_live_", "rk_live_"]) + rand(rng, 24)


def google_api_key(rng):
    return "AIza" + rand(rng, 35, ALNUM + "_-")


def jwt(rng):
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(
        f'{{"sub":"{rng.randint(1000, 99999)}","iat":{rng.randint(1600000000, 1700000000)}}}'.encode()
    ).rstrip(b"=").decode()
    return f"{header}.{payload}.{rand(rng, 43, ALNUM + '_-')}"


def private_key(rng):
    body = "\n".join(rand(rng, 64, ALNUM + "+/") for _ in range(rng.randint(6, 12)))
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


SECRET_MAKERS = {
    "AWS_ACCESS_KEY": aws_key, "GITHUB_TOKEN": github_token, "OPENAI_API_KEY": openai_key,
    "ANTHROPIC_API_KEY": anthropic_key, "SLACK_TOKEN": slack_token, "STRIPE_SECRET_KEY": stripe_key,
    "GOOGLE_API_KEY": google_api_key, "JWT": jwt, "PRIVATE_KEY": private_key,
}


def password(rng: random.Random) -> str:
    return rand(rng, rng.randint(4, 6), string.ascii_letters) + rng.choice("!#%&*") + rand(rng, rng.randint(6, 10))


# Plain business English (Faker's default text is lorem ipsum, which no one pastes).
SENTENCES = [
    "The customer says the invoice was sent to the wrong address.",
    "We promised a call back before the end of the week.",
    "Please keep the tone friendly but firm about the refund policy.",
    "The order arrived damaged and the replacement is still pending.",
    "They have been with us since the first pilot and renewed twice.",
    "Legal asked us to confirm the retention period before we reply.",
    "The escalation came in through the support inbox on Monday morning.",
    "Finance needs the updated figures before the quarterly review.",
    "Nobody on the team could reproduce the login problem on staging.",
    "I think the duplicate charge came from the retry logic in checkout.",
    "The onboarding checklist still mentions the old billing portal.",
    "Our contract renewal is due next month and pricing is on the table.",
    "Shipping was delayed because the warehouse changed carriers.",
    "The survey results were mostly positive apart from response times.",
    "Could you make this sound less defensive and more helpful?",
    "The account was downgraded after the trial expired without notice.",
    "We should offer a partial credit rather than a full refund.",
    "Marketing wants a short summary they can reuse in the newsletter.",
    "The meeting notes are attached below, sorry they are a bit rough.",
    "Security flagged the request because it came from a new device.",
    "Performance was solid this year, with a few missed deadlines in spring.",
    "Communication with other teams improved after the reorganisation.",
    "The new hire needs access to the reporting dashboard by Friday.",
    "Please double check the totals before this goes to the auditors.",
]


def sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES)


def paragraph(rng: random.Random, n: int = 3) -> str:
    return " ".join(rng.sample(SENTENCES, n))


# Street suffixes in about the proportions addresses use them; now and then one of the
# rarer USPS suffixes (Faker's list) so a detector's gaps show.
COMMON_SUFFIXES = ["Street", "Street", "Avenue", "Road", "Road", "Lane", "Drive", "Court", "Way", "Place",
                   "Boulevard", "Close", "Crescent", "Terrace", "St", "Ave", "Rd", "Dr"]
US_STATES = ["CA", "NY", "TX", "IL", "WA", "MA", "GA", "CO", "OR", "FL"]


def street_address(fake, rng: random.Random) -> str:
    """A US or UK postal address on one line: number, street, town, ZIP or postcode."""
    suffix = rng.choice(COMMON_SUFFIXES) if rng.random() < 0.9 else fake.street_suffix()
    street = f"{rng.randint(1, 9999) if rng.random() < 0.7 else rng.randint(1, 250)} {fake.last_name()} {suffix}"
    if rng.random() < 0.5:
        return f"{street}, {fake.city()}, {rng.choice(US_STATES)} {rng.randint(10000, 99999)}"
    postcode = f"{rng.choice(['SW', 'N', 'E', 'M', 'LS', 'B', 'EH'])}{rng.randint(1, 19)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    return f"{street}, {fake.city()} {postcode}" if rng.random() < 0.7 else street


def birth_date(rng: random.Random) -> datetime.date:
    return datetime.date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))


def written_date(rng: random.Random, date: datetime.date) -> str:
    return rng.choice([date.isoformat(), date.strftime("%d/%m/%Y"), date.strftime("%d.%m.%Y"),
                       f"{date.day} {date.strftime('%B')} {date.year}", f"{date.strftime('%B')} {date.day}, {date.year}"])


# Countries whose national phone formats the detectors read where a word says "phone".
INTL_REGIONS = ["DE", "FR", "NL", "ES", "IT", "IN", "AU", "CA", "BR"]


def intl_phone(rng: random.Random, region: str, international: bool) -> str:
    """A valid fixed or mobile number of ``region`` (phonenumbers' example with its last
    digits redrawn), in international (+CC) or national layout."""
    kind = rng.choice([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    example = phonenumbers.national_significant_number(phonenumbers.example_number_for_type(region, kind))
    while True:
        national = example[:-4] + "".join(rng.choice(string.digits) for _ in range(4))
        number = phonenumbers.parse(national, region)
        if phonenumbers.is_valid_number(number):
            layout = phonenumbers.PhoneNumberFormat.INTERNATIONAL if international else phonenumbers.PhoneNumberFormat.NATIONAL
            return phonenumbers.format_number(number, layout)
