"""The app factory: routes as a list, typed state, the store opened in a cleanup context."""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from shadowmap.collector import secret_box
from shadowmap.collector.api import deploy_webhooks, extension_files, otlp, scm_webhooks
from shadowmap.collector.api import sessions as session_api
from shadowmap.collector.api.alerts import alerts_api_handler
from shadowmap.collector.api.enroll import enroll_handler
from shadowmap.collector.api.ingest import events_handler
from shadowmap.collector.api.ingest_counts import INGEST_COUNTS, IngestCounts
from shadowmap.collector.api.parse_pool import PARSE_POOL, ParsePool
from shadowmap.collector.api.policy import policy_handler
from shadowmap.collector.config import ADMIN_PASSWORD_ENV, CollectorConfig, ConfigError, load_or_create_enroll_secret
from shadowmap.collector.console import admin, auth, device_pages, extensions, mcp_servers
from shadowmap.collector.console import alerts as console
from shadowmap.collector.console import exceptions as exception_views
from shadowmap.collector.console import oidc as single_sign_on
from shadowmap.collector.console import org_detectors as org_detector_views
from shadowmap.collector.console import overview as overview_views
from shadowmap.collector.console import policy as policy_views
from shadowmap.collector.console import register as register_views
from shadowmap.collector.console import sessions as session_views
from shadowmap.collector.console.errors import console_error_middleware
from shadowmap.collector.console.pages import index_handler, setup_templates, stylesheet_handler
from shadowmap.collector.errors import error_middleware
from shadowmap.collector.middlewares import security_headers_middleware
from shadowmap.collector.principals import hash_password
from shadowmap.collector.state import CONFIG, ENROLL_SECRET, ERRORS, STORE, ErrorCounter
from shadowmap.collector.store import Storage, open_store
from shadowmap.collector.store.sqlite import accounts, org
from shadowmap.collector.transport import forwarded_middleware

log = logging.getLogger(__name__)

# How a runner should serve this app: the ingest handler inflates gzip itself, so it can
# hold the compressed and the decompressed body to separate limits. (Served with aiohttp's
# defaults, gzip still works, but the wire limit then applies to the inflated body.)
RUNNER_KWARGS = {"auto_decompress": False}


def make_runner(app: web.Application, **kwargs) -> web.AppRunner:
    """The runner to serve this app with (see RUNNER_KWARGS)."""
    return web.AppRunner(app, **{**kwargs, **RUNNER_KWARGS})


async def healthz_handler(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


ROUTES = [
    web.get("/healthz", healthz_handler),
    web.post("/api/v1/enroll", enroll_handler),
    web.post("/api/v1/events", events_handler),
    web.get("/api/v1/policy", policy_handler),
    web.get("/api/v1/alerts", alerts_api_handler),
    web.get("/", index_handler),
    web.get("/login", auth.login_form_handler),
    web.post("/login", auth.login_handler),
    web.post("/logout", single_sign_on.logout_handler),  # ends the console session, and the provider's for SSO
    *single_sign_on.ROUTES,
    web.get("/static/style.css", stylesheet_handler),
    *overview_views.ROUTES,
    *console.ROUTES,
    *register_views.ROUTES,
    *admin.ROUTES,
    *policy_views.ROUTES,
    *org_detector_views.ROUTES,
    *scm_webhooks.ROUTES,
    *extension_files.ROUTES,
    *session_api.ROUTES,
    *otlp.ROUTES,
    *deploy_webhooks.ROUTES,
    *session_views.ROUTES,
    *exception_views.ROUTES,
    *device_pages.ROUTES,
    *mcp_servers.ROUTES,
    *extensions.ROUTES,
]


def create_app(config: CollectorConfig | None = None, parse_workers: int | None = None) -> web.Application:
    """``parse_workers``: processes that parse ingest batches (default: one per core; 0:
    parse in threads)."""
    config = config or CollectorConfig()
    app = web.Application(
        client_max_size=config.max_body_bytes,
        # errors answered (console ones as pages in its layout), then hardened
        middlewares=[forwarded_middleware, security_headers_middleware, console_error_middleware, error_middleware],
    )
    app[CONFIG] = config
    app[ERRORS] = ErrorCounter()
    app[INGEST_COUNTS] = IngestCounts()
    app[ENROLL_SECRET] = load_or_create_enroll_secret(config.enroll_secret_path)
    if config.db_url is None:  # PostgreSQL: once the database says whether it is new (_bootstrap_secrets_key)
        secret_box.install_from(config.secrets_key_path)  # before the store: its secrets are sealed with it
    app[STORE] = open_store(config.database, read_workers=config.read_workers)  # SQLite or PostgreSQL
    app[PARSE_POOL] = ParsePool(parse_workers)
    setup_templates(app)
    app.add_routes(ROUTES)
    single_sign_on.install(app)  # the OpenID provider's client, when single sign-on is configured
    app.cleanup_ctx.append(_store_context)
    _install_record_outbound_operations(app)
    return app


def _install_record_outbound_operations(app: web.Application) -> None:
    """The record, outbound delivery, /metrics and /readyz, scheduled weekly reports (each
    module wires itself in)."""
    from shadowmap.collector import device_watch
    from shadowmap.collector.api import ingest_lane, metrics
    from shadowmap.collector.outbound import sender as outbound_sender
    from shadowmap.collector.record import service as record_service
    from shadowmap.collector.report import schedule as report_schedule

    ingest_lane.install(app)
    record_service.install(app)
    outbound_sender.install(app)
    metrics.install(app)
    report_schedule.install(app)
    device_watch.install(app)


async def _check_secrets_key(store: Storage, config: CollectorConfig) -> None:
    """Refuse to start on a database whose sealed settings this node's secrets key does not
    open: a node given a key of its own (on PostgreSQL, each node's `secrets.key` made next to
    its own working folder) would start, then fail every enrollment."""
    try:
        await store.read(org.org_key_b64)
    except secret_box.SecretBoxError as exc:
        raise ConfigError(f"the secrets key {config.secrets_key_path} does not open the settings sealed in the "
                          f"database ({exc}): every collector node needs the same secrets key file "
                          "(SHADOWMAP_SECRETS_KEY_FILE)") from None


async def _bootstrap_secrets_key(store: Storage, config: CollectorConfig) -> None:
    """PostgreSQL: load the secrets key before anything is sealed. With no key file here,
    only the first node of a brand new database makes one (docs/scale.md: then copied to
    every other node). On a database already set up, a key made here could not open its
    settings, and the file left behind would be picked up by the next `shadowmap collector`
    command run in this folder: refuse instead."""
    if config.db_url is None:
        return  # SQLite: create_app loaded it (made next to the database file when missing)
    path = config.secrets_key_path
    if not path.exists():
        if await store.read(lambda db: org.setting(db, org.POLICY)) is not None:  # stored with the org key
            raise ConfigError(f"no secrets key at {path}: the settings in this database are sealed with the "
                              "collector nodes' shared secrets key; give this node a copy of it "
                              f"({secret_box.KEY_FILE_ENV})")
        log.warning("making a new secrets key at %s for this new database: give every other collector node a "
                    "copy (%s)", path, secret_box.KEY_FILE_ENV)
    secret_box.install_from(path)


async def _store_context(app: web.Application) -> AsyncIterator[None]:
    from shadowmap.collector.record.service import check_signing_key  # (its module is wired in lazily too)

    store, config, parse_pool = app[STORE], app[CONFIG], app[PARSE_POOL]
    await store.open()
    parse_pool.start()
    try:
        await parse_pool.warm()
        # read once here, not by the writer on the first batch (it would hold up every agent)
        await asyncio.get_running_loop().run_in_executor(None, _load_reference_data)
        await _bootstrap_secrets_key(store, config)
        await store.write(lambda db: org.ensure_org_settings(db, config.default_policy))
        await _check_secrets_key(store, config)
        await check_signing_key(app)
        await _ensure_admin(store, config)
        yield
    finally:
        # waits for the workers' batches, so every write they lead to is queued before the store closes
        await asyncio.get_running_loop().run_in_executor(None, parse_pool.close)
        await store.close()


def _load_reference_data() -> None:
    from shadowmap.detectors.catalog import load_catalog
    from shadowmap.detectors.vendors import load_vendors

    load_catalog()
    load_vendors()


async def _ensure_admin(store: Storage, config: CollectorConfig) -> None:
    """First run: create the admin account; a generated password is printed once."""
    if await store.read(accounts.count_accounts):
        return
    password = config.admin_password or secrets.token_urlsafe(18)
    password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
    created = await store.write(accounts.create_account, config.admin_username, password_hash)
    if created and not config.admin_password:
        print(
            f"shadowmap collector: created admin account {config.admin_username!r} "
            f"with password: {password}  (shown once; set {ADMIN_PASSWORD_ENV} to choose it)",
            flush=True,
        )
    elif created:
        log.info("created admin account %r", config.admin_username)
