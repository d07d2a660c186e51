"""Chat: Slack tokens and webhooks, Discord bot tokens and webhooks, Telegram, Teams."""
import base64
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
_rng = random.Random("chat")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def uuid() -> str:
    return f"{r(8, HEX)}-{r(4, HEX)}-4{r(3, HEX)}-a{r(3, HEX)}-{r(12, HEX)}"


XOXB = f"xoxb-{r(11, string.digits)}-{r(13, string.digits)}-{r(24)}"
XOXP = f"xoxp-{r(11, string.digits)}-{r(11, string.digits)}-{r(13, string.digits)}-{r(32, HEX)}"
SLACK_HOOK = f"https://hooks.slack.com/services/T{r(8, UPPER_NUM)}/B{r(10, UPPER_NUM)}/{r(24)}"
BOT_ID = "1" + r(17, string.digits)
DISCORD_BOT = base64.b64encode(BOT_ID.encode()).decode().rstrip("=") + "." + r(6, ALNUM + "_-") + "." + r(38, ALNUM + "_-")
NOT_AN_ID = base64.b64encode(b"Mallory-the-user-x").decode().rstrip("=")
DISCORD_HOOK = f"https://discord.com/api/webhooks/{r(19, string.digits)}/{r(68, ALNUM + '_-')}"
TELEGRAM = f"{r(10, string.digits)}:AA{r(33, ALNUM + '_-')}"
TEAMS = (f"https://acme.webhook.office.com/webhookb2/{uuid()}@{uuid()}/IncomingWebhook/{r(32, HEX)}/{uuid()}")
WORKFLOW = (f"https://prod-12.westeurope.logic.azure.com:443/workflows/{r(32, HEX)}/triggers/manual/paths/invoke"
            f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={r(43, ALNUM + '_-')}")

CASES = [
    ("SLACK_TOKEN", f"SLACK_BOT_TOKEN={XOXB}", [XOXB]),
    ("SLACK_TOKEN", f"-H 'Authorization: Bearer {XOXP}'", [XOXP]),
    ("SLACK_TOKEN", "token = xoxb-not-a-real-token-this-will-not-work", []),   # Slack's docs example
    ("SLACK_TOKEN", "SLACK_BOT_TOKEN=xoxb-your-token", []),                    # placeholder
    ("SLACK_TOKEN", "xoxb-1234567890-1234567890123-" + "x" * 24, []),          # mask
    ("SLACK_TOKEN", "xoxz-" + XOXB[5:], []),                                   # wrong prefix
    ("SLACK_WEBHOOK", f"curl -X POST -d '{{\"text\":\"hi\"}}' {SLACK_HOOK}", [SLACK_HOOK]),
    ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", []),
    ("SLACK_WEBHOOK", "https://hooks.slack.com/services/", []),                 # no path
    ("DISCORD_BOT_TOKEN", f"DISCORD_TOKEN={DISCORD_BOT}", [DISCORD_BOT]),
    ("DISCORD_BOT_TOKEN", f"token {NOT_AN_ID}.{DISCORD_BOT.split('.', 1)[1]}", []),  # first part is no user id
    ("DISCORD_BOT_TOKEN", "client.login('MTAxMDEwMTAxMDEwMTAxMDEw.XXXXXX.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX')", []),
    ("DISCORD_BOT_TOKEN", "version 1.2.3.4 of Node.js", []),                   # dotted version
    ("DISCORD_WEBHOOK", f"WEBHOOK_URL={DISCORD_HOOK}", [DISCORD_HOOK]),
    ("DISCORD_WEBHOOK", "https://discord.com/api/webhooks/123456789012345678/" + "x" * 68, []),  # mask
    ("DISCORD_WEBHOOK", "https://discord.com/api/webhooks/{id}/{token}", []),  # API docs
    ("TELEGRAM_BOT_TOKEN", f"bot = telebot.TeleBot('{TELEGRAM}')", [TELEGRAM]),
    ("TELEGRAM_BOT_TOKEN", "TOKEN=123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", []),  # mask
    ("TELEGRAM_BOT_TOKEN", f"{TELEGRAM[:-4]}", []),                             # too short
    ("TELEGRAM_BOT_TOKEN", "at 12:30:00:AA the job ran", []),                  # a timestamp
    ("TEAMS_WEBHOOK", f"TEAMS_WEBHOOK_URL={TEAMS}", [TEAMS]),
    ("TEAMS_WEBHOOK", f"post to {WORKFLOW}", [WORKFLOW]),
    ("TEAMS_WEBHOOK", "https://outlook.office.com/webhook/<your-webhook-id>", []),  # placeholder
    ("TEAMS_WEBHOOK", "https://acme.webhook.office.com/webhookb2/", []),       # incomplete
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_chat_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
