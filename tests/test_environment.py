"""The Makefile's pins, the full lock and environment.yml name the same versions."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(path, pattern):
    return {m.group(1).lower(): m.group(2) for m in re.finditer(pattern, (ROOT / path).read_text(), re.M)}


def test_environment_yml_pins_what_requirements_txt_pins():
    pip_pins = pins("requirements.txt", r"^([A-Za-z0-9_.-]+)==(\S+)")
    conda_pins = pins("environment.yml", r"^\s+- ([A-Za-z0-9_.-]+)=(?!=)(\S+)")
    conda_pins.pop("python")
    assert pip_pins and pip_pins == conda_pins


def test_lock_agrees_with_requirements_txt():
    pip_pins = pins("requirements.txt", r"^([A-Za-z0-9_.-]+)==(\S+)")
    locked = pins("requirements.lock", r"^([A-Za-z0-9_.-]+)==(\S+)")
    assert {name: locked.get(name) for name in pip_pins} == pip_pins


def test_environment_yml_uses_the_course_python():
    assert re.search(r"^\s+- python=3\.11$", (ROOT / "environment.yml").read_text(), re.M)


def test_every_line_of_the_lock_is_one_pin_or_a_comment():
    # The Makefile splits the lock's lines between two pips (one line in two each): an option line
    # (--index-url, -c ...) or a continued line would reach only one of them.
    lines = [line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()]
    odd = [line for line in lines if line and not line.startswith("#")
           and not re.fullmatch(r"[A-Za-z0-9_.\[\],-]+==[A-Za-z0-9_.+!-]+", line)]
    assert not odd, f"requirements.lock lines the Makefile's split cannot share out: {odd}"
