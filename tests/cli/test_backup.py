"""`cchc-bot backup` / `cchc-bot restore` on the demo province with evidence files: the manifest is right,
a round trip gives the same ranking and the same bytes, a damaged archive or a non-empty target is
refused without writing anything. PostgreSQL (pg_dump/pg_restore) when the server answers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import Assessment, Evidence, ItemScore, Period, Unit
from bot.services.evidence import safe_name, store_bytes
from tests.cli.conftest import Run

EVIDENCE = Path("var/evidence")  # the default CCHC_EVIDENCE_DIR, relative to the test's cwd
FILES = [
    ("uid-a1", "Báo cáo CCHC 2026.pdf", b"%PDF-1.7 report " * 500),
    ("uid-b2", "ảnh hội nghị.jpg", bytes(range(256)) * 40),
    ("uid-c3", "ke-hoach.docx", b"PK\x03\x04 plan"),
]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _add_evidence(url: str) -> dict[str, str]:
    """Three evidence rows on three demo items, their files written where the rows point (as the bot
    writes them: CCHC_EVIDENCE_DIR/<year>/<unit>/<item>/<uid>_<name>). Returns stored_path -> sha256."""
    engine = make_engine(url)
    written: dict[str, str] = {}
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.execute(
                    select(ItemScore.id, ItemScore.item_code, Unit.code, Period.year)
                    .join(Assessment, Assessment.id == ItemScore.assessment_id)
                    .join(Unit, Unit.id == Assessment.unit_id)
                    .join(Period, Period.id == Assessment.period_id)
                    .order_by(ItemScore.id)
                    .limit(len(FILES))
                )
            ).all()
            for (item_id, code, unit_code, year), (uid, name, data) in zip(rows, FILES, strict=True):
                # as bot.services.evidence.item_dir(CCHC_EVIDENCE_DIR, sheet, code) lays it out
                directory = EVIDENCE / str(year) / safe_name(unit_code, "unit") / safe_name(code, "item")
                stored = store_bytes(directory, uid, name, data)
                session.add(
                    Evidence(
                        item_score_id=item_id,
                        file_id=f"file-{uid}",
                        file_unique_id=uid,
                        file_name=name,
                        mime_type="application/octet-stream",
                        size=stored.size,
                        sha256=stored.sha256,
                        stored_path=str(stored.path),
                    )
                )
                written[str(stored.path)] = stored.sha256
            await session.commit()
    finally:
        await engine.dispose()
    return written


def add_evidence(url: str) -> dict[str, str]:
    written = asyncio.run(_add_evidence(url))
    orphan = EVIDENCE / "2026" / "orphan.txt"  # a file no row points at is kept too
    orphan.write_bytes(b"kept anyway")
    written[str(orphan)] = sha(b"kept anyway")
    return written


def tree(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): sha(p.read_bytes())
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def sqlite_counts(url: str) -> dict[str, int]:
    connection = sqlite3.connect(make_url(url).database or "")
    try:
        tables = {
            "units": "units",
            "people": "people",
            "assessments": "assessments",
            "item_scores": "item_scores",
            "evidence_rows": "evidence",
        }
        return {k: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for k, t in tables.items()}
    finally:
        connection.close()


def wipe_sqlite(url: str) -> None:
    path = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(EVIDENCE, ignore_errors=True)


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        out = {}
        for info in tar:
            fp = tar.extractfile(info)
            assert fp is not None
            out[info.name] = fp.read()
        return out


def rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """A copy of the archive with some members' bytes replaced (the manifest left as it was)."""
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members(archive).items():
            data = change.get(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def seeded(cli_db: str, run: Run) -> dict[str, Any]:
    code, _, err = run("demo", "seed")
    assert code == 0, err
    evidence = add_evidence(cli_db)
    code, ranking, err = run("rank", "--json")
    assert code == 0, err
    return {"url": cli_db, "evidence": evidence, "rank": ranking}


def test_round_trip_sqlite(seeded: dict[str, Any], run: Run, tmp_path: Path) -> None:
    url = seeded["url"]
    archive = tmp_path / "out" / "cchc-backup.tar.gz"
    archive.parent.mkdir()
    code, out, err = run("backup", "--out", str(archive), "--json")
    assert code == 0, err
    manifest = json.loads(out)

    # manifest: what the database and the evidence directory hold
    assert manifest["database"] == {"kind": "sqlite", "file": "database.sqlite3"}
    assert manifest["alembic_revision"] == "0001"
    assert manifest["created_at"].endswith("Z")
    assert manifest["cchc_bot_version"]
    counts = manifest["counts"]
    assert {k: counts[k] for k in sqlite_counts(url)} == sqlite_counts(url)
    assert counts["evidence_rows"] == len(FILES) and counts["units"] > 0 and counts["item_scores"] > 0
    assert counts["evidence_files"] == len(FILES) + 1
    assert counts["evidence_bytes"] == sum(len(data) for _, _, data in FILES) + len(b"kept anyway")
    assert counts["total_bytes"] == sum(f["size"] for f in manifest["files"].values())
    assert manifest["missing_evidence"] == [] and manifest["outside_evidence_dir"] == []
    assert sorted(p for paths in manifest["evidence_targets"].values() for p in paths) == sorted(
        p for p in seeded["evidence"] if "orphan" not in p
    )
    # every file of the archive is in the manifest with its sha256, and nothing else
    inside = members(archive)
    assert next(iter(inside)) == "manifest.json"
    assert json.loads(inside.pop("manifest.json")) == manifest
    assert {name: sha(data) for name, data in inside.items()} == {
        name: f["sha256"] for name, f in manifest["files"].items()
    }
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temp file left behind

    # the text output names the archive, its size and the counts
    code, out, err = run("backup", "--out", str(archive))
    assert code == 0, err
    assert out.startswith(f"{archive} (") and f"{counts['units']} units" in out and "evidence: 4 files" in out

    before = tree(EVIDENCE)
    wipe_sqlite(url)
    code, out, err = run("restore", str(archive))
    assert code == 0, err
    assert "cchc-bot db upgrade" in out and f"{counts['units']} units" in out

    code, ranking, err = run("rank", "--json")
    assert code == 0, err
    assert ranking == seeded["rank"]
    assert sqlite_counts(url) == {k: counts[k] for k in sqlite_counts(url)}
    assert tree(EVIDENCE) == before
    for stored_path, digest in seeded["evidence"].items():  # where the rows point, same bytes
        assert sha(Path(stored_path).read_bytes()) == digest


def test_damaged_archive_is_refused_and_nothing_written(
    seeded: dict[str, Any], run: Run, tmp_path: Path
) -> None:
    url = seeded["url"]
    archive = tmp_path / "b.tar.gz"
    assert run("backup", "--out", str(archive))[0] == 0
    victim = next(name for name in members(archive) if name.endswith(".pdf"))
    damaged = tmp_path / "damaged.tar.gz"
    rewrite(archive, damaged, {victim: b"tampered"})
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    no_db = tmp_path / "no-db.tar.gz"
    with tarfile.open(no_db, "w:gz") as tar:
        for name, data in members(archive).items():
            if name != "database.sqlite3":
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    wipe_sqlite(url)
    db_path = Path(make_url(url).database or "")
    for bad, expected in [
        (damaged, f"{victim} does not match its sha256"),
        (truncated, "truncated.tar.gz"),
        (no_db, "database.sqlite3 is missing"),
    ]:
        for force in ([], ["--force"]):
            code, out, err = run("restore", str(bad), *force)
            assert code == 1
            assert out == ""
            assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
            assert not db_path.exists() and not EVIDENCE.exists()
            assert not list(db_path.parent.glob("*.part"))


def test_restore_onto_data_needs_force(seeded: dict[str, Any], run: Run, tmp_path: Path) -> None:
    url = seeded["url"]
    archive = tmp_path / "b.tar.gz"
    assert run("backup", "--out", str(archive))[0] == 0
    db_path = Path(make_url(url).database or "")
    db_before = sha(db_path.read_bytes())

    code, out, err = run("restore", str(archive))
    assert code == 1 and out == ""
    assert "database is not empty" in err and "--force" in err and err.count("\n") == 1
    assert sha(db_path.read_bytes()) == db_before

    # an empty database but evidence files already there: refused as well
    db_path.unlink()
    code, _, err = run("restore", str(archive))
    assert code == 1 and "evidence directory" in err and "--force" in err
    assert not db_path.exists()

    # --force replaces both; the ranking is the same
    (EVIDENCE / "2026" / "orphan.txt").write_bytes(b"changed since")
    code, out, err = run("restore", str(archive), "--force")
    assert code == 0, err
    assert (EVIDENCE / "2026" / "orphan.txt").read_bytes() == b"kept anyway"
    code, ranking, _ = run("rank", "--json")
    assert ranking == seeded["rank"]


def test_backup_refusals(cli_db: str, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("backup", "--out", str(tmp_path / "missing-dir" / "b.tar.gz"))
    assert code == 1 and "no such directory" in err
    code, _, err = run(
        "backup", "--out", "b.tar.gz", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}"
    )
    assert code == 1 and "no SQLite database" in err
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump
    code, _, err = run(
        "backup", "--out", "b.tar.gz", "--database-url", "postgresql+asyncpg://u@127.0.0.1:1/x"
    )
    assert code == 1 and err.count("\n") == 1 and "pg_dump is needed" in err
    assert not list(tmp_path.glob("*.tar.gz"))


@pytest.mark.postgres
def test_round_trip_postgres(
    request: pytest.FixtureRequest, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore (PostgreSQL client tools) are not on PATH")
    server = request.getfixturevalue("pg_server")  # skips when PostgreSQL does not answer
    source = server.new_database("backup")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("demo", "seed", "--database-url", source)
    assert code == 0, err
    evidence = add_evidence(source)
    code, ranking, err = run("rank", "--json", "--database-url", source)
    assert code == 0, err

    archive = tmp_path / "pg.tar.gz"
    code, out, err = run("backup", "--out", str(archive), "--database-url", source, "--json")
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["database"] == {"kind": "postgresql", "file": "database.pgdump"}
    assert manifest["counts"]["evidence_rows"] == len(FILES)
    assert manifest["counts"]["evidence_files"] == len(FILES) + 1
    assert manifest["alembic_revision"] == "0001"

    # into a new, empty database (no tables at all)
    target = server.new_database("restore")
    shutil.rmtree(EVIDENCE)
    code, out, err = run("restore", str(archive), "--database-url", target)
    assert code == 0, err
    assert run("rank", "--json", "--database-url", target)[1] == ranking
    for stored_path, digest in evidence.items():
        assert sha(Path(stored_path).read_bytes()) == digest

    # onto the same database again: refused, then replaced with --force
    code, _, err = run("restore", str(archive), "--database-url", target)
    assert code == 1 and "not empty" in err
    code, _, err = run("restore", str(archive), "--database-url", target, "--force")
    assert code == 0, err
    assert run("rank", "--json", "--database-url", target)[1] == ranking

    async def evidence_rows() -> int:
        engine = make_engine(target)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count()).select_from(Evidence)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(evidence_rows()) == len(FILES)


def test_backup_of_a_live_wal_database(seeded: dict[str, Any], run: Run, tmp_path: Path) -> None:
    """The bot may be running: committed changes still in the WAL are in the copy, a transaction
    still open is not, and the copy is one self-contained file."""
    db_path = Path(make_url(seeded["url"]).database or "")
    live = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert live.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        live.execute("PRAGMA wal_autocheckpoint=0")
        live.execute("UPDATE units SET name = 'Committed in WAL' WHERE id = 1")
        live.execute("BEGIN IMMEDIATE")
        live.execute("UPDATE units SET name = 'Not committed' WHERE id = 2")
        assert Path(f"{db_path}-wal").stat().st_size > 0
        archive = tmp_path / "live.tar.gz"
        code, _, err = run("backup", "--out", str(archive))
        assert code == 0, err
        live.execute("ROLLBACK")
    finally:
        live.close()
    copy = tmp_path / "copy.sqlite3"
    data = members(archive)["database.sqlite3"]
    assert data[18:20] == b"\x01\x01"  # rollback-journal mode: no WAL needed next to it
    copy.write_bytes(data)
    check = sqlite3.connect(copy)
    try:
        names = dict(check.execute("SELECT id, name FROM units WHERE id IN (1, 2)").fetchall())
    finally:
        check.close()
    assert names[1] == "Committed in WAL" and names[2] != "Not committed"


def craft(
    archive: Path, target: Path, manifest_change: Any, extra: list[tarfile.TarInfo | tuple[str, bytes]]
) -> None:
    """A copy of a real archive with extra members and a changed manifest whose hashes are recomputed,
    as an attacker who can hand an operator a file would make it."""
    inside = members(archive)
    manifest = json.loads(inside.pop("manifest.json"))
    added: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for item in extra:
        if isinstance(item, tarfile.TarInfo):
            added.append((item, None))
            manifest["files"][item.name] = {"sha256": sha(b""), "size": 0}
        else:
            name, data = item
            info = tarfile.TarInfo(name)
            info.size = len(data)
            added.append((info, data))
            manifest["files"][name] = {"sha256": sha(data), "size": len(data)}
    manifest_change(manifest)
    with tarfile.open(target, "w:gz") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name, content in inside.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for info, content in added:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)


def snapshot_tree(*roots: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            out[str(p)] = "link" if p.is_symlink() else sha(p.read_bytes()) if p.is_file() else "dir"
    return out


def test_restore_refuses_files_outside_the_data_folders_before_writing_anything(
    seeded: dict[str, Any], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13, defect 2: a manifest naming an absolute path (or `..`, a link, a device, a file
    outside evidence/) is refused whole, with or without --force, and nothing is written anywhere."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    archive = tmp_path / "good.tar.gz"
    assert run("backup", "--out", str(archive))[0] == 0
    key = b"ssh-ed25519 AAAA attacker\n"
    keys_path = str(home / ".ssh" / "authorized_keys")

    def to_home(manifest: dict[str, Any]) -> None:
        manifest["evidence_targets"]["evidence/.ssh/authorized_keys"] = [keys_path]

    def up_and_out(manifest: dict[str, Any]) -> None:
        manifest["evidence_targets"]["evidence/.ssh/authorized_keys"] = [
            "var/evidence/../../home/.ssh/authorized_keys"
        ]

    def tilde(manifest: dict[str, Any]) -> None:
        manifest["evidence_targets"]["evidence/.ssh/authorized_keys"] = ["~/.ssh/authorized_keys"]

    def database_elsewhere(manifest: dict[str, Any]) -> None:
        manifest["database"]["file"] = "evidence/.ssh/authorized_keys"

    def same(manifest: dict[str, Any]) -> None:
        pass

    def link(kind: bytes, name: str = "evidence/2026/x") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = keys_path
        return info

    member = ("evidence/.ssh/authorized_keys", key)
    cases: list[tuple[str, Any, list[Any], str]] = [
        ("absolute", to_home, [member], "outside the evidence directory"),
        ("dotdot", up_and_out, [member], "evidence/.ssh/authorized_keys"),
        ("tilde", tilde, [member], "outside the evidence directory"),
        ("database", database_elsewhere, [member], "database"),
        ("stray", same, [("home/.ssh/authorized_keys", key)], "home/.ssh/authorized_keys"),
        ("symlink", same, [link(tarfile.SYMTYPE)], "not a regular file"),
        ("hardlink", same, [link(tarfile.LNKTYPE)], "not a regular file"),
        ("device", same, [link(tarfile.CHRTYPE)], "not a regular file"),
    ]
    wipe_sqlite(seeded["url"])
    db_path = Path(make_url(seeded["url"]).database or "")
    before = snapshot_tree(tmp_path)
    for label, change, extra, expected in cases:
        bad = tmp_path / f"{label}.tar.gz"
        craft(archive, bad, change, extra)
        before[str(bad)] = sha(bad.read_bytes())
        for force in ([], ["--force"]):
            code, out, err = run("restore", str(bad), *force)
            assert code == 1, (label, out, err)
            assert out == "" and err.count("\n") == 1 and err.startswith("error: "), (label, err)
            assert expected in err, (label, err)
            assert snapshot_tree(tmp_path) == before, label  # nothing written, nowhere
            assert not db_path.exists() and not EVIDENCE.exists()
    assert not (home / ".ssh" / "authorized_keys").exists()

    # the untouched archive still restores
    code, _, err = run("restore", str(archive))
    assert code == 0, err
