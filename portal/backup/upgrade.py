"""Which migrations an in-place upgrade runs, named by their first line, for `flask portal upgrade`."""
from __future__ import annotations

from pathlib import Path


def pending_migrations(migrations_dir: Path, current: list[str]) -> list[tuple[str, str]]:
    """(revision, title) of each migration between `current` and head, oldest first."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir))
    script = ScriptDirectory.from_config(config)
    lower = current[0] if len(current) == 1 else None
    steps = list(script.iterate_revisions("heads", lower))
    return [(step.revision, (step.doc or "").strip().splitlines()[0] if step.doc else "")
            for step in reversed(steps)]
