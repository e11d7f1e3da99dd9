"""deploy/ checked as far as this machine allows (issue 13): Docker cannot run here, systemd is not
PID 1. The compose file is parsed (and `docker-compose config` run when installed), the systemd units
pass `systemd-analyze verify`, and the nginx site passes `nginx -t` and then runs for real: TLS with a
self-signed certificate in front of two bot processes started with the units' own ExecStart lines
and the example configuration, the emulator posting Telegram's updates through it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.config import Settings, load_settings
from bot.sandbox.emulator import Emulator
from tests.bot.harness import ROOT, BotClient, Seeder, register
from tests.bot.test_process import _free_port
from tests.bot.test_scale_out import REDIS_URL, redis_reachable

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def example_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "cchc.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_example_configuration_names_real_settings_and_loads() -> None:
    env = example_env()
    fields = {f"CCHC_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    token = "123456789:" + "x" * 35  # the example's placeholder has the right shape but is no token
    kwargs: dict[str, Any] = {k.removeprefix("CCHC_").lower(): v for k, v in env.items()}
    settings = load_settings(**{**kwargs, "bot_token": token})
    assert settings.database_url.startswith("postgresql+asyncpg://") and settings.redis_url
    assert settings.webhook_url and settings.webhook_secret


def test_compose_file_is_the_scaled_out_deployment(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "bot1", "bot2", "nginx"}
    for name in ("bot1", "bot2"):
        bot = services[name]
        assert bot["command"] == ["cchc-bot", "run", "--webhook"]
        assert bot["env_file"] == "cchc.env"
        assert "evidence:/var/lib/cchc-bot/evidence" in bot["volumes"]  # one directory for both
        assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["cchc-bot", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "443:443" in services["nginx"]["ports"]
    assert any(v.startswith("./nginx/cchc-bot.conf:") for v in services["nginx"]["volumes"])
    assert services["postgres"]["healthcheck"] and services["redis"]["healthcheck"]
    assert "/healthz" in (DEPLOY / "Dockerfile").read_text()

    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed: the file was parsed, not validated by compose")
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copy(copy / "cchc.env.example", copy / "cchc.env")
    (copy / "db_password.txt").write_text("secret\n")
    result = subprocess.run(
        [tool, "-f", str(copy / "compose.yaml"), "config", "-q"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _units_here(tmp_path: Path) -> Path:
    """The units with the install paths of this checkout (/opt/cchc-bot → the worktree)."""
    out = tmp_path / "units"
    out.mkdir()
    (tmp_path / "cchc.env").write_text("")
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/cchc-bot", str(ROOT))
        text = text.replace("/etc/cchc-bot/cchc.env", str(tmp_path / "cchc.env"))
        (out / unit.name).write_text(text)
    shutil.copy(out / "cchc-bot@.service", out / "cchc-bot@8081.service")
    return out


def test_systemd_units_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    units = _units_here(tmp_path)
    names = [
        "cchc-bot@8081.service",
        "cchc-bot-migrate.service",
        "cchc-bot-backup.service",
        "cchc-bot-backup.timer",
    ]
    result = subprocess.run([tool, "verify", *names], cwd=units, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if "cchc-bot" in line]
    assert ours == [], ours
    bad = units / "broken.service"  # the check can fail
    bad.write_text("[Service]\nExecStart=/nonexistent/cchc-bot run\n")
    assert subprocess.run([tool, "verify", bad.name], cwd=units, capture_output=True).returncode != 0


def exec_start(unit: str, instance: str = "") -> list[str]:
    """A unit's ExecStart as argv, with this checkout's paths and systemd's % specifiers resolved."""
    text = (UNITS / unit).read_text()
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    command = line.removeprefix("ExecStart=").replace("/opt/cchc-bot", str(ROOT))
    command = command.replace("%i", instance).replace("%%", "%")
    return shlex.split(command)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def nginx_site(tmp_path: Path, listen: int, upstreams: list[int], cert: Path, key: Path) -> Path:
    """deploy/nginx/cchc-bot.conf with this machine's addresses (the only edits the README asks for),
    inside a minimal nginx.conf with every path under tmp_path."""
    site = (DEPLOY / "nginx" / "cchc-bot.conf").read_text()
    site = re.sub(r"server bot1:8081", f"server 127.0.0.1:{upstreams[0]}", site)
    site = re.sub(r"server bot2:8081", f"server 127.0.0.1:{upstreams[1]}", site)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen} ssl;")
    site = site.replace("/etc/nginx/tls/fullchain.pem", str(cert)).replace(
        "/etc/nginx/tls/privkey.pem", str(key)
    )
    assert "server bot" not in site and "/etc/nginx" not in site
    (tmp_path / "site.conf").write_text(site)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / name).mkdir(exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log {tmp_path}/access.log;\n client_body_temp_path {tmp_path}/body;\n"
        f" proxy_temp_path {tmp_path}/proxy;\n fastcgi_temp_path {tmp_path}/fastcgi;\n"
        f" uwsgi_temp_path {tmp_path}/uwsgi;\n scgi_temp_path {tmp_path}/scgi;\n"
        f" include {tmp_path}/site.conf;\n}}\n"
    )
    return conf


@pytest.fixture
def nginx() -> str:
    tool = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if tool is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed (Debian: apt-get install nginx-light openssl)")
    return tool


def test_nginx_site_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    conf = nginx_site(tmp_path, _free_port(), [_free_port(), _free_port()], cert, key)
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=out)


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


async def _wait_log(log: Path, marker: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while marker not in (text := await asyncio.to_thread(_read, log)):
        assert proc.poll() is None, text
        assert loop.time() < deadline, text
        await asyncio.sleep(0.1)


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in reversed(started):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
async def pg_url(pg_server: Any) -> AsyncIterator[str]:
    yield str(pg_server.new_database("deploy"))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
async def test_the_deployment_runs_behind_nginx(
    nginx: str, pg_url: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    if reason := await redis_reachable():
        pytest.skip(reason)
    cert, key = _self_signed(tmp_path)
    https_port, ports = _free_port(), [_free_port(), _free_port()]
    trust = ssl.create_default_context(cafile=str(cert))
    emulator = Emulator(token=f"{os.getpid() % 10**8 + 10**8}:{os.urandom(12).hex()}", webhook_ssl=trust)
    await emulator.start("127.0.0.1", 0)
    seed = Seeder(pg_url)
    client = BotClient(emulator.url, seed)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
        env.update(example_env())
        env.update(
            CCHC_BOT_TOKEN=emulator.token,
            CCHC_TELEGRAM_API_URL=emulator.url,
            CCHC_DATABASE_URL=pg_url,
            CCHC_REDIS_URL=REDIS_URL,
            CCHC_EVIDENCE_DIR=str(tmp_path / "evidence"),
            CCHC_WEBHOOK_URL=f"https://localhost:{https_port}",
            PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        )
        # cchc-bot-migrate.service, then cchc-bot@<port>.service twice, then nginx
        migrate = await asyncio.to_thread(_run, exec_start("cchc-bot-migrate.service"), env)
        assert migrate.returncode == 0, migrate.stderr
        for port in ports:
            log = tmp_path / f"bot-{port}.log"
            processes.append(_spawn(exec_start("cchc-bot@.service", str(port)), env, log))
            await _wait_log(log, "webhook at", processes[-1])
        conf = nginx_site(tmp_path, https_port, ports, cert, key)
        processes.append(
            _spawn(
                [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                env,
                tmp_path / "nginx.out",
            )
        )
        await asyncio.sleep(0.5)
        assert emulator.bot.webhook_url == f"https://localhost:{https_port}/telegram/webhook"

        await seed.unit("SNV", "Sở Nội vụ")
        user = await register(client, "SNV", "officer")  # over TLS through nginx to a bot process
        for _ in range(4):
            assert "Vai trò" in (await client.say(user, "/whoami"))["text"]
        for _ in range(40):  # nginx logs a request once the bot has answered it
            access = await asyncio.to_thread(_read, tmp_path / "access.log")
            if access.count("POST /telegram/webhook") >= 5:
                break
            await asyncio.sleep(0.05)
        assert access.count("POST /telegram/webhook") >= 5, access

        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://127.0.0.1:{https_port}/healthz", ssl=trust) as resp:
                assert resp.status == 200, await resp.text()
            states = []
            for port in ports:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    states.append(await resp.json())
            async with http.post(
                f"https://127.0.0.1:{https_port}/telegram/webhook", json={"update_id": 1}, ssl=trust
            ) as resp:
                assert resp.status == 401  # no secret: refused through nginx too
        assert [s["status"] for s in states] == ["ok", "ok"]
        assert sorted(s["leader"] for s in states) == [False, True]

        # cchc-bot-backup.service's command, while the bot runs
        backups = tmp_path / "backups"
        backups.mkdir()
        argv = [
            a.replace("/var/backups/cchc-bot", str(backups)) for a in exec_start("cchc-bot-backup.service")
        ]
        backup = await asyncio.to_thread(_run, argv, env)
        assert backup.returncode == 0, backup.stderr
        archives = list(backups.glob("cchc-*.tar.gz"))
        assert len(archives) == 1 and re.fullmatch(r"cchc-\d{8}-\d{4}\.tar\.gz", archives[0].name)
        print("\n" + json.dumps({"healthz": states}, ensure_ascii=False))
    finally:
        await client.close()
        await seed.close()
        await emulator.stop()
