"""Settings: overlays, environment selection, and errors that name the key and the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakehouse.errors import SettingsError
from lakehouse.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def conf(tmp_path) -> Path:
    target = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", target)
    return target


def test_local_overlay_puts_everything_under_var(conf, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings("local", conf)
    assert s.env == "local"
    assert s.spark.master == "local[*]"
    assert s.storage.root == str(tmp_path / "var" / "lake")
    assert s.storage.restricted_root == str(tmp_path / "var" / "restricted")
    assert s.site_dir == tmp_path / "var" / "site"
    assert s.spark.conf["spark.sql.session.timeZone"] == "UTC"  # from base.yml
    assert s.spark.conf["spark.sql.shuffle.partitions"] == "8"  # from local.yml, a number made a string


def test_environment_comes_from_c2c_env(conf, monkeypatch):
    monkeypatch.setenv("C2C_ENV", "cluster")
    monkeypatch.setenv("C2C_SPARK_MASTER", "spark://head:7077")
    monkeypatch.setenv("C2C_STORAGE_ROOT", "s3a://state-c2c/lake")
    monkeypatch.setenv("C2C_RESTRICTED_ROOT", "s3a://state-c2c-pii/lake")
    monkeypatch.setenv("C2C_RAW_ROOT", "s3a://state-c2c-raw/landing")
    s = load_settings(conf_dir=conf)
    assert (s.env, s.spark.master, s.storage.engine) == ("cluster", "spark://head:7077", "delta-spark")
    assert s.storage.root == "s3a://state-c2c/lake"


def test_missing_environment_variable_names_key_and_file(conf, monkeypatch):
    for var in ("C2C_SPARK_MASTER", "C2C_STORAGE_ROOT", "C2C_RESTRICTED_ROOT", "C2C_RAW_ROOT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(
        SettingsError, match=r"cluster\.yml: spark\.master: environment variable C2C_SPARK_MASTER"
    ):
        load_settings("cluster", conf)


def test_unknown_key_names_key_and_file(conf):
    (conf / "local.yml").write_text((conf / "local.yml").read_text() + "\nstorage:\n  rooot: /x\n")
    with pytest.raises(SettingsError, match=r"local\.yml: unknown key 'storage\.rooot'"):
        load_settings("local", conf)


def test_unknown_top_level_key(conf):
    (conf / "base.yml").write_text((conf / "base.yml").read_text() + "\nsparks: {}\n")
    with pytest.raises(SettingsError, match=r"base\.yml: unknown key 'sparks'"):
        load_settings("local", conf)


def test_bad_value_names_key_and_the_file_that_set_it(conf):
    text = (conf / "base.yml").read_text().replace("engine: auto", "engine: parquet")
    (conf / "base.yml").write_text(text)
    with pytest.raises(SettingsError, match=r"base\.yml: storage\.engine: Input should be 'auto'"):
        load_settings("local", conf)
    (conf / "local.yml").write_text(
        (conf / "local.yml").read_text() + "\n  compact_target_mb: -1\n".replace("\n  ", "\nstorage:\n  ", 1)
    )
    with pytest.raises(SettingsError, match=r"local\.yml: storage\.compact_target_mb"):
        load_settings("local", conf)


def test_unknown_environment_lists_the_known_ones(conf):
    with pytest.raises(SettingsError, match=r"unknown environment 'prod'.*available: cluster, local"):
        load_settings("prod", conf)


def test_invalid_yaml(conf):
    (conf / "local.yml").write_text("spark: [unclosed\n")
    with pytest.raises(SettingsError, match=r"local\.yml: not valid YAML"):
        load_settings("local", conf)


@pytest.mark.parametrize(
    ("restricted", "raw", "complaint"),
    [
        ("lake", "raw", "storage.restricted_root .* is the public storage.root"),
        ("lake/restricted", "raw", "storage.restricted_root .* lies inside it"),
        ("restricted", "lake/raw", "storage.raw_root .* lies inside it"),
        ("restricted", "restricted/raw", None),  # raw extracts inside the restricted zone are fine
        ("raw/restricted", "raw", "storage.restricted_root .* lies inside it: every file under the raw"),
        ("raw", "raw", "storage.restricted_root .* is the raw root"),
        ("file://{tmp}/lake/r", "raw", "storage.restricted_root .* lies inside it"),
    ],
)
def test_restricted_data_never_lives_inside_the_public_root(conf, tmp_path, restricted, raw, complaint):
    overrides = {
        "storage": {
            "root": str(tmp_path / "lake"),
            "restricted_root": restricted.format(tmp=tmp_path)
            if "://" in restricted
            else str(tmp_path / restricted),
            "raw_root": str(tmp_path / raw),
        }
    }
    if complaint is None:
        assert load_settings("local", conf, overrides=overrides).storage.raw_root == str(tmp_path / raw)
        return
    with pytest.raises(SettingsError, match=complaint):
        load_settings("local", conf, overrides=overrides)


def test_the_public_root_cannot_lie_inside_the_restricted_zone(conf, tmp_path):
    overrides = {"storage": {"root": str(tmp_path / "r" / "lake"), "restricted_root": str(tmp_path / "r")}}
    with pytest.raises(SettingsError, match="storage.root .* lies inside storage.restricted_root"):
        load_settings("local", conf, overrides=overrides)


def test_raw_after_landing_is_keep_locally_and_move_on_a_cluster(conf, monkeypatch):
    for name in ("C2C_SPARK_MASTER", "C2C_STORAGE_ROOT", "C2C_RESTRICTED_ROOT", "C2C_RAW_ROOT"):
        monkeypatch.setenv(name, f"s3a://bucket-{name.lower()}/x")
    assert load_settings("local", conf).raw.after_landing == "keep"
    assert load_settings("cluster", conf).raw.after_landing == "move"
    with pytest.raises(SettingsError, match="raw.after_landing"):
        load_settings("local", conf, overrides={"raw": {"after_landing": "shred"}})


def test_the_site_folder_is_a_setting_and_stays_out_of_restricted_data(conf, tmp_path, monkeypatch):
    """paths.site (C2C_SITE_DIR on a cluster) puts the public dashboard where a web server serves it;
    unset, it is <var>/site. A site that overlaps the restricted zone or the raw root is refused."""
    for name in ("C2C_SPARK_MASTER", "C2C_STORAGE_ROOT", "C2C_RESTRICTED_ROOT", "C2C_RAW_ROOT"):
        monkeypatch.setenv(name, f"s3a://bucket-{name.lower()}/x")
    monkeypatch.setenv("C2C_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("C2C_SITE_DIR", raising=False)
    assert load_settings("cluster", conf).site_dir == tmp_path / "var" / "site"
    monkeypatch.setenv("C2C_SITE_DIR", str(tmp_path / "www" / "c2c"))
    assert load_settings("cluster", conf).site_dir == tmp_path / "www" / "c2c"
    monkeypatch.chdir(tmp_path)
    assert (
        load_settings("local", conf, overrides={"paths": {"site": "public"}}).site_dir == tmp_path / "public"
    )
    for inside in ("var/restricted/site", "var/raw/site", "var"):
        with pytest.raises(SettingsError, match=r"paths.site .* overlap: the site is public"):
            load_settings("local", conf, overrides={"paths": {"site": inside}})
