"""The shipped projects, wijken and routing rules load, and broken files are named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli.rules_command import app
from services.config_files import ConfigError
from services.routing import load_projects, load_routing_rules, load_wijken
from services.routing.config import DebtPhase, ProjectStatus

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_work_plan_projects_are_shipped() -> None:
    projects = load_projects(CONFIG)
    assert [p.id for p in projects] == [
        "vroeg-erop-af",
        "schuldenspecialisten",
        "nvb-vroegsignalering",
        "rub",
        "doorbraakmethode",
        "jongeren-perspectief-fonds",
    ]
    doorbraak = projects.get("doorbraakmethode")
    assert doorbraak is not None
    assert doorbraak.capacity == 375
    assert doorbraak.debt_phase is DebtPhase.CURATIVE
    vroeg = projects.get("vroeg-erop-af")
    assert vroeg is not None
    assert vroeg.status is ProjectStatus.RUNNING
    assert (vroeg.sla.first_contact_days, vroeg.sla.closure_days) == (14, 28)
    assert vroeg.sla.urgent_working_days == 3
    assert vroeg.capacity is None


def test_every_almelo_pc4_lies_in_one_wijk_with_a_team_for_every_project() -> None:
    projects = load_projects(CONFIG)
    wijken = load_wijken(CONFIG, projects)
    for pc4 in range(7600, 7610):
        wijk = wijken.for_pc4("0141", str(pc4))
        assert wijk is not None, pc4
        assert all(wijken.team(wijk, p.id) for p in projects)
    assert wijken.for_pc4("0141", "7610") is None
    assert wijken.for_pc4("0150", "7604") is None  # another gemeente's PC4 is not Almelo's wijk
    noord = wijken.for_pc4("0141", "7604")
    assert noord is not None
    assert wijken.team(noord, "schuldenspecialisten") == "wijkteam-noord"
    assert wijken.team(noord, "doorbraakmethode") == "doorbraak-almelo"


def test_the_shipped_routing_rules_load_in_design_order() -> None:
    rules = load_routing_rules(CONFIG / "routing.toml")
    assert rules.version
    assert [r.id for r in rules] == [
        "onder-drempelbedrag",
        "buiten-gemeente",
        "crisis",
        "eindelevering",
        "warme-overdracht",
        "hypotheek",
        "cak-wanbetaler",
        "meerdere-partners",
        "herhaling-zonder-contact",
        "jongeren",
        "vroeg-erop-af",
    ]
    assert all(r.explanation.endswith((".", "!")) for r in rules)


def _config_copy(tmp_path: Path) -> Path:
    for name in ("projects.toml", "wijken.toml", "routing.toml"):
        shutil.copy(CONFIG / name, tmp_path / name)
    return tmp_path


def test_a_wrong_project_names_file_entry_and_field(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    path = config / "projects.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'name = "Vroeg erop af!"\ndebt_phase = "vroege interventie"',
            'name = "Vroeg erop af!"\ndebt_phase = "nazorg"',
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"projects.toml: project vroeg-erop-af: debt_phase: "):
        load_projects(config)


def test_a_negative_capacity_is_refused(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    path = config / "projects.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("capacity = 375", "capacity = -1"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="project doorbraakmethode: capacity: "):
        load_projects(config)


def test_a_wijk_without_a_team_for_a_project_is_refused(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    path = config / "wijken.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('schuldenspecialisten = "wijkteam-west"\n', ""),
        encoding="utf-8",
    )
    projects = load_projects(config)
    with pytest.raises(ConfigError, match="wijk west: no team for project schuldenspecialisten"):
        load_wijken(config, projects)


def test_a_bad_pc4_names_the_wijk(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    path = config / "wijken.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('pc4 = ["7603"]', 'pc4 = ["76O3"]'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"wijken.toml: wijk west: pc4: .*'76O3' is not a PC4"):
        load_wijken(config)


def test_rules_check_shows_the_rules_of_a_good_file() -> None:
    result = CliRunner().invoke(app, ["check", str(CONFIG / "routing.toml")])
    assert result.exit_code == 0, result.output
    assert "11 rules" in result.output
    assert "no problems" in result.output


def test_rules_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    path = config / "routing.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('then = "rub"', 'then = "rubb"').replace(
        "when = { crisis = true }", "when = { crisis = true, spoed = true }"
    )
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # undo the console's line wrapping
    assert "rule crisis: when: Value error, unknown condition field(s) spoed" in output
    assert "rule cak-wanbetaler: then: unknown project rubb" in output
    assert "2 problem(s)" in output
