"""Every setting is declared once in settings and documented in .env.example; code reads it from settings only."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_environment_variable_is_in_env_example():
    read = set()
    for module in (ROOT / "veterans_portal" / "settings").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        read |= set(re.findall(r"""\benv\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        read |= set(re.findall(r"""\brequire_env\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose))
    assert read, "the settings read environment variables"
    assert sorted(read - documented()) == []


def test_code_reads_no_setting_with_a_default_of_its_own():
    """``getattr(settings, "X", default)`` hides a second default beside the declared one."""
    scattered = []
    for path in (ROOT / "apps").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""getattr\(\s*settings\s*,\s*["']([A-Z][A-Z0-9_]+)["']\s*,""", text):
            scattered.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert scattered == []
