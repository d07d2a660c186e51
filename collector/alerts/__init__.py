"""Alerts: findings as data, raising them from events, triage, vendor standings."""
