"""CI's rule on skips (conftest.py): with BENTO_FAIL_ON_SKIP=1 only a known problem may skip."""
import os
import subprocess
import sys

import pytest

from conftest import KNOWN_PROBLEM, ROOT


@pytest.mark.parametrize("reason,fail_on_skip,want", [
    ("chromium not installed", "1", 1),
    (KNOWN_PROBLEM + ": explained elsewhere", "1", 0),
    ("chromium not installed", "", 0),
])
def test_only_known_problems_may_skip_on_ci(tmp_path, reason, fail_on_skip, want):
    (tmp_path / "test_one.py").write_text(
        f"import pytest\ndef test_skipped():\n    pytest.skip({reason!r})\n"
        "def test_passed():\n    pass\n")
    env = dict(os.environ, BENTO_FAIL_ON_SKIP=fail_on_skip,
               PYTHONPATH=str(ROOT / "tests"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "conftest",
                           "-p", "no:cacheprovider", str(tmp_path)],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == want, done.stdout + done.stderr
    assert reason in done.stdout  # -rs: the reason is printed either way
    assert ("unexpected skips" in done.stdout) == (want == 1)
