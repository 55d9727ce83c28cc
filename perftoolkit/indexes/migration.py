"""Verified index advice → a migration file with `AddIndex` operations, plus the `Meta.indexes`
entries to add so the models say the same (otherwise the next `makemigrations` removes them).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connections, migrations, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.writer import MigrationWriter
from django.db.models import Model

from perftoolkit.core.findings import IndexAdvice
from perftoolkit.core.indexes.advice import column_name
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.reporting.outputs import check_output_dir

MIGRATION_SUFFIX = "perftoolkit_indexes"


@dataclass(frozen=True, slots=True)
class ModelIndexes:
    """What to add to one model's `Meta.indexes`."""

    model: str  # app_label.ModelName
    source: str  # the file the model is defined in, relative when possible
    entries: tuple[str, ...]  # `models.Index(fields=[…], name="…")`


@dataclass(frozen=True, slots=True)
class WrittenMigration:
    path: Path
    name: str
    dependencies: tuple[tuple[str, str], ...]
    models: tuple[ModelIndexes, ...]


def _index_for(model: type[Model], advice: IndexAdvice) -> models.Index:
    by_column = {f.column: f.name for f in model._meta.concrete_fields}
    fields = []
    for column in advice.columns:
        name = by_column.get(column_name(column))
        if name is None:
            raise ConfigurationError(
                f"{model._meta.label} has no field for column {column_name(column)!r} of the "
                f"advised index {advice.name}; the report is older than the models. Run the "
                "advice again."
            )
        fields.append(("-" if column.startswith("-") else "") + name)
    return models.Index(fields=fields, name=advice.name)


def index_source(index: models.Index) -> str:
    fields = ", ".join(f'"{f}"' for f in index.fields)
    return f'models.Index(fields=[{fields}], name="{index.name}")'


def check_migration_target(app_label: str) -> None:
    """Before any advice is computed: `--write-migration APP_LABEL` names an installed app whose
    migrations directory can be written."""
    try:
        apps.get_app_config(app_label)
    except LookupError:
        raise ConfigurationError(
            f"--write-migration {app_label}: there is no installed app with that label "
            f"(installed: {', '.join(sorted(a.label for a in apps.get_app_configs()))})."
        ) from None
    package, _ = MigrationLoader.migrations_module(app_label)
    try:
        module = importlib.import_module(package) if package else None
    except ImportError:
        return  # no migrations package: write_index_migration says what to do
    for directory in getattr(module, "__path__", ()):
        check_output_dir(directory, f"--write-migration {app_label}")


def write_index_migration(
    advice: Sequence[IndexAdvice], app_label: str, *, database: str = "default"
) -> WrittenMigration | None:
    """Write `<app>/migrations/NNNN_perftoolkit_indexes.py` with the app's verified indexes.

    None when no verified index belongs to a model of `app_label`.
    """
    try:
        app = apps.get_app_config(app_label)
    except LookupError:
        raise ConfigurationError(
            f"--write-migration {app_label}: there is no installed app with that label "
            f"(installed: {', '.join(sorted(a.label for a in apps.get_app_configs()))})."
        ) from None
    chosen = [
        a
        for a in advice
        if a.status == "verified" and a.model and a.model.startswith(f"{app_label}.")
    ]
    if not chosen:
        return None
    loader = MigrationLoader(connections[database], ignore_no_migrations=True)
    leaves = loader.graph.leaf_nodes(app_label)
    if not leaves:
        raise ConfigurationError(
            f"App {app_label!r} has no migrations yet, so an index migration has nothing to "
            f"follow. Run `manage.py makemigrations {app_label}` first."
        )
    number = max(MigrationAutodetector.parse_number(name) or 0 for _, name in leaves) + 1
    per_model: dict[type[Model], list[models.Index]] = {}
    operations: list[migrations.AddIndex] = []
    for item in chosen:
        assert item.model is not None
        model = app.get_model(item.model.rpartition(".")[2])
        index = _index_for(model, item)
        per_model.setdefault(model, []).append(index)
        operations.append(migrations.AddIndex(model_name=model._meta.model_name or "", index=index))
    # The shape Django's own autodetector gives the migrations it writes.
    subclass = type(
        "Migration",
        (migrations.Migration,),
        {"dependencies": sorted(leaves), "operations": operations},
    )
    migration = subclass(f"{number:04d}_{MIGRATION_SUFFIX}", app_label)
    writer = MigrationWriter(migration, include_header=True)
    path = Path(writer.path)
    if path.exists():
        raise ConfigurationError(
            f"{path} exists already. Apply or remove it before writing another index migration."
        )
    path.write_text(writer.as_string(), encoding="utf-8")
    return WrittenMigration(
        path=path,
        name=migration.name,
        dependencies=tuple(leaves),
        models=tuple(
            ModelIndexes(
                model=model._meta.label,
                source=_source_file(model),
                entries=tuple(index_source(i) for i in indexes),
            )
            for model, indexes in per_model.items()
        ),
    )


def _source_file(model: type[Model]) -> str:
    try:
        source = Path(inspect.getfile(model)).resolve()
    except (TypeError, OSError):
        return ""
    try:
        return str(source.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(source)


def describe_migration(written: WrittenMigration | None, app_label: str) -> str:
    """What was written and what to add to the models, for the terminal."""
    if written is None:
        return f"No verified index belongs to a model of {app_label!r}: no migration written.\n"
    after = ", ".join(f"{app}.{name}" for app, name in written.dependencies)
    count = sum(len(m.entries) for m in written.models)
    lines = [
        f"Wrote {written.path} (after {after}): {count} AddIndex.",
        "Add the same indexes to the models' Meta.indexes, or the next makemigrations removes them:",
    ]
    for item in written.models:
        where = f" ({item.source})" if item.source else ""
        lines.append(f"  {item.model}{where}, class Meta:")
        lines.append(f"      indexes = [{', '.join(item.entries)}]")
    return "\n".join(lines) + "\n"
