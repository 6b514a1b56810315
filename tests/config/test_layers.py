"""The layers of design.md are import-linter contracts that `make lint` runs: a breach fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "bot", "core", "onchain")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's Python sources and contracts, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.json", "static",
                                                      "templates", "assets", "abi"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=tree, capture_output=True, text=True,
                          timeout=120, check=False)


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_project_keeps_every_contract(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout
    assert "BROKEN" not in result.stdout
    assert "5 kept, 0 broken" in result.stdout


def test_a_lower_app_importing_a_higher_one_fails(tree):
    add_import(tree, "core.users.services", "from core.loans.models import Loan  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "core.users is not allowed to import core.loans" in result.stdout
    assert "core.users.services -> core.loans.models" in result.stdout


def test_the_domain_importing_the_bot_fails(tree):
    add_import(tree, "core.loans.services", "import bot.replies  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "core is not allowed to import bot" in result.stdout


def test_a_bot_module_importing_web3_fails(tree):
    add_import(tree, "bot.replies", "from web3.exceptions import Web3Exception  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "bot is not allowed to import web3" in result.stdout


def test_a_journey_importing_another_journey_fails(tree):
    add_import(tree, "bot.journeys.calc", "from bot.journeys import pool  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "bot.journeys.calc is not allowed to import bot.journeys.pool" in result.stdout
