"""``praisonai-persistence backends``: every registered backend, built-in and plugin, as a table or JSON."""

from __future__ import annotations

import json

from ._status import EXIT_OK

__all__ = ["backends"]


def backends(kind: str | None, as_json: bool) -> int:
    import warnings

    from ..registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES

    rows = []
    with warnings.catch_warnings():
        # A broken plugin is listed below with its error; the discovery warning would say it twice.
        warnings.simplefilter("ignore")
        for registry in (CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES, EMBEDDERS):
            if kind is None or registry.kind == kind:
                rows.extend(registry.describe_all())
    if as_json:
        print(json.dumps([info._asdict() for info in rows], indent=2))
        return EXIT_OK
    table = [("KIND", "NAME", "ALIASES", "SOURCE", "EXTRA", "DRIVER", "TIER")]
    errors: dict[int, str] = {}
    for info in rows:
        source = f"plugin:{info.distribution}" if info.source == "entry_point" else info.source
        driver = {True: "installed", False: "missing", None: "-"}[info.driver_installed]
        extra = info.extra or ("-" if info.source != "builtin" else "(core)")
        if info.error:
            errors[len(table)] = info.error
            driver = "BROKEN"
        table.append((info.kind, info.name, ", ".join(info.aliases) or "-", source, extra, driver, info.tier or "-"))
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    for index, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index in errors:
            print(f"    error: {errors[index]}")
    return EXIT_OK
