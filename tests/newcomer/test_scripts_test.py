"""scripts/test builds and uses its own virtual environment (.venv-test) and never the README's
.venv, where a user installed trackd to run it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_scripts_test_makes_its_own_venv_and_leaves_dot_venv_alone(tmp_path: Path) -> None:
    # A copy of what the script reads, and a stand-in interpreter that records how it is used
    # (so nothing is installed): the script must create .venv-test, then fail on installing.
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("scripts/test", "pyproject.toml", "package-lock.json"):
        shutil.copy(REPO / name, checkout / name)
    readme_venv = checkout / ".venv"
    (readme_venv / "bin").mkdir(parents=True)
    (readme_venv / "bin" / "python").write_text("#!/bin/sh\necho USED >> \"$0.used\"\nexit 1\n")
    (readme_venv / "bin" / "python").chmod(0o755)
    calls = tmp_path / "calls"
    fake_python = tmp_path / "python3"
    fake_python.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n'
                           'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
                           '  mkdir -p "$3/bin" && printf "#!/bin/sh\\necho \\"$3 $@\\" >> '
                           f'{calls}\\nexit 3\\n" > "$3/bin/python" && chmod +x "$3/bin/python"\n'
                           'fi\nexit 0\n')
    fake_python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(fake_python), "TRACKD_SKIP_SERVICES": "1",
           "TRACKD_SKIP_SYSTEM_PACKAGES": "1"}
    env.pop("TRACKD_TEST_VENV", None)
    result = subprocess.run(["bash", str(checkout / "scripts" / "test")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0  # the stand-in venv's pip "fails" on purpose
    log = calls.read_text()
    assert "-m venv .venv-test" in log, log
    assert "installing trackd with test, dev and classic-driver extras into .venv-test" \
        in result.stderr
    assert not (readme_venv / "bin" / "python.used").exists()
    assert "-m venv .venv\n" not in log
    assert sorted(p.name for p in readme_venv.iterdir()) == ["bin"]


def test_no_line_of_scripts_test_names_dot_venv_as_a_path() -> None:
    import re

    for number, line in enumerate((REPO / "scripts" / "test").read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        assert not re.search(r"(?<![\w-])\.venv(?![\w-])", code), f"scripts/test:{number}: {line}"
