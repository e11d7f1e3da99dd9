"""The `cchc-bot` commands as an operator uses them: output, exit codes, nothing half-written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bot.criteria import TEMPLATE_PATH, shipped_path
from bot.scoring.bands import DEFAULT_BANDS
from tests.cli.conftest import Run


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("2018-so", {"fields": 7, "criteria": 25, "sub_criteria": 44, "max_points": "100"}),
        ("2018-huyen", {"fields": 7, "criteria": 27, "sub_criteria": 49, "max_points": "100"}),
    ],
)
def test_criteria_validate_samples(run: Run, code: str, expected: dict[str, object]) -> None:
    status, out, _ = run("criteria", "validate", str(shipped_path(code)), "--json")
    assert status == 0 and json.loads(out) == expected
    status, out, _ = run("criteria", "validate", str(shipped_path(code)))
    assert status == 0 and "valid" in out and f"{expected['sub_criteria']} sub-criteria" in out


def test_criteria_validate_xlsx_template(run: Run) -> None:
    status, out, _ = run("criteria", "validate", str(TEMPLATE_PATH), "--json")
    assert status == 0 and json.loads(out)["sub_criteria"] == 44


def _sample() -> dict[str, object]:
    data = yaml.safe_load(shipped_path("2018-so").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _broken(kind: str) -> dict[str, object]:
    data = _sample()
    fields: list[dict[str, object]] = data["fields"]  # type: ignore[assignment]
    if kind == "sum":
        fields[0]["max_points"] = 18
    elif kind == "duplicate":
        criteria: list[dict[str, object]] = fields[1]["criteria"]  # type: ignore[assignment]
        criteria[1]["code"] = criteria[0]["code"]
    elif kind == "negative":
        criteria = fields[0]["criteria"]  # type: ignore[assignment]
        criteria[0]["max_points"] = -1
    return data


@pytest.mark.parametrize("kind", ["sum", "duplicate", "negative"])
def test_criteria_validate_refuses_bad_sets(run: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(_broken(kind), allow_unicode=True), encoding="utf-8")
    status, out, err = run("criteria", "validate", str(path))
    assert status == 1 and out == ""
    assert "cannot be used" in err
    status, out, _ = run("criteria", "validate", str(path), "--json")
    report = json.loads(out)
    assert status == 1 and report["valid"] is False and report["errors"]


def test_criteria_validate_malformed_yaml(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("code: x\nfields: [\n  - {a: 1\n", encoding="utf-8")
    status, _, err = run("criteria", "validate", str(path))
    assert status == 1 and "line" in err and "malformed YAML" in err


def test_commands_need_a_migrated_database(run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    monkeypatch.setenv("CCHC_DATABASE_URL", url)
    status, _, err = run("criteria", "list")
    assert status == 1 and "cchc-bot db upgrade" in err
    status, out, _ = run("db", "upgrade")
    assert status == 0 and "upgraded" in out
    status, out, _ = run("db", "status", "--json")
    assert status == 0 and json.loads(out)["up_to_date"] is True
    status, out, _ = run("criteria", "list")
    assert status == 0 and "no criteria sets" in out


def test_criteria_import_and_list(run: Run, cli_db: str) -> None:
    status, out, _ = run("criteria", "import", str(TEMPLATE_PATH))
    assert status == 0 and "imported" in out
    status, out, _ = run("criteria", "import", str(TEMPLATE_PATH))
    assert status == 0 and "already stored" in out
    status, out, _ = run("criteria", "list", "--json")
    assert status == 0 and [s["code"] for s in json.loads(out)] == ["2018-so"]


def test_demo_seed_then_rank_follows_default_bands(run: Run, cli_db: str) -> None:
    status, out, _ = run("demo", "seed")
    assert status == 0 and "900000001" in out
    status, out, _ = run("demo", "seed", "--json")
    assert status == 0 and json.loads(out)["created"] is False
    year = json.loads(out)["year"]
    for group in ("SO", "XA"):
        status, out, _ = run("rank", "--year", str(year), "--group", group, "--json")
        assert status == 0
        rows = json.loads(out)
        ranked = [r for r in rows if r["ranked"]]
        assert len(ranked) >= 5 and any(not r["ranked"] for r in rows)
        assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
        assert [Decimal(r["index"]) for r in ranked] == sorted(
            (Decimal(r["index"]) for r in ranked), reverse=True
        )
        for row in rows:
            assert set(row) >= {"rank", "unit", "index", "class", "ranked"}
            if not row["ranked"] and not row["reason"].startswith("not_ranked"):
                # not submitted yet: no result, so no index and no class
                assert row["index"] is None and row["class"] is None and row["rank"] is None
                continue
            index = Decimal(row["index"])
            assert index == index.quantize(Decimal("0.01"))
            if not row["ranked"]:  # flagged "not ranked" (seed 003): its index, but no class
                assert row["class"] is None and row["rank"] is None
                continue
            # The class is the band the published (two-decimal) index falls in, exactly.
            band = next(b for b in DEFAULT_BANDS if b.name_vi == row["class"])
            upper = min((b.min for b in DEFAULT_BANDS if b.min > band.min), default=Decimal(101))
            assert band.min <= index < upper, row
            if row["survey_pending"] is not None:
                assert Decimal(row["survey_pending"]) > 0
    status, out, _ = run("rank", "--year", str(year - 1), "--group", "SO")
    assert status == 0 and "imported results" in out
    status, out, _ = run("rank")
    assert status == 0 and "Sở, ban, ngành" in out and "Xã, phường, đặc khu" in out


def test_units_import_bad_rows_write_nothing(run: Run, cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,unit_type,group\nA,Sở A,so,SO\nB,Xã B,tinh,XA\nA,Sở C,so,SO\n", encoding="utf-8"
    )
    status, _, err = run("units", "import", str(path))
    assert status == 1
    assert "row 3" in err and "tinh" in err and "row 4" in err and "duplicate code 'A'" in err
    status, out, _ = run("units", "list", "--json")
    assert status == 0 and json.loads(out) == []
    path.write_text("code,name,unit_type,group\nA,Sở A,so,SO\nB,Xã B,xa,XA\n", encoding="utf-8")
    status, out, _ = run("units", "import", str(path), "--json")
    assert status == 0 and json.loads(out)["created"] == 2


def test_period_and_invite_commands(run: Run, cli_db: str, tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text("code,name,unit_type,group\nSYT,Sở Y tế,so,SO\n", encoding="utf-8")
    assert run("units", "import", str(units))[0] == 0
    status, out, _ = run(
        "period",
        "create",
        "--year",
        "2026",
        "--criteria",
        "2025-so",
        "--self-deadline",
        "31/03/2099",
        "--json",
    )
    assert status == 0 and json.loads(out)["criteria"] == {"so": "2025-so"}
    assert json.loads(out)["stages"]["self_assessment"] == "2099-03-31T16:59:59+00:00"
    status, _, err = run("period", "create", "--year", "2026", "--criteria", "2025-so")
    assert status == 1 and "already exists" in err
    status, out, _ = run("period", "open", "--year", "2026")
    assert status == 0 and "self_assessment" in out and "not_started 1" in out
    status, out, _ = run("period", "set-deadline", "--year", "2026", "--stage", "appraisal", "2099-04-30")
    assert status == 0 and "30/04/2099 23:59" in out
    status, _, err = run("period", "set-deadline", "--year", "2026", "--stage", "appraisal", "2099-03-01")
    assert status == 1 and "must end after" in err
    status, out, _ = run("period", "show", "--json")
    assert status == 0 and json.loads(out)["status"] == "self_assessment"

    status, out, _ = run("invite", "create", "--unit", "SYT", "--role", "officer", "--uses", "3")
    assert status == 0 and out.startswith("https://t.me/cchc_bot?start=")
    code = out.splitlines()[0].rsplit("=", 1)[1]
    assert f"code {code}" in out
    status, out, _ = run(
        "invite", "create", "--role", "leader", "--bot-username", "TinhDemoBot", "--json", "--days", "2"
    )
    assert status == 0 and json.loads(out)["link"].startswith("https://t.me/TinhDemoBot?start=")
    status, _, err = run("invite", "create", "--unit", "SYT", "--role", "boss")
    assert status == 1 and "Unknown role 'boss'" in err
    status, _, err = run("invite", "create", "--unit", "NOPE", "--role", "officer")
    assert status == 1 and "'NOPE' was not found" in err


def test_history_import_command(run: Run, cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "2024.csv"
    path.write_text('unit,score\nSở Tư pháp,"88,5"\nSở Y tế,92\n', encoding="utf-8")
    status, out, _ = run("history", "import", str(path), "--year", "2024", "--group", "SO")
    assert status == 0 and "2 imported" in out
    status, out, _ = run("rank", "--year", "2024", "--group", "SO", "--json")
    assert status == 0
    assert [(r["rank"], r["unit"], r["index"], r["class"]) for r in json.loads(out)] == [
        (1, "Sở Y tế", "92.00", "Xuất sắc"),
        (2, "Sở Tư pháp", "88.50", "Tốt"),
    ]
    path.write_text("unit,score\nSở Y tế,120\n", encoding="utf-8")
    status, _, err = run("history", "import", str(path), "--year", "2023", "--group", "SO")
    assert status == 1 and "row 2" in err and "outside 0-100" in err
    status, _, err = run("rank", "--year", "2023", "--group", "SO")
    assert status == 1 and "2023" in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("bad.xlsx", b"not a workbook", "bad.xlsx"), ("set.txt", b"x", "expected a .yaml or .xlsx file")],
)
def test_criteria_validate_bad_files(
    run: Run, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    status, out, err = run("criteria", "validate", str(path))
    assert status == 1 and out == "" and message in err
    status, _, err = run("criteria", "validate", str(tmp_path / "missing.yaml"))
    assert status == 1 and "no such file" in err
