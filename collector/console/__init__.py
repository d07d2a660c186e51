"""The console: server-rendered pages (views), their rendering and sign-in.

Templates and the stylesheet stay in collector/templates and collector/static (package data)."""
