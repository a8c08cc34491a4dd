"""The restricted root and raw extracts on disk: private folders, and `raw.after_landing`."""

from __future__ import annotations

import stat

from lakehouse.privacy.zones import LANDED_DIR, prepare_restricted_zone, retire_landed
from tests.conftest import make_settings

FILES = ("edd/DE9C_2024Q1.csv", "calpads/SINF_2024.txt")


def raw_state(tmp_path):
    raw = tmp_path / "raw"
    for name in FILES:
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text(f"header\n{name}\n")
    return raw


def settings_with(tmp_path, policy: str, **storage):
    settings = make_settings(tmp_path, **storage)
    return settings.model_copy(update={"raw": settings.raw.model_copy(update={"after_landing": policy})})


def test_keep_leaves_the_extracts_where_they_are(spark, tmp_path):
    raw = raw_state(tmp_path)
    report = retire_landed(spark, settings_with(tmp_path, "keep"), list(FILES), load_id="L1")
    assert report == {"policy": "keep", "files": 0}
    assert sorted(str(p.relative_to(raw)) for p in raw.rglob("*.*")) == sorted(FILES)


def test_move_puts_landed_extracts_behind_the_restricted_zone(spark, tmp_path):
    raw = raw_state(tmp_path)
    (raw / "edd" / "DE9C_2024Q2.csv").write_text("not landed yet\n")
    settings = settings_with(tmp_path, "move")
    report = retire_landed(spark, settings, list(FILES), load_id="L1")
    target = tmp_path / "restricted" / LANDED_DIR / "L1"
    assert report == {"policy": "move", "files": 2, "to": str(target)}
    assert sorted(str(p.relative_to(raw)) for p in raw.rglob("*.*")) == ["edd/DE9C_2024Q2.csv"]
    for name in FILES:
        assert (target / name).read_text() == f"header\n{name}\n"
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o600
        assert stat.S_IMODE((target / name).parent.stat().st_mode) == 0o700
    # Files gone since the run listed them are passed over, not counted, not an error.
    assert retire_landed(spark, settings, list(FILES), load_id="L1")["files"] == 0


def test_delete_removes_landed_extracts_only(spark, tmp_path):
    raw = raw_state(tmp_path)
    (raw / "edd" / "DE9C_2024Q2.csv").write_text("not landed yet\n")
    retire_landed(spark, settings_with(tmp_path, "delete"), [FILES[0]], load_id="L1")
    assert sorted(str(p.relative_to(raw)) for p in raw.rglob("*.*")) == [
        "calpads/SINF_2024.txt",
        "edd/DE9C_2024Q2.csv",
    ]
    assert not (tmp_path / "restricted" / LANDED_DIR).exists()


def test_move_through_hadoop_filesystems_for_uris(spark, tmp_path):
    """Object stores (s3a://, abfss://) go through Hadoop's filesystems; file:// URIs take that path."""
    raw = raw_state(tmp_path)
    settings = settings_with(
        tmp_path, "move", raw_root=f"file://{raw}", restricted_root=f"file://{tmp_path / 'restricted'}"
    )
    retire_landed(spark, settings, list(FILES), load_id="L2")
    assert not any(raw.rglob("*.*"))
    target = tmp_path / "restricted" / LANDED_DIR / "L2"
    assert sorted(
        str(p.relative_to(target)) for p in target.rglob("*.*") if not p.name.endswith(".crc")
    ) == sorted(FILES)


def test_the_restricted_root_is_made_private(tmp_path):
    root = tmp_path / "restricted"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    prepare_restricted_zone(make_settings(tmp_path))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    fresh = tmp_path / "other" / "zone"
    prepare_restricted_zone(make_settings(tmp_path, restricted_root=str(fresh)))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
