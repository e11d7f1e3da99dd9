"""`cchc-bot backup --out FILE.tar.gz` and `cchc-bot restore FILE.tar.gz [--force]`: the database and
every evidence file in one archive (see bot/services/backup.py for its layout).

Neither command checks the schema revision: a backup is what you take before `db upgrade`, and a
restored older backup is brought up to date with `cchc-bot db upgrade` afterwards.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import CliError, print_json
from bot.cli._common import command, database_url
from bot.config import load_settings
from bot.db.migrate import head_revision
from bot.services.backup import BackupError, create_backup, restore_backup


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _counts_line(counts: dict[str, Any]) -> str:
    return (
        f"{counts['units']} units, {counts['people']} people, {counts['assessments']} assessments, "
        f"{counts['item_scores']} item scores, {counts['evidence_rows']} evidence rows"
    )


async def _backup(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        result = await create_backup(database_url(args), load_settings().evidence_dir, out)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    manifest = result.manifest
    if args.json:
        print_json(manifest)
        return 0
    counts = manifest["counts"]
    print(f"{result.path} ({_size(result.size)})")
    print(f"database: {manifest['database']['kind']}, revision {manifest['alembic_revision'] or 'none'}")
    print(_counts_line(counts))
    print(f"evidence: {counts['evidence_files']} files, {_size(counts['evidence_bytes'])}")
    if manifest["missing_evidence"]:
        print(f"warning: {len(manifest['missing_evidence'])} evidence rows point at files that do not exist")
    if manifest["outside_evidence_dir"]:
        print(
            f"warning: {len(manifest['outside_evidence_dir'])} evidence rows point outside "
            f"{manifest['evidence_dir']}: those files are not in the archive"
        )
    return 0


async def _restore(args: argparse.Namespace) -> int:
    url = database_url(args)
    try:
        result = await restore_backup(Path(args.archive), url, load_settings().evidence_dir, force=args.force)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    manifest = result.manifest
    revision, head = manifest["alembic_revision"], head_revision()
    if args.json:
        print_json(
            {
                "database": result.database,
                "evidence_dir": str(result.evidence_dir),
                "files_written": result.files_written,
                "upgrade_needed": revision != head,
                "manifest": manifest,
            }
        )
        return 0
    counts = manifest["counts"]
    print(f"restored the backup of {manifest['created_at']} (cchc-bot {manifest['cchc_bot_version']})")
    print(f"database ({manifest['database']['kind']}): {result.database}: {_counts_line(counts)}")
    print(
        f"evidence: {counts['evidence_files']} files, {_size(counts['evidence_bytes'])} "
        f"({result.files_written} written) under {result.evidence_dir}"
    )
    if revision != head:
        print(
            f"schema revision {revision or 'none'}, this version needs {head}: run `cchc-bot db upgrade` now"
        )
    else:
        print(
            f"schema revision {revision}: current (an older backup needs `cchc-bot db upgrade` after restore)"
        )
    return 0


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup", help="write the database and every evidence file to one .tar.gz (the bot may run)"
    )
    backup.add_argument("--out", required=True, metavar="FILE.tar.gz", help="the archive to write")
    command(backup, _backup, json=True, db=True)
    restore = subparsers.add_parser(
        "restore", help="restore a backup archive (verified first; stop the bot before restoring)"
    )
    restore.add_argument("archive", metavar="FILE.tar.gz")
    restore.add_argument(
        "--force", action="store_true", help="replace a database with data and overwrite evidence files"
    )
    command(restore, _restore, json=True, db=True)
