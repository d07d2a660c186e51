"""Person names the way chat messages carry them, where the small NER model sees a lone
capitalised word: "Lucrezia, can I please speak to your boss?", "Hi Siobhan,", a sign-off
("Cheers,\\nBartholomew"), "my kid Marine", "my name is …", "call me …", "Ms. Dupont"; and
the name fields of contact and calendar files (vCard FN/N, an attendee's CN).

The context makes the word a name: each pattern is a phrase that introduces one. Words that
often stand where a name would ("Hi team,", "Thanks all,", "Yes, can you …") are not names.
"""
from __future__ import annotations

import functools
from pathlib import Path

import regex as re
import yaml

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.emails import role_mailbox
from shadowmap.detectors.recognizers.ner_person import ORGANISATION_WORDS, ROLE_WORDS, english_stop_words
from shadowmap.detectors.recognizers.secrets.rules import cases

# One to three capitalised words (any script's letters, apostrophes; a double-barrelled part
# "Pruvost-Thibault"), with name particles between them ("Fernanda de Murillo").
_WORD = r"\p{Lu}[\p{Ll}'’]{1,30}(?:-\p{Lu}?[\p{Ll}'’]{1,30})*"
_PARTICLE = r"(?:de|del|della|der|den|di|da|das|do|dos|du|la|le|van|von|ten|ter|y|e)"
_NAME = rf"(?P<value>{_WORD}(?:[ ](?:{_PARTICLE}[ ]){{0,2}}{_WORD}){{0,2}})"
_ONE_NAME = r"(?P<value>\p{Lu}[\p{Ll}'’\-]{1,30})"
# Words seen where a name would be that are not one.
NOT_NAMES = frozenset(["all", "everyone", "everybody", "team", "guys", "folks", "there", "both", "again", "yes", "no", "hi", "hello", "hey", "thanks", "thank", "well", "ok", "okay", "so", "also", "however", "sorry", "please", "actually", "honestly", "sure", "great", "cool", "right", "now", "then", "first", "second", "finally", "note", "update", "meanwhile", "otherwise", "anyway", "btw", "yeah", "yep", "nope", "oh", "dear", "sir", "madam", "boss", "mom", "dad", "mum", "mother", "father", "friends", "colleagues", "support", "admin", "customer", "client", "user", "bot", "assistant", "chatgpt", "claude", "gemini", "copilot", "morning", "evening", "afternoon", "night", "today", "tomorrow", "guys", "ladies", "gentlemen", "people", "sales", "marketing", "engineering", "finance", "hr", "legal", "it", "ops", "security", "billing", "there's", "here", "it", "this", "that", "what", "why", "how", "when", "where", "who", "which", "can", "could", "would", "will", "should", "shall", "may", "might", "must", "do", "does", "did", "is", "are", "was", "were", "be", "you", "we", "they", "he", "she", "i", "me", "my", "our", "your", "his", "her", "their", "mine", "ours", "yours", "good", "bad", "best", "kind", "warm", "love", "regards", "cheers", "hope", "welcome", "happy", "merry", "the", "a", "an", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december"])
_FOLLOWING = ("can", "could", "would", "will", "please", "thanks", "thank", "i", "we", "you", "are", "do", "did", "have",
              "how", "what", "when", "where", "why", "just", "sorry", "hope", "let", "see", "my", "our", "is", "it's")
# A name opening the message and addressed: "Lucrezia, can I …".
_VOCATIVE = re.compile(rf"^[ \t]*{_NAME},[ ](?=(?i:{'|'.join(_FOLLOWING)})\b)")
_RELATIONS = ("kid|son|daughter|wife|husband|partner|friend|boss|colleague|coworker|manager|mom|mother|dad|father"
              "|brother|sister|grandson|granddaughter|child|nephew|niece|cousin|uncle|aunt|fianc[ée]e?|girlfriend"
              "|boyfriend|tenant|landlord|patient|client")
# The roles a person is added to an account, a document or a team in.
_ROLES = ("guardian|beneficiary|co-?signer|co-?owner|owner|contact|emergency contact|authori[sz]ed user|user|member"
          "|admin|administrator|reviewer|collaborator|dependent|nominee|joint (?:account )?holder|holder|signatory"
          "|driver|passenger|payee|recipient|trustee|executor|attendee|assignee|approver|manager|friend|partner")
_TITLES = r"(?i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Sig|Sig\.ra|Dott)"


# A sentence's subject that a he / she, him / her or his refers to in the same sentence or the
# next: "Inna is a very sympathetic person. He's also a good listener", "Loni is very
# reliable. You can always depend on him.", "Rodriguez began writing as a teenager,
# publishing her first story". The model misses a lone name there; "Docker is very reliable.
# You can always depend on it." has no such pronoun.
_SUBJECT_VERBS = ("is|was|has|had|began|started|became|seems|looks|likes|loves|lives|works|worked|wants|wanted"
                  "|never|always|often|will|would|can|could|did|does|left|moved|went|said|told|asked")
_PRONOUN = r"(?i:he|she|him|her|his|hers|himself|herself)"
_SUBJECT = re.compile(rf"(?:^|(?<=[.!?][ ]{{1,3}}))(?P<value>\p{{Lu}}\p{{Ll}}[\p{{Ll}}'’]{{1,30}})[ ](?:{_SUBJECT_VERBS})[ ]"
            rf"[^.!?\n]{{0,120}}?(?:[.!?][ ]{{1,3}}[^.!?\n]{{0,80}}?)?(?<![\w'’])(?P<pronoun>{_PRONOUN})(?![\w])", re.MULTILINE)
# Where the pronoun stands, as keywords (case-sensitive substrings), and how far before it
# its subject may start (two sentences).
_PRONOUN_KEYWORDS = (" he ", " she ", " him", " her", " his ", "He ", "She ", "His ", "Her ", "He's", "She's", "He’s",
                     "She’s")
_SUBJECT_REACH = 240


# A subject that is an English word is a thing or a role more often than a name ("Service is
# unavailable. She said ...", "Python is slow here. His benchmark ..."): the words of WordNet's
# index, which the NER model ships for its lemmatizer (its lemma_index table). Kept as one
# byte string searched per candidate (~0.7 MB; as a set, 11 MB): subjects are few.
_LEMMATIZER_TABLES = "lemmatizer/lookups"


@functools.cache
def _english_words() -> bytes | None:
    """"\n"-separated lower-case words, or None when the model's tables cannot be read (then
    no subject is taken for a name)."""
    try:
        from spacy.lookups import Lookups

        from shadowmap.detectors.model import resolve_model
        from shadowmap.detectors.settings import DetectorSettings

        tables = Lookups().from_disk(resolve_model(DetectorSettings().model).data_dir / _LEMMATIZER_TABLES)
        words = {w for listed in tables.get_table("lemma_index").values() for w in listed if w.isalpha()}
    except Exception:   # noqa: BLE001 - a model without the table: the rule is off, nothing else changes
        return None
    return ("\n" + "\n".join(sorted(words)) + "\n").encode()


def _english_word(word: str) -> bool:
    words = _english_words()
    return words is None or f"\n{word}\n".encode() in words


_FIRST_NAMES = Path(__file__).resolve().parents[1] / "data" / "first_names.yaml"


@functools.cache
def first_names() -> frozenset[str]:
    """Lower-case first names (detectors/data/first_names.yaml: the 1990 US Census lists)."""
    return frozenset(yaml.safe_load(_FIRST_NAMES.read_text("utf-8"))["names"].split())


# The pronouns that stand for the subject itself; a possessive may be anyone's ("Grant was
# approved. His team ...").
_PERSONAL_PRONOUNS = frozenset(("he", "she", "him", "himself", "herself"))


def _could_be_a_name(word: str, pronoun: str) -> bool:
    """A capitalised subject that is no English word, or a first name that is one as well
    (WordNet, whose words _english_words reads, lists "shannon", "virginia" and "james" too)
    when a personal pronoun refers to it."""
    lowered = word.lower()
    return not _english_word(lowered) or (lowered in first_names() and pronoun.lower() in _PERSONAL_PRONOUNS)


# "Louis is from Nicholson Ltd", "Maryam is from Royal de Hoog": a first name introduced by
# where the person comes from (a census first name: "Docker is from Docker, Inc." is not one).
_FROM = re.compile(r"(?:^|(?<=[.!?][ ]{1,3}))(?P<value>\p{Lu}\p{Ll}{2,30})[ ]is[ ]from[ ]\p{Lu}", re.MULTILINE)
_FROM_KEYWORD = " is from "


# Subjects a pronoun follows that are not names: "Everyone was there, his team too".
_NOT_SUBJECTS = frozenset(("everyone", "everybody", "someone", "somebody", "nobody", "anyone", "anybody", "each",
                           "one", "none", "mom", "dad", "mum", "grandma", "grandpa", "mommy", "daddy", "papa",
                           "mama", "baby", "doctor", "teacher", "nurse", "officer", "god", "jesus", "santa"))

# Two or three name words: a field's value, where one capitalised word may be anything.
_FULL_NAME = rf"(?P<value>{_WORD}(?:[ ](?:{_PARTICLE}[ ]){{0,2}}{_WORD}){{1,2}})"
# Fields that hold a person's name: "Customer: Shannon Jimenez", "Employee: Nancy Schultz, …".
_PERSON_FIELDS = ("customer|employee|patient|client|contact|attendee|assignee|reporter|requester|tenant|guest"
                  "|passenger|applicant|candidate|cardholder|card holder|account holder|full name|recipient"
                  "|signed by|prepared by|approved by|requested by|reported by|submitted by")
# A mail or commit header's display name ("From: Jonas Berg <jonas.berg@outlook.com>", "Author:
# Priya Raman <priya.raman@gmail.com>"), kept when a word of it is in the address's local
# part: "From: Google Cloud <noreply@google.com>" is a sender, not a person.
_DISPLAY_NAME = re.compile(
    rf"^(?:From|To|Cc|Bcc|Reply-To|Sender|Author|Committer)[ \t]*:[ \t]*\"?{_NAME}\"?[ \t]*<(?P<local>[^\s<>@]+)@",
    re.MULTILINE)
_HEADER_KEYWORDS = ("From:", "To:", "Cc:", "Bcc:", "Reply-To:", "Sender:", "Author:", "Committer:")


def _named_in(value: str, local: str) -> bool:
    local = local.lower()
    return any(len(word) >= 3 and word in local for word in re.split(r"[ \-'’]", value.lower()))


class ConversationNameRecognizer(SecretRecognizer):
    entity_type = "PERSON"
    data_class = "pii"
    reason = "Person name"
    patterns = (
        # Greetings: "Hi Siobhan,", "Dear Mr Okafor", "Thanks Priya!"
        (rf"(?<![\w])(?i:hi|hello|hey|dear|thanks|thank you|morning|good morning|bonjour|hallo|hola|ciao|hej|hoi"
         rf"|salut|buongiorno|buenos d[ií]as)[ ]+(?:{_TITLES}\.?[ ])?{_NAME}(?=[,!:]|[ ]*$)", 0.85),
        # Sign-offs: "Cheers,\nBartholomew"
        (r"(?<![\w])(?i:cheers|thanks|thank you|best|regards|best regards|kind regards|warm regards|sincerely|yours"
         r"|many thanks|love|groet|groeten|gr[üu][ßs]e|cordialement|saludos|un saluto)[,!.]?[ \t]*\r?\n[ \t]*"
         + _NAME + r"[ \t]*$", 0.85),
        # Relations: "my kid Marine", "my partner's name Jonas"
        (rf"(?<![\w])(?i:my|our|your|his|her)[ ](?i:{_RELATIONS})(?:'s name(?: is)?)?,?[ ]{_NAME}(?![\w])", 0.85),
        # Naming phrases: "my name is …", "call me …", "What's your last name? …", "User: …"
        (rf"(?<![\w])(?i:my name is|my nam is|name's|calls? me|called me|last name\??|first name\??|surname\??"
         rf"|name on the account\?[ ]User:|under the name|it['’]s under|beneficiary|guardian)[ :]+{_NAME}(?![\w])",
         0.85),
        # Adding someone in a role: "add Nicola Palmer as a beneficiary" (not "add Redis as a cache")
        (rf"(?<![\w])(?i:add|added|adding)[ ]{_NAME}[ ](?i:as)[ ](?:(?i:a|an|the|my|our|his|her|their)[ ])?"
         rf"(?i:{_ROLES})(?![\w])", 0.85),
        # Fields holding a person: "Customer: Shannon Jimenez"
        (rf"(?<![\w])(?i:{_PERSON_FIELDS})[ \t]*:[ \t]*{_FULL_NAME}(?![\w])", 0.85),
        # Titles: "ms. Dupont", "Dr Okafor"
        (rf"(?<![\w]){_TITLES}\.?[ ]{_NAME}(?![\w])", 0.85),
        # Reported speech: "said Renée to Noël", "Frédérique shouted at Noël"
        (rf"(?<![\w])(?i:said|asked|told|shouted at|replied to|wrote to|emailed|texted)[ ]{_ONE_NAME}(?![\w])", 0.85),
        # Contact and calendar files name their people in fields: vCard's FN and N (RFC 6350,
        # "N:Family;Given;;;"), an iCalendar attendee's or organizer's CN (RFC 5545).
        (rf"^FN(?:;[^:\r\n]{{0,60}})?:{_NAME}[ \t]*\r?$", 0.85),
        (r"^N(?:;[^:\r\n]{0,60})?:(?P<value>\p{Lu}[\p{Ll}'’\-]{1,30});\p{Lu}", 0.85),        # family name
        (r"^N(?:;[^:\r\n]{0,60})?:\p{Lu}[\p{Ll}'’\-]{1,30};(?P<value>\p{Lu}[\p{Ll}'’\-]{1,30})(?=;|[ \t]*\r?$)", 0.85),
        (rf"(?:ATTENDEE|ORGANIZER)(?:;[^:;\r\n]{{0,60}})*;CN=\"?{_NAME}\"?(?=[;:])", 0.85),
    )
    # Substrings every match contains, chosen rare enough that the patterns run near few
    # places of a megabyte of prose: the relation word (not "my"), ", can" (not "can").
    keywords = (*cases("hi", "hello", "hey", "dear", "thanks", "thank you", "morning", "bonjour", "hallo", "hola",
                       "ciao", "hej", "hoi", "salut", "buongiorno", "buenos", "cheers", "regards", "sincerely",
                       "yours", "groet", "grüße", "grüsse", "cordialement", "saludos", "saluto", "name is", "nam is",
                       "name's", "last name", "first name", "surname", "name on the", "under the name", "call me",
                       "calls me", "called me", "beneficiary", "guardian", "said", "asked", "told", "shouted",
                       "replied", "wrote", "emailed", "texted", "add ", "added ", "adding ", "best,", "love,",
                       "'s under", "’s under"),
                *cases(*_RELATIONS.replace("fianc[ée]e?", "fianc").split("|")),
                *(f", {word} " for word in cases(*_FOLLOWING)),
                "Mr.", "Mr ", "Mrs", "Ms.", "Ms ", "Miss ", "Mx ", "Dr.", "Dr ", "Prof", "Sir ", "Madam", "Herr ", "Frau ",
                "Mme", "Mlle", "Sr.", "Sra", "Srta", "Sig.", "Sig ", "Dott", "ms.", "mr.", "mrs.", "dr.", "miss ",
                "FN:", "FN;", "\nN:", "\nN;", ";CN=", *_PRONOUN_KEYWORDS, *_HEADER_KEYWORDS, _FROM_KEYWORD,
                *(f"{field}:" for field in cases(*_PERSON_FIELDS.split("|"))))
    reach_before = 24
    reach_after = 96
    flags = re.MULTILINE

    def __init__(self) -> None:
        super().__init__()
        _english_words()    # read at load (~50 ms), not on the first paste with a subject
        first_names()

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = super().find(text, near)
        opening = _VOCATIVE.match(text)
        if opening and self.is_valid(opening.group("value")):
            found.append((opening.start("value"), opening.end("value"), 0.85))
        found.extend(self._subjects(text, near))
        found.extend(self._display_names(text))
        found.extend(self._introduced_from(text, near))
        return found

    def _introduced_from(self, text: str, near: list[int] | None) -> list[tuple[int, int, float]]:
        """First names said to be from somewhere (_FROM), at each " is from " among the keyword
        hits the engine found (``near``)."""
        found = []
        for at in self.keyword_starts(text) if near is None else near:
            if not text.startswith(_FROM_KEYWORD, at):
                continue
            for match in _FROM.finditer(text, max(0, at - 32), at + len(_FROM_KEYWORD) + 1):
                if match.group("value").lower() in first_names() and self.is_valid(match.group("value")):
                    found.append((match.start("value"), match.end("value"), 0.75))
        return found

    def _display_names(self, text: str) -> list[tuple[int, int, float]]:
        """Display names of mail and commit headers (_DISPLAY_NAME), at each header line."""
        found = []
        for keyword in _HEADER_KEYWORDS:
            at = text.find(keyword)
            while at >= 0:
                if at == 0 or text[at - 1] == "\n":
                    match = _DISPLAY_NAME.match(text, at)
                    if (match and self.is_valid(match.group("value")) and not role_mailbox(match.group("local"))
                            and _named_in(match.group("value"), match.group("local"))):
                        found.append((match.start("value"), match.end("value"), 0.85))
                at = text.find(keyword, at + 1)
        return found

    def _subjects(self, text: str, near: list[int] | None) -> list[tuple[int, int, float]]:
        """Sentence subjects a later he / she / him / her / his refers to (_SUBJECT)."""
        if near is None:
            near = [i for k in _PRONOUN_KEYWORDS for i in range(len(text)) if text.startswith(k, i)]
        windows: list[tuple[int, int]] = []
        for at in sorted(near):
            start, end = max(0, at - _SUBJECT_REACH), min(len(text), at + 16)
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], end)
            else:
                windows.append((start, end))
        found = []
        for start, end in windows:
            for match in _SUBJECT.finditer(text, start, end):
                value = match.group("value").lower()
                if (value not in NOT_NAMES and value not in _NOT_SUBJECTS and value not in english_stop_words()
                        and _could_be_a_name(value, match.group("pronoun"))):
                    found.append((match.start("value"), match.end("value"), 0.75))
        return found

    def is_valid(self, value: str) -> bool:
        words = value.lower().split(" ")
        return (words[0] not in NOT_NAMES and value.lower() not in NOT_NAMES
                and not ORGANISATION_WORDS.intersection(words) and not ROLE_WORDS.intersection(words))

