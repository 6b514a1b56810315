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


BREACHES = {
    "a lower app importing a higher one": (
        "core.users.services", "from core.loans.models import Loan  # noqa",
        ["core.users is not allowed to import core.loans",
         "core.users.services -> core.loans.models"]),
    "the domain importing the bot": (
        "core.loans.services", "import bot.replies  # noqa",
        ["core is not allowed to import bot"]),
    "a bot module importing web3": (
        "bot.replies", "from web3.exceptions import Web3Exception  # noqa",
        ["bot is not allowed to import web3"]),
    "a journey importing another journey": (
        "bot.journeys.calc", "from bot.journeys import pool  # noqa",
        ["bot.journeys.calc is not allowed to import bot.journeys.pool"]),
}


@pytest.mark.parametrize("breach", BREACHES)
def test_a_breach_of_the_layers_fails_lint(tree, breach):
    module, line, said = BREACHES[breach]
    add_import(tree, module, line)
    result = lint_imports(tree)
    assert result.returncode == 1
    for text in said:
        assert text in result.stdout
