"""Native host and browser facts (schema/host.v1.json), for Python: the host's name, the
extension's ids, where the agent listens, the offline default, where each browser looks for
host manifests and policies, and the limits two pieces share.

The JSON file is the one declaration; this module only reads it. Stdlib only and cheap to
import: the native host (started by the browser on every connectNative) reads it too.
"""
from __future__ import annotations

from typing import Any

from shadowmap.contract import read_json

HOST_FILE = "host.v1.json"
FACTS: dict[str, Any] = read_json(HOST_FILE)

# ---- the native host and the extension ---------------------------------------------------------
HOST_NAME: str = FACTS["native_host"]["name"]
HOST_DESCRIPTION: str = FACTS["native_host"]["description"]
LAUNCHER_NAME: str = FACTS["native_host"]["launcher"]
CHROMIUM_EXTENSION_ID: str = FACTS["extension"]["chromium_id"]
FIREFOX_ADDON_ID: str = FACTS["extension"]["firefox_id"]
FIREFOX_MIN_VERSION: str = FACTS["extension"]["firefox_min_version"]
# the vendors' tenant-restriction headers: policy key, header, hosts, how values are joined
TENANT_HEADERS: tuple[dict[str, Any], ...] = tuple(FACTS["tenant_restrictions"]["headers"])
# where a sign-in URL's first path segment is the Entra tenant: hosts, and the values that are not one
ENTRA_TENANT_IN_PATH: dict[str, Any] = {
    k: v for k, v in FACTS["tenant_restrictions"]["entra_tenant_in_path"].items() if k in ("hosts", "reserved")}

# ---- where the agent listens -------------------------------------------------------------------
_ADDRESS: dict[str, Any] = FACTS["agent_address"]
AGENT_SOCKET_ENV: str = _ADDRESS["env"]
RUNTIME_DIR_ENV: str = _ADDRESS["user_socket"]["runtime_dir_env"]
USER_SOCKET_RELATIVE: str = _ADDRESS["user_socket"]["relative_path"]   # under $XDG_RUNTIME_DIR
SYSTEM_SOCKETS: dict[str, str] = dict(_ADDRESS["system_socket"])       # platform -> path
PIPE_PREFIX: str = _ADDRESS["windows_pipe_prefix"]                     # \\.\pipe\
SYSTEM_PIPE: str = PIPE_PREFIX + _ADDRESS["windows_system_pipe"]
USER_PIPE_PREFIX: str = PIPE_PREFIX + _ADDRESS["windows_user_pipe_prefix"]  # + the user's SID

# ---- where an administrator's agent settings live (agent/managed.py reads, shadowmap.mdm writes) ----
_MANAGED: dict[str, Any] = FACTS["agent_managed_config"]
AGENT_CONFIG_ENV: str = _MANAGED["env"]
AGENT_CONFIG_LINUX_FILE: str = _MANAGED["linux_file"]
AGENT_CONFIG_MACOS_PLIST: str = _MANAGED["macos_plist"]
AGENT_POLICY_KEY: str = _MANAGED["windows_key"]   # under HKLM

# ---- what the extension does while the agent is down --------------------------------------------
AGENT_UNAVAILABLE_DEFAULT: str = FACTS["agent_unavailable_default"]
# the extension's managed storage as enterprise policies set it (keys of extension/managed_schema.json)
MANAGED_STORAGE_DEFAULTS: dict[str, Any] = {
    "onAgentUnavailable": AGENT_UNAVAILABLE_DEFAULT,
    **{key: value for key, value in FACTS["managed_storage_defaults"].items() if key != "description"},
}

# ---- limits shared by two pieces (units in the names) -------------------------------------------
_LIMITS: dict[str, Any] = FACTS["limits"]
MAX_TO_BROWSER: int = _LIMITS["to_browser_bytes"]
MAX_FROM_BROWSER: int = _LIMITS["from_browser_bytes"]
MAX_SCAN_TEXT: int = _LIMITS["scan_text_bytes"]
EXTENSION_TEXT_READ: int = _LIMITS["extension_text_read_bytes"]
MAX_FILES: int = _LIMITS["files_per_request"]
MAX_FILE_CONTENT: int = _LIMITS["file_content_bytes"]              # one file's bytes (before base64)
MAX_FILES_CONTENT: int = _LIMITS["file_content_total_bytes"]       # all files of one scan
MAX_JUSTIFICATION: int = _LIMITS["justification_chars"]
MAX_BROWSER_FIELD: int = _LIMITS["browser_field_chars"]
AGENT_CONNECT_TIMEOUT_S: float = _LIMITS["agent_connect_timeout_s"]
AGENT_REPLY_TIMEOUT_S: float = _LIMITS["agent_reply_timeout_s"]
EXTENSION_REPLY_TIMEOUT_S: float = _LIMITS["extension_reply_timeout_s"]
# the agent's IPC budgets (agent/ipc.py, agent/ipc_budget.py)
MAX_TO_AGENT: int = _LIMITS["agent_frame_bytes"]
AGENT_CONNECTIONS: int = _LIMITS["agent_connections"]
AGENT_CONNECTIONS_PER_USER: int = _LIMITS["agent_connections_per_user"]
AGENT_IDLE_TIMEOUT_S: float = _LIMITS["agent_idle_timeout_s"]
AGENT_BUFFER_BYTES: int = _LIMITS["agent_buffer_bytes"]
AGENT_BUFFER_BYTES_PER_USER: int = _LIMITS["agent_buffer_bytes_per_user"]

# ---- browsers ----------------------------------------------------------------------------------
PLATFORMS = ("linux", "macos", "windows")
SCOPES = ("user", "system")
_BROWSERS: dict[str, Any] = FACTS["browsers"]
BROWSERS: tuple[str, ...] = tuple(_BROWSERS)
CHROMIUM_FAMILY: tuple[str, ...] = tuple(b for b in BROWSERS if _BROWSERS[b]["family"] == "chromium")
# platform (linux, macos) -> browser -> scope -> folder ("~" is the user's home)
MANIFEST_DIRS: dict[str, dict[str, dict[str, str]]] = {
    platform: {browser: dict(facts["host_manifest_dirs"][platform]) for browser, facts in _BROWSERS.items()}
    for platform in ("linux", "macos")
}
# Windows: the key (under HKCU for a user, HKLM for the machine) whose subkey <host name> names the manifest
WINDOWS_HOST_KEYS: dict[str, str] = {b: facts["host_registry_key"] for b, facts in _BROWSERS.items()}
WINDOWS_HIVES: dict[str, str] = dict(FACTS["windows"]["registry_hives"])
# the agent's Windows service (agent/winservice.py, the MSI); the host trusts a pipe served by it
WINDOWS_SERVICE_NAME: str = FACTS["windows"]["service_name"]
# Windows keeps the manifest wherever the key says: ours live beside the launcher
WINDOWS_MANIFEST_DIRS: dict[str, str] = dict(FACTS["windows"]["host_manifest_dirs"])
# enterprise policy: Linux managed-policy folder (Chromium family), HKLM policy key, macOS preference domain
LINUX_POLICY_DIRS: dict[str, str] = {b: f["policy"]["linux_dir"] for b, f in _BROWSERS.items() if "linux_dir" in f["policy"]}
WINDOWS_POLICY_KEYS: dict[str, str] = {b: f["policy"]["windows_key"] for b, f in _BROWSERS.items()}
MACOS_POLICY_DOMAINS: dict[str, str] = {b: f["policy"]["macos_domain"] for b, f in _BROWSERS.items()}


def system_socket(platform: str) -> str:
    """The system agent's socket on linux or macos (Windows uses SYSTEM_PIPE)."""
    return SYSTEM_SOCKETS[platform]


def chromium_id_from_public_key(der: bytes) -> str:
    """The id Chromium gives an extension (the contract's chromium_id_rule): the first 32 hex
    digits of sha256(its DER public key), each digit 0-f written as a letter a-p."""
    import hashlib  # here, not at the top: the native host imports this module on every start

    return hashlib.sha256(der).hexdigest()[:32].translate(_HEX_TO_LETTER)


_HEX_TO_LETTER = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def chromium_origin(extension_id: str = CHROMIUM_EXTENSION_ID) -> str:
    """What Chrome passes the host as argv[1], and what a host manifest's allowed_origins lists."""
    return f"chrome-extension://{extension_id}/"


def platform_of(sys_platform: str) -> str:
    """linux, macos or windows for a `sys.platform` value; ValueError for any other OS."""
    if sys_platform.startswith("linux"):
        return "linux"
    if sys_platform == "darwin":
        return "macos"
    if sys_platform in ("win32", "cygwin"):
        return "windows"
    raise ValueError(f"unsupported platform {sys_platform!r}")
