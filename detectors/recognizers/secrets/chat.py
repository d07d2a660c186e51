"""Chat platforms: Slack, Discord, Telegram, Microsoft Teams."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, b64decode_loose, shannon_entropy


class SlackTokenRecognizer(TokenRecognizer):
    entity_type = "SLACK_TOKEN"
    reason = "Slack token"
    patterns = (
        # Bot, user, workspace, legacy and refresh tokens: xox?-<team>-<user>-...-<random>.
        (r"(?<![A-Za-z0-9_\-])xox[bpaoesr]-(?:\d{6,16}-){1,3}[A-Za-z0-9\-]{20,80}(?![A-Za-z0-9_\-])", 0.95),
        # The shorter bot, user, workspace and refresh forms: xox?-<team>-<user><letters>.
        (r"(?<![A-Za-z0-9_\-])xox[bpar]-\d{10,13}-\d{10,13}[A-Za-z0-9]{0,8}(?![A-Za-z0-9_\-])", 0.9),
        # Any other run of numeric ids then a random part, as detect-secrets' SlackDetector takes
        # it (xox[abposr]-(\d+-)+[a-z0-9]+): legacy and workspace tokens shorter than the above.
        (r"(?<![A-Za-z0-9_\-])xox[bpaosr]-(?:\d{1,16}-){1,4}[A-Za-z0-9]{12,80}(?![A-Za-z0-9_\-])", 0.85),
        # Configuration tokens and app-level tokens.
        (r"(?<![A-Za-z0-9_\-])xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{140,170}(?![A-Za-z0-9_\-])", 0.95),
        (r"(?<![A-Za-z0-9_\-])xapp-\d-[A-Z0-9]{9,12}-\d{10,14}-[a-f0-9]{60,66}(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = ("xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-", "xoxe", "xapp-")
    prefix_chars = 5
    # Team and user ids are digits: a short token's random part scores under 3 bits.
    min_entropy = 2.7


class SlackWebhookRecognizer(TokenRecognizer):
    entity_type = "SLACK_WEBHOOK"
    reason = "Slack incoming-webhook URL"
    patterns = (
        (r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/[A-Z0-9]{8,12}"
         r"/[A-Za-z0-9]{23,34}(?![A-Za-z0-9])", 0.95),
    )
    keywords = ("hooks.slack.com",)
    prefix_chars = 30


class DiscordBotTokenRecognizer(TokenRecognizer):
    entity_type = "DISCORD_BOT_TOKEN"
    reason = "Discord bot token"
    # base64(bot user id) . timestamp . HMAC, each base64url.
    patterns = ((r"(?<![A-Za-z0-9_\-.])[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-.])", 0.9),)
    # The first part starts with M, N or O (a user id's first digit in base64, and the
    # shape Discord's documentation and the scanners give); its second letter varies.
    keywords = ("M", "N", "O")
    reach_before = 0
    reach_after = 80
    min_entropy = 4.0

    def check(self, value: str) -> bool:
        first, _timestamp, hmac = value.split(".")
        # The first part is the bot's numeric user id (a snowflake) in base64 ...
        user_id = b64decode_loose(first)
        if user_id is not None and user_id.isdigit() and 17 <= len(user_id) <= 20:
            return True
        # ... or, when it does not decode to one, the documented shape alone: 24-26
        # characters (an 18- or 19-digit id), and a first and last part that both mix
        # upper case, lower case and digits as random base64url does.
        return 24 <= len(first) <= 26 and _mixed(first) and _mixed(hmac) and shannon_entropy(hmac) >= 3.5


def _mixed(part: str) -> bool:
    return any(c.isupper() for c in part) and any(c.islower() for c in part) and any(c.isdigit() for c in part)


class DiscordWebhookRecognizer(TokenRecognizer):
    entity_type = "DISCORD_WEBHOOK"
    reason = "Discord webhook URL"
    patterns = (
        (r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68}(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = ("/api/webhooks/",)
    prefix_chars = 40


class TelegramBotTokenRecognizer(TokenRecognizer):
    entity_type = "TELEGRAM_BOT_TOKEN"
    reason = "Telegram bot token"
    patterns = ((r"(?<![A-Za-z0-9_:\-])\d{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = (":AA",)
    min_entropy = 3.8


class TeamsWebhookRecognizer(TokenRecognizer):
    entity_type = "TEAMS_WEBHOOK"
    reason = "Microsoft Teams webhook URL"
    _uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    patterns = (
        # Office 365 connector webhooks.
        (rf"https://[A-Za-z0-9\-]+\.webhook\.office\.com/webhookb2/{_uuid}@{_uuid}/IncomingWebhook"
         rf"/[a-f0-9]{{32}}/{_uuid}(?:/[A-Za-z0-9_\-]{{10,80}})?", 0.95),
        # Workflows (Power Automate) webhooks: the signature is the secret part.
        (r"https://[A-Za-z0-9\-.]+\.(?:logic\.azure\.com|environment\.api\.powerplatform\.com)(?::443)?"
         r"/(?:workflows|powerautomate/automations/direct/workflows)/[a-f0-9]{32}/triggers/manual/paths/invoke"
         r"\?[^\s\"'<>]*?sig=[A-Za-z0-9_\-%]{40,50}", 0.95),
    )
    keywords = ("webhook.office.com", "logic.azure.com", "powerplatform.com")
    prefix_chars = 40
