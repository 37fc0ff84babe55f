"""One settings object: defaults < config file < NIANBAO_* environment < flags, for every
command; `nianbao config` says where each value came from; a bad value is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nianbao.demo.portal import start_portal
from nianbao.extract import documents_log as dlog
from nianbao.extract.http import HttpConfig
from nianbao.flows import settings
from nianbao.flows.cli import main
from nianbao.flows.errors import UserError
from nianbao.flows.extraction import Limits


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No NIANBAO_* variable of the caller's, and a working directory without nianbao.toml."""
    for name in [settings.CONFIG_ENV, *map(settings.env_var, settings.NAMES)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_components_own(tmp_path):
    s = settings.load()
    assert s.data == tmp_path / "data" and s.registry == tmp_path / "data" / "portals.csv"
    assert s.http_config() == HttpConfig() and s.limits() == Limits()
    assert s.workers == 8
    assert set(s.origins.values()) == {settings.DEFAULT}


def test_each_level_overrides_the_one_below(tmp_path):
    conf = write(tmp_path / "n.toml", "delay = 2\nworkers = 3\nread_timeout = 5\nretries = 1\n")
    env = {"NIANBAO_WORKERS": "4", "NIANBAO_READ_TIMEOUT": "6"}
    s = settings.load({"read_timeout": "7"}, config=conf, env=env)
    assert (s.retries, s.delay, s.workers, s.read_timeout) == (1, 2.0, 4, 7.0)
    assert s.origins["connect_timeout"] == "default"
    assert s.origins["delay"] == s.origins["retries"] == str(conf)
    assert s.origins["workers"] == "NIANBAO_WORKERS"
    assert s.origins["read_timeout"] == "--read-timeout"
    http = s.http_config()
    assert (http.delay, http.read_timeout, http.retries) == (2.0, 7.0, 1)


def test_extraction_limits_come_from_settings():
    env = {"NIANBAO_EXTRACT_WORKERS": "2", "NIANBAO_EXTRACT_SECONDS": "9.5"}
    limits = settings.load(env=env).limits()
    assert (limits.workers, limits.seconds, limits.memory_mb) == (2, 9.5, Limits().memory_mb)


def test_which_config_file(tmp_path, monkeypatch):
    write(tmp_path / settings.CONFIG_FILE, "delay = 3\n")
    assert settings.load().delay == 3.0  # ./nianbao.toml when present
    named = write(tmp_path / "other.toml", "delay = 4\n")
    monkeypatch.setenv(settings.CONFIG_ENV, str(named))
    assert settings.load().delay == 4.0  # $NIANBAO_CONFIG instead
    flag = write(tmp_path / "flag.toml", "delay = 5\n")
    assert settings.load(config=flag).delay == 5.0  # --config over $NIANBAO_CONFIG


def test_paths_in_a_file_are_relative_to_the_file(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    conf = write(etc / "n.toml", 'data = "store"\nregistry = "/srv/portals.csv"\n')
    s = settings.load(config=conf, env={})
    assert s.data == etc / "store" and s.registry == Path("/srv/portals.csv")
    assert settings.load({"data": "d"}, config=conf, env={}).data == tmp_path / "d"


def test_flow_parameters_are_named_as_such():
    s = settings.load({"delay": 0.5}, env={}, via="parameter")
    assert s.origins["delay"] == "parameter delay"


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("", {"NIANBAO_DELAY": "soon"}, "NIANBAO_DELAY: 'soon' is not a number"),
        ("", {"NIANBAO_WORKERS": "2.5"}, "NIANBAO_WORKERS: '2.5' is not a whole number"),
        ("", {"NIANBAO_WORKERS": "0"}, "NIANBAO_WORKERS: '0' must be >= 1"),
        ("", {"NIANBAO_DELAY": "nan"}, "is not a finite number"),
        ("dealy = 1\n", {}, "unknown setting dealy"),
        ("delay = true\n", {}, "delay: True is not a number"),
        ("delay = -1\n", {}, "delay: -1 must be >= 0"),
        ("delay = \n", {}, "not valid TOML"),
    ],
)
def test_bad_values_are_user_errors(tmp_path, toml, env, message):
    conf = write(tmp_path / "n.toml", toml)
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        settings.load(config=conf, env=env)


def test_bad_values_on_the_command_line_are_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_DELAY", "soon")
    assert main(["crawl"]) == 2
    err = capsys.readouterr().err
    assert err == "nianbao: error: NIANBAO_DELAY: 'soon' is not a number\n"
    monkeypatch.delenv("NIANBAO_DELAY")
    assert main(["run", "--workers", "many"]) == 2
    assert capsys.readouterr().err == "nianbao: error: --workers: 'many' is not a whole number\n"
    conf = write(tmp_path / "n.toml", "colour = 'red'\n")
    for argv in (["config"], ["sql", "SELECT 1"], ["extract", "x.txt"]):
        assert main([*argv, "--config", str(conf)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "unknown setting colour" in err, argv
    assert main(["config", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml not found" in capsys.readouterr().err


def test_config_command_says_where_each_value_came_from(capsys, tmp_path, monkeypatch):
    conf = write(tmp_path / "n.toml", "delay = 2\nretries = 0\n")
    monkeypatch.setenv("NIANBAO_CONFIG", str(conf))
    monkeypatch.setenv("NIANBAO_RETRIES", "5")
    assert main(["config", "--json", "--workers", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == settings.NAMES
    assert out["delay"] == {"value": 2.0, "source": str(conf)}
    assert out["retries"] == {"value": 5, "source": "NIANBAO_RETRIES"}
    assert out["workers"] == {"value": 2, "source": "--workers"}
    assert out["data"] == {"value": str(tmp_path / "data"), "source": "default"}
    assert main(["config"]) == 0
    table = capsys.readouterr().out
    assert "NIANBAO_RETRIES" in table and "extract_seconds" in table and str(conf) in table


def test_registry_and_delay_from_the_environment_reach_crawl(capsys, tmp_path, monkeypatch):
    """`crawl` used to ignore NIANBAO_REGISTRY; it now reads every setting like `run` does."""
    with start_portal(seed=0, faults=False) as portal:
        registry = portal.write_registry(tmp_path / "elsewhere.csv")
        portal_id = "demo-trs-fgw"
        monkeypatch.setenv("NIANBAO_REGISTRY", str(registry))
        monkeypatch.setenv("NIANBAO_DATA", str(tmp_path / "store"))
        monkeypatch.setenv("NIANBAO_DELAY", "0.01")
        assert main(["crawl", "--portal", portal_id, "--quiet"]) == 0
    docs = dlog.current_documents(tmp_path / "store")
    assert docs and {d.portal_id for d in docs} == {portal_id}
    monkeypatch.setenv("NIANBAO_REGISTRY", str(tmp_path / "nope.csv"))
    assert main(["crawl"]) == 2
    assert "nope.csv" in capsys.readouterr().err
