"""The self-contained HTML report of a run, and of a comparison of two runs.

One file each, openable from disk with no network: CSS, script and SVG charts are inline, and a
Content-Security-Policy allows only that inline CSS and script (by hash), so nothing the page
shows can load or run anything else even if it got past the escaping.

Templates are rendered by Django's template engine used standalone (no settings needed) with
autoescaping on; every value they receive is a string formatted in Python, so a template never
computes or localises a number.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine
from django.utils.safestring import mark_safe

import perftoolkit
from perftoolkit.core.runs.compare import Comparison
from perftoolkit.core.runs.run import AuditRun
from perftoolkit.core.runs.targets import Targets
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.reporting.compare_view import compare_context
from perftoolkit.reporting.run_view import run_context
from perftoolkit.reporting.schema import write_text

HTML_FILE = "index.html"  # a report's page, beside its report.json (or compare.json)
TEMPLATES = Path(__file__).resolve().parent / "templates"
_ASSETS = TEMPLATES / "perftoolkit"

TargetsArg = Targets | Mapping[str, Any] | None


def render_run_html(run: AuditRun, *, targets: TargetsArg = None) -> str:
    """The HTML report of one run. `targets` defaults to `PERFTOOLKIT["TARGETS"]` when Django
    settings are configured, else to the built-in targets."""
    context = run_context(run, resolve_targets(targets))
    context["footer"] = "report.json schema " + run.schema
    return _render("perftoolkit/run.html", context)


def write_run_html(
    run: AuditRun, path: str | os.PathLike[str], *, targets: TargetsArg = None
) -> Path:
    """Render and write atomically; returns the path written."""
    return write_text(render_run_html(run, targets=targets), path)


def render_compare_html(
    comparison: Comparison, before: AuditRun, after: AuditRun, *, targets: TargetsArg = None
) -> str:
    """The HTML before/after report: regressions first, then what changed per endpoint."""
    context = compare_context(comparison, before, after, resolve_targets(targets))
    context["footer"] = "compare.json schema " + comparison.schema
    return _render("perftoolkit/compare.html", context)


def resolve_targets(targets: TargetsArg) -> Targets:
    if isinstance(targets, Targets):
        return targets
    value: object = targets
    source = 'the "targets" argument'
    if value is None:
        value, source = _configured_targets(), 'PERFTOOLKIT["TARGETS"]'
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f'{source} must be a dict such as {{"p95_ms": 500}}, not {type(value).__name__}.'
        )
    try:
        return Targets.from_dict(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"{source}: {exc}. Write it like "
            '{"p95_ms": 500, "queries": 5}; leave out a key to keep its default.'
        ) from None


def _configured_targets() -> object:
    # The CLI renders reports without Django settings; only read them when a project set them up.
    from django.conf import settings

    if not settings.configured:
        return {}
    from perftoolkit.conf import get_settings

    return get_settings().targets


@cache
def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATES)], autoescape=True, debug=False)


@cache
def _assets() -> tuple[str, str, str]:
    css = (_ASSETS / "report.css").read_text(encoding="utf-8")
    js = (_ASSETS / "report.js").read_text(encoding="utf-8")
    policy = (
        "default-src 'none'; "
        f"style-src '{_sha256(css)}'; script-src '{_sha256(js)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return css, js, policy


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _render(template: str, context: dict[str, Any]) -> str:
    css, js, policy = _assets()
    context.update(
        css=mark_safe(css),
        js=mark_safe(js),
        csp=policy,
        version=perftoolkit.__version__,
    )
    return _engine().get_template(template).render(Context(context, autoescape=True))
