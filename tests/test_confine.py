"""Landlock confinement of a process's writes (the kernels of ``c3 build``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from c3lib.build.confine import landlock_abi

CHILD = """
import os, subprocess, sys, threading
from c3lib.build.confine import confine_writes
allowed, outside, existing = sys.argv[1:4]
assert confine_writes([allowed])
def attempt(what, fn):
    try:
        fn()
        print(what, "written")
    except PermissionError:
        print(what, "denied")
attempt("inside", lambda: open(os.path.join(allowed, "new.txt"), "w").write("x"))
attempt("outside", lambda: open(os.path.join(outside, "new.txt"), "w").write("x"))
attempt("overwrite", lambda: open(existing, "w").write("hijacked"))
attempt("append", lambda: open(existing, "a").write("hijacked"))
attempt("remove", lambda: os.unlink(existing))
attempt("rename", lambda: os.rename(os.path.join(allowed, "new.txt"), existing))
attempt("devnull", lambda: open(os.devnull, "w").write("x"))
t = threading.Thread(target=attempt, args=("thread", lambda: open(existing, "w").write("x")))
t.start(); t.join()
rc = subprocess.run(["sh", "-c", f"echo x > {existing}"], stderr=subprocess.DEVNULL).returncode
print("child", "denied" if rc else "written")
"""


@pytest.mark.skipif(landlock_abi() < 1, reason="no Landlock on this system")
def test_confine_writes_only_beneath_allowed_folders(tmp_path):
    allowed, outside = tmp_path / "work", tmp_path / "outputs"
    allowed.mkdir()
    outside.mkdir()
    good = outside / "case-study.html"
    good.write_text("good")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(allowed), str(outside), str(good)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    said = dict(line.split() for line in proc.stdout.splitlines())
    assert said == {
        "inside": "written",
        "outside": "denied",
        "overwrite": "denied",
        "append": "denied",
        "remove": "denied",
        "rename": "denied",
        "devnull": "written",
        "thread": "denied",
        "child": "denied",
    }
    assert good.read_text() == "good"
    assert sorted(p.name for p in outside.iterdir()) == ["case-study.html"]
    assert (allowed / "new.txt").read_text() == "x"


def test_confine_writes_off_leaves_process_free(tmp_path):
    code = "import sys\nfrom c3lib.build.confine import confine_writes\n"
    code += "print(confine_writes([sys.argv[1]]))\nopen(sys.argv[2], 'w').write('x')\n"
    target = tmp_path / "free.txt"
    env = {**os.environ, "C3_CONFINE": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "missing"), str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.stdout.strip() == "False" and target.read_text() == "x"


def test_confined_kernel_starts_without_a_home_ipython_folder(tmp_path, params_dir):
    """On a fresh machine ``~/.ipython`` does not exist, and a confined kernel cannot make
    it (nor the profile's ``db`` folder IPython makes at start): the kernel must still
    start."""
    from tests.conftest import make_notebook

    home = tmp_path / "home"
    home.mkdir()
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / "emissions_inventory.ipynb", "print(6 * 7)")
    pair = sorted(p.stem for p in (params_dir / "pairs").glob("*.yaml"))[0]
    env = {k: v for k, v in os.environ.items() if k not in ("IPYTHONDIR", "JUPYTER_CONFIG_DIR")}
    env.update(HOME=str(home), C3_NOTEBOOKS=str(nbs), MPLCONFIGDIR=str(tmp_path / "mpl"))
    args = [sys.executable, "-m", "c3lib", "build", "--params", str(params_dir)]
    args += ["--out", str(tmp_path / "out"), "--pair", pair, "--jobs", "1"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 built" in proc.stdout
