"""PERSON from the English NER model: what it takes for a name in other languages' sentences,
in table headers and past a name's end, and the names around them that are still found."""
import pytest

from shadowmap.detectors.recognizers.ner_person import foreign_language, full_name_shape, name_bounds, not_a_person


def persons(engine, text: str) -> list[str]:
    return [text[f.start:f.end] for f in engine.scan(text) if f.entity_type == "PERSON"]


# Requests as they are pasted in German, French, Spanish, Italian, Dutch, Portuguese and
# Swedish, with no name in them. The model read "Können Sie", "Mein Laptop", "Ihre
# Bestellung", "Schreiben Sie", "Servicenummer", "das Problem", "kun je", "mi mandi il
# report" ... as names before.
@pytest.mark.parametrize("text", [
    "Können Sie mir sagen, warum der Export so lange dauert?",
    "Bitte schicken Sie mir die Rechnung bis Freitag.",
    "Wir haben das Problem gestern Abend behoben, danke für die Geduld.",
    "Mein Laptop startet nicht mehr nach dem Update, was kann ich tun?",
    "Ihre Bestellung wurde versandt und kommt morgen an.",
    "Rufen Sie uns unter der Servicenummer an, wenn Fragen sind.",
    "Schreiben Sie uns bitte eine kurze Nachricht.",
    "Votre commande a été expédiée, elle arrivera demain.",
    "Necesito ayuda con la configuración del servidor.",
    "Il vostro ordine è stato spedito e arriverà domani.",
    "Uw bestelling is verzonden en komt morgen aan.",
    "Din beställning har skickats och kommer i morgon.",
    "Seu pedido foi enviado e chegará amanhã.",
])
def test_a_sentence_in_another_language_without_a_name_has_no_person(engine, text):
    assert persons(engine, text) == []


@pytest.mark.parametrize(("text", "name"), [
    # full names in those languages' sentences
    ("Ich habe mit Anna Schmidt gesprochen, sie ruft morgen an.", "Anna Schmidt"),
    ("J'ai parlé avec Jean Dupont hier, il envoie le contrat.", "Jean Dupont"),
    # a lone name there: the greeting gives it (conversation_names.py), not the model
    ("Hola Lucía, ¿me puedes mandar el informe?", "Lucía"),
    ("Hoi Sanne, kun je het rapport sturen?", "Sanne"),
    # English sentences, names with particles and from anywhere
    ("Please forward this to Jean de la Fontaine before Friday.", "Jean de la Fontaine"),
    ("I spoke with Hans Müller from the Berlin office about the invoice.", "Hans Müller"),
    ("Our customer Giulia Rossi says the app crashes on login.", "Giulia Rossi"),
    ('The German "Können Sie mir helfen" means "can you help me", said Anna Schmidt.', "Anna Schmidt"),
])
def test_names_around_them_are_still_found(engine, text, name):
    assert name in persons(engine, text)


def test_a_table_header_is_not_a_name(engine):
    df = ("Filesystem      Size  Used Avail Use% Mounted on\n"
          "/dev/nvme0n1p2  468G  301G  143G  68% /\n"
          "tmpfs           7.8G  1.2M  7.8G   1% /run\n")
    assert persons(engine, df) == []


@pytest.mark.parametrize(("span", "expected"), [
    ("Grace Hopper - honestly", "Grace Hopper"),     # the model ran on past the name
    ("Unter den Linden 77", "Unter den Linden"),      # ... or into a house number
    ("de Gaulle", "de Gaulle"),                       # a particle may open a name
    ("Jan van der Berg", "Jan van der Berg"),
    ("mi mandi il report", None),                      # nothing of a name in it
    ("kun je", None),
    ("Filesystem      Size", None),                    # two table cells
    ("Ada\nLovelace", None),                           # two lines
])
def test_name_bounds(span, expected):
    text = f"x {span} y"
    bounds = name_bounds(text, 2, 2 + len(span))
    assert (text[bounds[0]:bounds[1]] if bounds else None) == expected


@pytest.mark.parametrize(("sentence", "span", "language"), [
    ("Können Sie mir sagen, warum der Export so lange dauert?", "Können Sie", "de"),
    ("Votre facture est prête, nous vous l'envoyons demain.", "Votre", "fr"),
    ("Kunt u mij de factuur voor vrijdag sturen?", "Kunt", "nl"),
    # "de la" inside the name looked at is not French
    ("Please forward this to Jean de la Fontaine before Friday.", "Jean de la Fontaine", None),
    ("Contact Jean de la Fontaine", "Jean de la Fontaine", None),
    ("The German word for invoice is Rechnung.", "Rechnung", None),
    # only its own sentence counts
    ("Ich bin im Büro, wir sind hier. Ask Tom Berger about it.", "Tom Berger", None),
])
def test_foreign_language_of_the_sentence_around_a_span(sentence, span, language):
    start = sentence.index(span)
    assert foreign_language(sentence, start, start + len(span)) == language


@pytest.mark.parametrize(("value", "ok"), [
    ("Anna Schmidt", True), ("Jean de la Fontaine", True),
    ("Können Sie", False), ("Mein Laptop", False), ("Rechnung", False), ("das Problem", False),
])
def test_full_name_shape_in_german(value, ok):
    assert full_name_shape(value, "de") is ok


# What the model takes for a person that is a place, an organisation, a heading or an
# identifier; and the near misses that stay names.
@pytest.mark.parametrize(("text", "span", "dropped"), [
    ("I'm originally from Rumänien", "Rumänien", True),                          # a country, in German
    ("Who's coming to Città del Vaticano with me?", "Città del Vaticano", True),
    ("Who's coming to República Checa with me?", "República Checa", True),       # a word for a state
    ("I will be travelling to Brunei Darussalam next week", "Brunei Darussalam", True),
    ("I will be travelling to Montserrat next week", "Montserrat", True),
    ("Jordan is very reliable.", "Jordan", False),                               # a country and a given name
    ("I met Tom Holland at the airport", "Tom Holland", False),
    ("The street is in Sainte Joseph.", "Joseph", True),                         # after Saint: a place
    ("Mälzer is a Dutch multinational investment bank", "Mälzer", True),         # described as a company
    ("Farley, Wells and Kane is an French multinational investment bank", "Kane", True),
    ("I work for Boyer", "Boyer", True),                                         # an employer
    ("Boyer is a good friend of mine", "Boyer", False),
    ("Maria is a teller at the bank", "Maria", False),                          # works at one
    ("Maria is the founder of a startup", "Maria", False),
    ("I work with Boyer", "Boyer", False),
    ("I work for Maria Lopez, she owns the bakery", "Maria Lopez", False),      # a full name: a person
    ("a1b2c3d Add retry to payment client", "Add", True),                        # a commit message's verb
    ("API Key: sk-ant-api03-abc", "API Key", True),                              # a field label
    ("Admin Key: sk-ant-admin01-abc", "Admin Key", True),
    ("kind: ExternalSecret", "ExternalSecret", True),                            # an identifier
    ("Ask Ronald McDonald about it", "Ronald McDonald", False),                  # a name's inner capital
    ("DeAndre Jordan signed", "DeAndre Jordan", False),
    ("Error", "Error", True),
    ("7e8f9a0 Refactor Kafka consumer into its own module", "Kafka", True),      # software
    ("Can Grafana alert us when that happens?", "Grafana", True),
    ("I read Franz Kafka on the train", "Franz Kafka", False),                  # a person of that name
    ("Write a cover letter. Mention Airflow, Spark and dbt.", "Mention Airflow", True),   # a request's verb
    ("Dear Sir or Madam,", "Madam", True),                                       # a form of address
    ("Daniel Gutierrez\nJames Group\nTel: (506) 234-8974", "James Group", True),  # a company's suffix
    ("Ask Daniel Group about it", "Daniel", False),
    ("Dear Hiring Manager, I am excited to apply", "Hiring Manager", True),     # a role
    ("Good morning, Madam President", "President", True),
    ("Why does Safari block cookies but Chrome doesn't?", "Safari", True),     # a browser
    ("How do I configure Nginx as a reverse proxy for Node?", "Node", True),
])
def test_not_a_person(text, span, dropped):
    start = text.index(span)
    assert not_a_person(text, start, start + len(span)) is dropped


@pytest.mark.parametrize("text", [
    "I'm originally from Rumänien",
    "Who's coming to Isole Solomon with me?",
    "Charles is an German multinational investment bank and financial services company",
    "I work for Boyer",
    "We moved from Heroku to Render last month. Vercel was also an option but Netlify had better pricing.",
])
def test_places_and_companies_are_not_persons(engine, text):
    assert persons(engine, text) == []
