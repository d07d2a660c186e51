"""device watch: the AI browsers of each device and whether the extension is in them

Per device, the latest `ai_browser.observed` states (browser, user, profile, extension), so
an AI browser without the extension raises "Protection disabled" like a disabled extension."""

NAME = "device watch: the AI browsers of each device and whether the extension is in them"

SQL = """
ALTER TABLE device_watch ADD COLUMN ai_browsers TEXT NOT NULL DEFAULT '{}';
"""
