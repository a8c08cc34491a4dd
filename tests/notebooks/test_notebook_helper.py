"""lakehouse.notebook: settings for the working directory `c2c run` ran in, whatever the kernel's cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.notebook import TRUE_METRICS_FILE, WORKDIR_VAR, Lake, default_workdir, settings_for
from tests.conftest import ROOT


def test_relative_paths_resolve_in_the_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    monkeypatch.delenv("C2C_ENV", raising=False)
    settings = settings_for(tmp_path)
    assert settings.env == "local"
    assert Path(settings.storage.root) == tmp_path / "var" / "lake"
    assert Path(settings.storage.restricted_root) == tmp_path / "var" / "restricted"
    assert Path(settings.storage.raw_root) == tmp_path / "var" / "raw"
    assert settings.var_dir == tmp_path / "var"
    assert Path.cwd() == ROOT / "notebooks"  # the process's working directory is left alone


def test_workdir_from_the_environment_else_the_repository(tmp_path, monkeypatch):
    monkeypatch.setenv(WORKDIR_VAR, str(tmp_path))
    assert default_workdir() == tmp_path.resolve()
    assert Path(settings_for().storage.root) == tmp_path.resolve() / "var" / "lake"
    monkeypatch.delenv(WORKDIR_VAR)
    assert default_workdir() == ROOT


def test_a_missing_workdir_says_what_to_set(tmp_path):
    with pytest.raises(FileNotFoundError, match=WORKDIR_VAR):
        settings_for(tmp_path / "nowhere")


def test_truth_files_only_on_a_synthetic_state(tmp_path):
    lake = Lake(settings_for(tmp_path), spark=None, storage=None)  # finding files needs neither
    assert lake.truth_file(TRUE_METRICS_FILE) is None and lake.person_truth() is None
    truth = tmp_path / "var" / "raw" / TRUE_METRICS_FILE
    truth.parent.mkdir(parents=True)
    truth.write_text("mart,metric\n")
    assert lake.truth_file(TRUE_METRICS_FILE) == truth
