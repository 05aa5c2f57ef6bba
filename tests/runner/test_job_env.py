"""Job environments are explicit: only the suite's install steps, unless it opts in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runner.execute import JobLog, build_env, missing_module_hint
from runner.measure import Plan, Side, measure
from runner.suites import SuiteError, load_suites
from tests.integration.gitrepo import DEMO

pytestmark = pytest.mark.timeout(120)
IMPORT_PYTEST = "python -c 'import pytest'"


def _imports_pytest(env: dict[str, str], cwd: Path) -> bool:
    done = subprocess.run(["python", "-c", "import pytest"], env=env, cwd=cwd, check=False)
    return done.returncode == 0


def test_a_venv_sees_the_runner_packages_only_when_the_suite_asks(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "system").mkdir()
    plain = build_env(tmp_path / "plain", "venv", with_pip=False)
    system = build_env(tmp_path / "system", "venv", system_site_packages=True, with_pip=False)
    assert not _imports_pytest(plain, tmp_path)  # the runner has pytest; the job must not
    assert _imports_pytest(system, tmp_path)


def test_a_missing_module_names_the_install_step(tmp_path: Path) -> None:
    (tmp_path / "benchwarden.toml").write_text(
        '[env]\nkind = "venv"\n\n[suites.s]\nkind = "command"\n'
        f'command = "{IMPORT_PYTEST}"\ntimeout = 60\n'
    )
    declared = load_suites(tmp_path)
    assert declared.env.system_site_packages is False
    env = build_env(tmp_path, "venv", with_pip=False)
    side = Side("c0", "a" * 40, tmp_path, env)
    log = JobLog(tmp_path / "log.txt")
    measure([side], Plan(declared.select("m1"), "m1"), log, tmp_path / "work")
    (error,) = side.errors
    assert error.endswith(
        "hint: the job environment has no module 'pytest'; add \"python -m pip install"
        ' pytest-benchmark" to [env] install in benchwarden.toml (job venvs see only what'
        " the suite installs; see README, Run your own runners)"
    )
    assert "hint: the job environment has no module 'pytest'" in log.tail()


def test_hints_and_declaration() -> None:
    assert missing_module_hint("/v/bin/python: No module named pytest\n") is not None
    assert "install numpy" in str(
        missing_module_hint("ModuleNotFoundError: No module named 'numpy.linalg'")
    )
    assert missing_module_hint("AssertionError: 3 != 4") is None


def test_system_site_packages_is_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "benchwarden.toml").write_text(
        '[env]\nsystem_site_packages = "yes"\n\n[suites.s]\nkind = "command"\ncommand = "x"\n'
    )
    with pytest.raises(SuiteError, match=r"env\.system_site_packages must be true or false"):
        load_suites(tmp_path)


def test_the_demo_declares_what_it_relies_on() -> None:
    assert load_suites(DEMO).env.system_site_packages is True
