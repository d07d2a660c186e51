"""Which package or image an MCP server's launcher runs: ``npx -y @scope/pkg``,
``uvx --python 3.12 mcp-server-x``, ``pipx run --spec pkg app``, ``docker run -i --rm -e K=V
image``, ``bunx``, ``pnpm dlx``, ``deno run npm:pkg``, ``python -m module``, ``node
.../node_modules/@scope/pkg/dist/index.js``, and Windows' ``cmd /c npx ...``.

Each launcher's grammar is data: the words that come before the package, the options that
take a value (their value is never the package), and the options whose value *is* the
package. Option values and URLs are never returned: that is where tokens live."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

_PACKAGE = re.compile(r"^[@A-Za-z0-9][@A-Za-z0-9._/:+-]{0,199}$")
# a Python requirement as --from/--spec take it: name[extras]==1.4 (PEP 508, no URL)
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\[[A-Za-z0-9,._-]{1,100}\])?"
                          r"((===?|[<>!~]=|[<>])[A-Za-z0-9.*+!-]{1,40},?){0,4}$")


@dataclass(frozen=True)
class Launcher:
    subcommands: frozenset[str] = frozenset()      # skipped before the package (run, dlx, tool)
    value_options: frozenset[str] = frozenset()    # take the next argument, which is not the package
    package_options: frozenset[str] = frozenset()  # take the next argument, which IS the package
    scripts: bool = False                          # runs a script: the package is the node_modules one


def _launcher(subcommands: str = "", values: str = "", packages: str = "", scripts: bool = False) -> Launcher:
    return Launcher(frozenset(subcommands.split()), frozenset(values.split()), frozenset(packages.split()), scripts)


_UV_VALUES = ("--python -p --with --with-editable --with-requirements --index --index-url -i --extra-index-url "
              "--default-index --find-links -f --cache-dir --directory --project --config-file --constraints "
              "-c --overrides --python-preference --index-strategy --keyring-provider --exclude-newer "
              "--refresh-package --reinstall-package --upgrade-package -P --env-file --color "
              "--allow-insecure-host --resolution --prerelease --build-constraints -b")
_DOCKER_VALUES = ("-e --env --env-file -v --volume --mount --name --network --net -p --publish -u --user "
                  "-w --workdir --entrypoint --platform -l --label --label-file --pull --add-host -m --memory "
                  "--cpus --cpu-shares -h --hostname --device --cap-add --cap-drop --log-driver --log-opt "
                  "--restart --security-opt --tmpfs --ulimit --dns --ipc --pid --runtime --shm-size "
                  "--stop-signal --gpus --cidfile -a --attach --expose --group-add --userns "
                  "--context -H --host --config --log-level")
_NPX_VALUES = "--cache --userconfig -c --call --node-options --registry -w --workspace --prefix"

LAUNCHERS: dict[str, Launcher] = {
    "npx": _launcher(values=_NPX_VALUES, packages="-p --package"),
    "bunx": _launcher(values="--cwd --registry", packages="-p --package"),
    "pnpm": _launcher("dlx exec", "--dir -C --filter --reporter --registry", "--package"),
    "yarn": _launcher("dlx", "--cwd", "-p --package"),
    "uvx": _launcher(values=_UV_VALUES, packages="--from"),
    "uv": _launcher("tool run x", _UV_VALUES, "--from"),
    "pipx": _launcher("run", "--python --pip-args --index-url -i", "--spec"),
    "docker": _launcher("run container", _DOCKER_VALUES),
    "podman": _launcher("run container", _DOCKER_VALUES),
    "deno": _launcher("run", "--config -c --import-map --lock --cert --location --seed --v8-flags --env-file"),
    "node": _launcher(values="-r --require --import --loader --experimental-loader --env-file", scripts=True),
    "bun": _launcher("run x", "--cwd --env-file -r --preload", scripts=True),
    "python": _launcher(values="-W -X", packages="-m"),
}
ALIASES = {"python3": "python", "py": "python", "nodejs": "node", "pnpx": "npx", "bunx.exe": "bunx"}
LOCAL_SCRIPTS = (".py", ".js", ".mjs", ".cjs", ".ts")
SHELLS = {"cmd": "/c", "cmd.exe": "/c"}             # Windows configs: cmd /c npx -y pkg


def launcher_name(command: str) -> str:
    name = os.path.basename(command.replace("\\", "/")).lower().removesuffix(".exe").removesuffix(".cmd")
    name = re.sub(r"^(python)3(\.\d+)?$", r"\1", name)
    return ALIASES.get(name, name)


def _acceptable(value: str) -> str | None:
    return value if "://" not in value and _PACKAGE.match(value) else None


def npm_package_of_script(path: str) -> str | None:
    """``@scope/pkg`` or ``pkg`` when a script lives inside node_modules, else None."""
    parts = path.replace("\\", "/").split("/")
    if "node_modules" not in parts:
        return None
    at = len(parts) - 1 - parts[::-1].index("node_modules")       # the innermost package
    rest = parts[at + 1:]
    if len(rest) >= 2 and rest[0].startswith("@"):
        return _acceptable(f"{rest[0]}/{rest[1]}")
    return _acceptable(rest[0]) if len(rest) >= 2 else None


def package_of(command: str, args: list[str]) -> str | None:
    """The package, module or image a launcher runs; None for anything else."""
    name = launcher_name(command)
    if name in SHELLS and args and args[0].lower() == SHELLS[name] and len(args) > 1:
        return package_of(args[1], args[2:])
    launcher = LAUNCHERS.get(name)
    return None if launcher is None else _package_in(launcher, args)


def _package_in(launcher: Launcher, args: list[str]) -> str | None:
    """The package in a launcher's arguments: the value of a package option, or the first
    word that is neither an option, an option's value nor a subcommand."""
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--" or arg in launcher.subcommands:
            continue
        if arg.startswith("-"):
            package, i = _option(launcher, arg, args, i)
            if package is not None:
                return package
            continue
        if launcher.scripts:
            return npm_package_of_script(arg)
        if "=" in arg:                      # K=V where an option's value was expected
            continue
        if arg.lower().endswith(LOCAL_SCRIPTS):
            return None                     # `uv run server.py`: a local script, not a package
        return _acceptable(arg)
    return None


def _option(launcher: Launcher, arg: str, args: list[str], i: int) -> tuple[str | None, int]:
    """(the package an option names, if it is a package option; the index of the next
    argument, past the option's value when it takes one). ``args[i]`` follows ``arg``."""
    option, has_value, inline = arg.partition("=")
    if option in launcher.package_options:
        value = inline if has_value else (args[i] if i < len(args) else "")
        i += 0 if has_value else 1
        return (value if _acceptable(value) or _REQUIREMENT.match(value) else None), i
    if option in launcher.value_options and not has_value:
        return None, i + 1                  # its value (an env pair, a Python version...) is skipped
    return None, i
