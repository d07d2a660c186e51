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
    # three words, particles, a double-barrelled surname
    ("I want to add Juliana Chacón Toledo as a beneficiary to my account", "Juliana Chacón Toledo"),
    ("In case of my child's account, we need to add Fernanda de Murillo as guardian", "Fernanda de Murillo"),
    ("we need to add Maryse Pruvost-Thibault as guardian", "Maryse Pruvost-Thibault"),
    ("Maybe it's under Alphonse Pascal", "Alphonse Pascal"),
    ("Maybe it’s under Alphonse Pascal", "Alphonse Pascal"),
    # a subject a later he / she / him / her refers to
    ("Inna is a very sympathetic person. He's also a good listener", "Inna"),
    ("Loni is very reliable. You can always depend on him.", "Loni"),
    ("Rodriguez began writing as a teenager, publishing her first story in 1950.", "Rodriguez"),
    # ... also a first name that is an English word too, when a personal pronoun refers to it
    ("Shannon is a very sympathetic person. He's also a good listener", "Shannon"),
    ("Virginia was late again. She missed the stand-up.", "Virginia"),
    # a first name said to be from an organisation
    ("Louis is from Nicholson Ltd", "Louis"),
    ("Thanks for joining. Cristina is from Pärtzelt AG and will take notes.", "Cristina"),
    # a field holding a person, a mail or commit header's display name
    ("Ticket #75887 - login issue\n\nCustomer: Shannon Jimenez\nEmail: s.j@hays.com", "Shannon Jimenez"),
    ("Employee: Nancy Schultz, Accountant, reports to Jillian Irwin.", "Nancy Schultz"),
    ("commit 3f2a9c1\nAuthor: Priya Raman <priya.raman@gmail.com>\nDate:   Tue Mar 4", "Priya Raman"),
    ("From: Jonas Berg <jberg@outlook.com>\nSubject: invoice", "Jonas Berg"),
])
def test_names_in_conversation(spans, text, name):
    assert name in spans(text, "PERSON")


@pytest.mark.parametrize("text", [
    "Hi team, the build is green again.",
    "Yes, can you check the logs?",
    "Thanks,\nThe Team",
    "Thanks all, see you Monday.",
    # adding a thing in a role that is not a person's
    "Can we add Redis as a cache in front of the API?",
    "add Stripe as a payment provider",
    # a subject no he / she / him / her refers to, or one that is no name
    "Docker is very reliable. You can always depend on it.",
    "This is my friend. He is nice.",
    "Everyone was there, and his team too.",
    "Service is unavailable. She said it's a DNS issue.",                  # an English word
    "Python is slow here. His benchmark shows 3x.",
    # an English word that is also a first name, with only a possessive after it
    "Grant was approved last week. His team celebrated.",
    "Hope is not a strategy. Her plan had none.",
    # something from somewhere that is no first name
    "Docker is from Docker Inc. and runs everywhere.",
    "Kubernetes is from Google originally.",
    # a sender that is no person (no word of the name in the address), one word in a field
    "From: Google Cloud <noreply-cloud@google.com>\nSubject: Your invoice",
    "From: Acme Billing <billing@acme.io>",
    "Customer: Enterprise",
    "Contact: Acme Support Team",
])
def test_name_near_misses(spans, text):
    assert spans(text, "PERSON") == []


VCARD = "BEGIN:VCARD\nVERSION:3.0\nN:Lindqvist;Maja;;;\nFN:Maja Lindqvist\nTEL;TYPE=CELL:+46 70 274 91 36\nEND:VCARD\n"
EVENT = ('BEGIN:VEVENT\nSUMMARY:Contract review\nORGANIZER;CN=Aino Virtanen:mailto:aino.virtanen@outlook.com\n'
         'ATTENDEE;CN="Henrik Madsen";ROLE=REQ-PARTICIPANT:mailto:henrik.madsen@gmail.com\nEND:VEVENT\n')


@pytest.mark.parametrize("text, names", [
    (VCARD, ["Lindqvist", "Maja", "Maja Lindqvist"]),                      # vCard N (family; given) and FN
    (EVENT, ["Aino Virtanen", "Henrik Madsen"]),                            # iCalendar CN of people
])
def test_names_in_contact_and_calendar_files(spans, text, names):
    assert spans(text, "PERSON") == names


@pytest.mark.parametrize("text", [
    "BEGIN:VCARD\nFN:Acme Support Team\nEND:VCARD\n",                       # three words: an organisation
    "CN=svc-backup,OU=Service Accounts,DC=corp,DC=acme,DC=io",             # an LDAP service account
    "ATTENDEE;CN=meeting-room-3:mailto:room3@acme.io",                     # a room, lower case
    "SUMMARY:FN:Quarterly numbers",                                         # FN not opening its line
])
def test_card_name_near_misses(spans, text):
    assert spans(text, "PERSON") == []


def test_the_first_names_are_the_census_lists():
    """detectors/data/first_names.yaml: the 1990 census's female and male first names of three
    or more letters, lower-cased (its header says how it is rebuilt)."""
    from shadowmap.detectors.recognizers.conversation_names import first_names
    names = first_names()
    assert len(names) == 5130
    assert all(name.isalpha() and name.islower() and len(name) >= 3 for name in names)
    assert {"mary", "james", "shannon", "virginia"} <= names and "docker" not in names
