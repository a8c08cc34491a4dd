"""Build what a Spark cluster needs to run the pipeline, into one folder.

- `c2c_platform-<version>-py3-none-any.whl`: the project, built from the checkout (for `pip install`,
  Databricks libraries, container images), and `c2c_platform.zip`, the same bytes under the name
  `--py-files` needs (PySpark puts only .zip/.egg/.jar files on executors' `sys.path`).
- `c2c_deps-<hash>.tar.gz`: every installed distribution the wheel requires, transitively, except
  pyspark and py4j, which the cluster provides (they must match its Spark). Unpacked as `deps/` on
  executors (`--archives ...#deps` and `PYTHONPATH=deps`). The hash covers the pinned versions and the
  target interpreter, so an unchanged environment reuses the archive instead of packing ~900 MB again.
- `c2c_requirements.txt`: the same pins, for images and Databricks libraries that install with pip.
- `c2c_conf.zip` and `conf/`: the settings directory the driver reads (a snapshot, like the wheel).
- `c2c_driver.py`: the entry script spark-submit starts; it runs `jobs.cli.main` with its arguments.

By default the dependencies are copied from the running interpreter's environment (the versions that
were tested); `python_version`/`platform` download wheels for another target interpreter instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lakehouse.errors import C2CError

PY_FILES_NAME = "c2c_platform.zip"
DEPS_PREFIX = "c2c_deps-"
CONF_ARCHIVE = "c2c_conf.zip"
REQUIREMENTS = "c2c_requirements.txt"
DRIVER_SCRIPT = "c2c_driver.py"
DEPS_ALIAS = "deps"
CONF_ALIAS = "conf"
# The cluster's own PySpark must serve the job: a second copy would shadow it on executors.
PROVIDED_BY_CLUSTER = frozenset({"pyspark", "py4j"})
PROJECT_SOURCES = ("pyproject.toml", "README.md", "lakehouse", "quality", "jobs")

DRIVER_TEXT = f'''"""Driver entry point written by `c2c submit`: runs the `c2c` CLI with its arguments."""

import os
import sys
from pathlib import Path

# Client mode finds the settings copy next to this script; cluster deploy mode (YARN, Kubernetes) finds
# the unpacked --archives (deps/, conf/) in the driver's working directory.
_PLACES = (Path(__file__).resolve().parent, Path.cwd())
for base in _PLACES:
    if (base / "{DEPS_ALIAS}").is_dir():
        sys.path.insert(1, str(base / "{DEPS_ALIAS}"))
        break
for base in _PLACES:
    if (base / "{CONF_ALIAS}" / "base.yml").is_file():
        os.environ.setdefault("C2C_CONF_DIR", str(base / "{CONF_ALIAS}"))
        break

from jobs.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
'''


class PackagingError(C2CError):
    """The project or its environment cannot be packaged for a cluster."""


@dataclass(frozen=True)
class Artifacts:
    out: Path
    wheel: Path
    py_files: Path
    conf_archive: Path
    driver: Path
    deps_archive: Path | None  # None: the cluster's Python already has the dependencies
    deps: tuple[str, ...] = ()  # name==version of every dependency, as in c2c_requirements.txt
    deps_reused: bool = False


def build_artifacts(
    conf_dir: Path,
    out: Path,
    *,
    wheel: Path | None = None,
    with_deps: bool = True,
    python_version: str | None = None,
    platform: str | None = None,
) -> Artifacts:
    """Build (or reuse) every artifact in `out`; see the module docstring."""
    out.mkdir(parents=True, exist_ok=True)
    wheel = _adopt_wheel(wheel, out) if wheel else build_wheel(out)
    py_files = out / PY_FILES_NAME
    shutil.copyfile(wheel, py_files)
    conf_archive = pack_conf(conf_dir, out)
    driver = out / DRIVER_SCRIPT
    driver.write_text(DRIVER_TEXT)
    dists = installed_closure(wheel_requirements(wheel))
    pins = tuple(sorted(f"{canonicalize_name(d.metadata['Name'])}=={d.version}" for d in dists))
    # The same pins for installs that do not use the archive (a container image, Databricks libraries).
    (out / REQUIREMENTS).write_text("\n".join(pins) + "\n")
    if not with_deps:
        return Artifacts(out, wheel, py_files, conf_archive, driver, None, pins)
    archive, reused = pack_dependencies(dists, pins, out, python_version=python_version, platform=platform)
    return Artifacts(out, wheel, py_files, conf_archive, driver, archive, pins, reused)


def project_root() -> Path:
    """The source checkout this code runs from (where pyproject.toml is)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise PackagingError(
            f"no pyproject.toml in {root}: `c2c submit` builds the wheel from a source checkout. "
            "Run it from the repository, or pass --wheel with a built c2c_platform wheel."
        )
    return root


def build_wheel(out: Path) -> Path:
    """`pip wheel --no-deps` of a clean copy of the checkout, so the build leaves nothing behind in it."""
    root = project_root()
    with tempfile.TemporaryDirectory(prefix="c2c-wheel-") as tmp:
        src, dist = Path(tmp) / "src", Path(tmp) / "dist"
        src.mkdir()
        for name in PROJECT_SOURCES:
            path = root / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif path.is_file():
                shutil.copyfile(path, src / name)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(dist.glob("c2c_platform-*.whl"))
        if done.returncode != 0 or not wheels:
            raise PackagingError(
                f"building the project wheel failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}\n"
                "pip needs PyPI (or a configured index) for the build backend, setuptools."
            )
        return _adopt_wheel(wheels[0], out)


def _adopt_wheel(wheel: Path, out: Path) -> Path:
    if not wheel.is_file() or not zipfile.is_zipfile(wheel):
        raise PackagingError(f"--wheel {wheel}: not a wheel file")
    target = out / wheel.name
    if wheel.resolve() != target.resolve():
        for old in out.glob("c2c_platform-*.whl"):
            old.unlink()
        shutil.copyfile(wheel, target)
    return target


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The wheel's unconditional Requires-Dist entries (extras such as [dev] left out)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            raise PackagingError(f"{wheel}: no .dist-info/METADATA inside; is it a wheel?")
        meta = Parser().parsestr(zf.read(name).decode())
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return [r for r in reqs if not r.marker or r.marker.evaluate({"extra": ""})]


def installed_closure(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy `requirements`, transitively, minus the cluster's own."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(r, "c2c-platform") for r in requirements]
    while pending:
        req, wanted_by = pending.pop()
        name = canonicalize_name(req.name)
        if name in found or name in PROVIDED_BY_CLUSTER:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise PackagingError(
                f"{req} (required by {wanted_by}) is not installed in {sys.prefix}; install the project "
                "there first (make test does: pip install -e '.[dev]')"
            ) from None
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise PackagingError(
                f"{req.name} {dist.version} is installed but {wanted_by} requires {req}; "
                "reinstall the project's dependencies"
            )
        found[name] = dist
        for line in dist.requires or []:
            sub = Requirement(line)
            if not sub.marker or sub.marker.evaluate({"extra": ""}):
                pending.append((sub, name))
    return [found[k] for k in sorted(found)]


def pack_dependencies(
    dists: list[metadata.Distribution],
    pins: tuple[str, ...],
    out: Path,
    *,
    python_version: str | None = None,
    platform: str | None = None,
) -> tuple[Path, bool]:
    """The dependencies as `c2c_deps-<hash>.tar.gz` in `out`; (path, True) when it was already there."""
    interpreter = python_version or "{}.{}".format(*sys.version_info[:2])
    target = f"cp{interpreter.replace('.', '')}-{platform or sysconfig.get_platform()}"
    digest = hashlib.sha256("\n".join((target, *pins)).encode()).hexdigest()[:12]
    archive = out / f"{DEPS_PREFIX}{digest}.tar.gz"
    if archive.is_file():
        return archive, True
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(f"{DEPS_PREFIX}*.tar.gz"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix=".c2c-deps-", dir=out) as tmp:
        stage = Path(tmp) / DEPS_ALIAS
        stage.mkdir()
        if python_version or platform:
            _pip_install_target(pins, stage, python_version=python_version, platform=platform)
        else:
            for dist in dists:
                _copy_distribution(dist, stage)
        (stage / "C2C_DEPS.txt").write_text(f"# target {target}\n" + "\n".join(pins) + "\n")
        partial = Path(tmp) / archive.name
        # Level 1: most of the bytes are shared libraries; a higher level costs time and saves little.
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            for path in sorted(stage.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(stage)), recursive=False)
        partial.replace(archive)
    return archive, False


def _copy_distribution(dist: metadata.Distribution, stage: Path) -> None:
    """Copy (or hard-link) one installed distribution's files under `stage`, as in site-packages."""
    files = dist.files
    if files is None:
        raise PackagingError(
            f"{dist.metadata['Name']} {dist.version} has no RECORD of its files; reinstall it with pip"
        )
    for rel in files:
        # Scripts and data outside site-packages ('../../bin/...') are not importable; bytecode is rebuilt.
        if rel.parts[0] == ".." or "__pycache__" in rel.parts:
            continue
        src = Path(dist.locate_file(rel))
        if not src.is_file():
            continue
        dst = stage / rel
        if dst.exists():  # a file two distributions install (mlflow and mlflow-skinny share some)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def _pip_install_target(
    pins: tuple[str, ...], stage: Path, *, python_version: str | None, platform: str | None
) -> None:
    """Binary wheels of exactly `pins` for another interpreter or platform, from the package index."""
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:"]
    cmd += ["--target", str(stage), "--implementation", "cp"]
    if python_version:
        cmd += ["--python-version", python_version]
    if platform:
        cmd += ["--platform", platform]
    done = subprocess.run([*cmd, *pins], capture_output=True, text=True)
    if done.returncode != 0:
        raise PackagingError(
            f"pip could not fetch the dependencies for python {python_version or 'current'} on "
            f"{platform or 'this platform'}:\n{done.stderr[-2000:]}"
        )


def pack_conf(conf_dir: Path, out: Path) -> Path:
    """Copy the settings directory to `out/conf` (client mode) and zip it (cluster deploy mode)."""
    if not (conf_dir / "base.yml").is_file():
        raise PackagingError(f"settings directory {conf_dir} has no base.yml")
    copy = out / CONF_ALIAS
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(conf_dir, copy, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    archive = out / CONF_ARCHIVE
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(copy.rglob("*")):
            zf.write(path, str(path.relative_to(copy)))
    return archive
