"""The collector: an aiohttp service that enrolls agents, ingests their events, serves the
policy, raises alerts and shows them on a small dashboard. Entry point: `create_app`."""
