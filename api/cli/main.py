"""``mm4m`` entry point: argument parsing and the registry commands.

Exit codes: 0 success; 1 the command ran but found a problem (unknown key, unhealthy plugins); 2 usage
error; 141 output pipe closed early (e.g. ``| head``). In strict mode plugin failures raise with a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_BROKEN_PIPE = 0, 1, 2, 141

EPILOG = """exit codes: 0 success, 1 a problem was found (unknown key, failing plugins, a plugin selection
that matches nothing), 2 usage error, 141 output closed early. Environment: MM4M_PLUGINS selects plugins
(e.g. 'no:mm4m-modality-det'), MM4M_STRICT_PLUGINS=1 makes plugin failures raise, MM4M_NO_CACHE=1 disables
the listing cache."""


def build_parser() -> argparse.ArgumentParser:
    from mm4m import __version__

    parser = argparse.ArgumentParser(
        prog="mm4m", description="Any-to-any multimodal masked modeling with pluggable modalities.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mm4m {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("list-modalities", help="list installed modalities (reads manifests only)")
    p.add_argument("--json", action="store_true", help="print every spec as JSON")
    p.set_defaults(run=cmd_list_modalities)
    p = sub.add_parser("info", help="show the full spec of one modality")
    p.add_argument("key", help="modality key, e.g. tok_depth@224")
    p.add_argument("--json", action="store_true", help="print the spec as JSON")
    p.set_defaults(run=cmd_info)
    p = sub.add_parser("plugins", help="load every plugin and show its status")
    p.add_argument("--json", action="store_true", help="print the statuses as JSON")
    p.set_defaults(run=cmd_plugins)
    p = sub.add_parser("doctor", help="check the environment and the health of every plugin")
    p.set_defaults(run=cmd_doctor)
    from mm4m.cli.tokenizer import add_parser as add_tokenizer_parser

    add_tokenizer_parser(sub)
    from mm4m.cli.data import add_parser as add_data_parser
    from mm4m.cli.demo import add_parser as add_demo_parser
    from mm4m.cli.generate import add_parser as add_generate_parser
    from mm4m.cli.retrieve import add_parser as add_retrieve_parser
    from mm4m.cli.tokenize import add_parser as add_tokenize_parser
    from mm4m.cli.train import add_parser as add_train_parser

    add_tokenize_parser(sub)
    add_generate_parser(sub)
    add_retrieve_parser(sub)
    add_data_parser(sub)
    add_train_parser(sub)
    add_demo_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - errors of ours become one line, not a traceback
        from mm4m.cli.output import warn
        from mm4m.core.spec import SpecError
        from mm4m.registry.errors import RegistryError
        from mm4m.registry.settings import strict_mode

        if isinstance(exc, RegistryError | SpecError) and not strict_mode():
            warn(str(exc))
            return EXIT_PROBLEM
        raise


def _report(problems, selection_problem: str | None) -> None:
    """One line for a plugin selection that matches nothing, then one per plugin failure."""
    from mm4m.cli.output import warn

    if selection_problem:
        warn(selection_problem)
    for problem in problems:
        warn(f"plugin failed: {problem}")


def _io(spec: dict) -> str:
    return ",".join(side for side, on in (("in", spec["can_be_input"]), ("out", spec["can_be_target"])) if on)


def cmd_list_modalities(args) -> int:
    from mm4m.cli.output import print_json, print_table
    from mm4m.registry.catalog import load_catalog

    catalog = load_catalog()
    entries = [catalog.entries[k] for k in sorted(catalog.entries)]
    if args.json:
        print_json([{**e.spec, "plugin": e.plugin, "distribution": e.distribution, "version": e.version}
                    for e in entries])
    else:
        rows = [(e.key, e.spec["kind"], e.spec["vocab_size"] or "-", e.spec["max_tokens"], _io(e.spec),
                 e.spec["decoding"] or "-", f"{e.distribution} {e.version}") for e in entries]
        print_table(["key", "kind", "vocab", "max tokens", "in/out", "decoding", "plugin"], rows,
                    title=f"{len(rows)} modalities")
    _report(catalog.problems, catalog.selection_problem)
    return EXIT_OK


def cmd_info(args) -> int:
    from mm4m.cli.output import print_json, print_table
    from mm4m.registry.catalog import load_catalog

    catalog = load_catalog()
    _report([], catalog.selection_problem)
    entry = catalog.entries.get(args.key)
    if entry is None:
        from mm4m.registry.registry import Registry

        raise Registry(catalog)._unknown(args.key)
    data = {**entry.spec, "plugin": entry.plugin, "distribution": entry.distribution, "version": entry.version}
    if args.json:
        print_json(data)
    else:
        rows = [(field, _flat(value)) for field, value in data.items()]
        print_table(["field", "value"], rows, title=args.key)
    return EXIT_OK


def _flat(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "(" + ", ".join(_flat(v) for v in value) + ")"
    return "-" if value is None else str(value)


def _plugin_rows(registry) -> list[dict]:
    return [{"name": plugin.name, "distribution": plugin.distribution, "version": plugin.version,
             "status": plugin.status, "keys": list(plugin.keys),
             "errors": [f"[{p.stage}] {p.message}" for p in plugin.problems]} for plugin in registry.plugins]


def cmd_plugins(args) -> int:
    from mm4m.cli.output import print_json, print_table
    from mm4m.registry.registry import Registry

    registry = Registry()
    registry.load_all()
    rows = _plugin_rows(registry)
    if args.json:
        print_json(rows)
    else:
        print_table(["distribution", "version", "status", "modalities", "error"],
                    [(r["distribution"], r["version"], r["status"], " ".join(r["keys"]), "; ".join(r["errors"]))
                     for r in rows], title=f"{len(rows)} plugins")
    _report([], registry.selection_problem)
    return EXIT_PROBLEM if registry.selection_problem or any(r["errors"] for r in rows) else EXIT_OK


def cmd_doctor(args) -> int:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from mm4m import __version__
    from mm4m.cli.output import print_table
    from mm4m.registry import settings
    from mm4m.registry.registry import Registry
    from mm4m.registry.version import PLUGIN_API_VERSION

    def dist_version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    registry = Registry()
    problems = registry.load_all()
    selection, selection_problem = os.environ.get(settings.SELECT_ENV), registry.selection_problem
    rows = [("python", platform.python_version()), ("mm4m", __version__), ("plugin API", PLUGIN_API_VERSION)]
    rows += [(name, dist_version(name)) for name in ("torch", "pydantic", "pluggy", "safetensors", "rich")]
    cache = settings.cache_dir()
    rows += [("listing cache", str(cache) if cache else "disabled"),
             ("strict plugins", "on" if settings.strict_mode() else "off"),
             ("plugin selection", "all" if selection is None else repr(selection)),
             ("plugins", ", ".join(f"{sum(p.status == s for p in registry.plugins)} {s}"
                                   for s in ("ok", "conflict", "failed", "disabled"))),
             ("modalities", _modality_count(registry)),
             ("problems", str(len(problems) + bool(selection_problem)))]
    print_table(["check", "value"], rows, title="mm4m doctor")
    _report(problems, selection_problem)
    return EXIT_PROBLEM if problems or selection_problem else EXIT_OK


def _modality_count(registry) -> str:
    """How many keys are usable, and which are listed but unusable because their plugin failed."""
    keys, unavailable = registry.keys(), registry.unavailable_keys()
    if not unavailable:
        return str(len(keys))
    return (f"{len(keys) - len(unavailable)} available, {len(unavailable)} unavailable "
            f"(plugin failed: {', '.join(unavailable)})")


if __name__ == "__main__":
    raise SystemExit(main())
