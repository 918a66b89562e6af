"""Settings: defaults, then the config file, then the environment, then flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logpond.model.errors import InvalidParameterError
from logpond.server.settings import Settings, load_settings

DOCS = Path(__file__).parents[3] / "docs" / "configuration.md"
EXAMPLE = Path(__file__).parents[3] / "examples" / "qualisys.yaml"


def test_defaults() -> None:
    """Without a file or environment, logpond listens on 127.0.0.1:5647 with ./data."""
    settings = load_settings(None, environ={})
    assert (settings.server.host, settings.server.port, settings.server.data_dir) == (
        "127.0.0.1",
        5647,
        Path("data"),
    )
    assert settings.auth.anonymous_role is None


def test_precedence(tmp_path: Path) -> None:
    """A flag beats the environment, which beats the file."""
    config = tmp_path / "c.yaml"
    config.write_text("server:\n  port: 6000\n  host: 0.0.0.0\n  data_dir: /from/file\n")
    settings = load_settings(
        config,
        environ={"LOGPOND_PORT": "7000", "LOGPOND_DATA_DIR": "/from/env"},
        overrides={"server.port": 8000, "server.host": None},
    )
    assert (settings.server.port, settings.server.host, settings.server.data_dir) == (
        8000,
        "0.0.0.0",
        Path("/from/env"),
    )


def test_config_file_from_environment(tmp_path: Path) -> None:
    """LOGPOND_CONFIG names the file when no flag does."""
    config = tmp_path / "c.yaml"
    config.write_text("log_groups:\n  - name: /a\n    retention_days: 30\n")
    assert load_settings(None, environ={"LOGPOND_CONFIG": str(config)}).log_groups[0].name == "/a"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("server:\n  prot: 1\n", "server.prot"),
        ("log_groups:\n  - name: bad name\n", "log_groups.0.name"),
        ("log_groups:\n  - name: /a\n    retention_days: 31\n", "log_groups.0.retention_days"),
        ("auth:\n  anonymous_role: god\n", "auth.anonymous_role"),
        ("- just a list\n", None),
        ("server: [\n", None),
    ],
)
def test_bad_config_names_the_setting(tmp_path: Path, text: str, where: str | None) -> None:
    """A wrong key or value fails with the dotted name of the setting."""
    config = tmp_path / "c.yaml"
    config.write_text(text)
    with pytest.raises(InvalidParameterError) as raised:
        load_settings(config, environ={})
    if where:
        assert raised.value.details["setting"] == where


def test_duplicate_groups_and_half_tls_are_refused(tmp_path: Path) -> None:
    """A group listed twice, or a TLS certificate without a key, is a configuration error."""
    config = tmp_path / "c.yaml"
    config.write_text("log_groups:\n  - name: /a\n  - name: /a\n")
    with pytest.raises(InvalidParameterError):
        load_settings(config, environ={})
    with pytest.raises(InvalidParameterError):
        load_settings(None, environ={"LOGPOND_TLS_CERT": "/x.pem"})


def test_encryption_key_from_file(tmp_path: Path) -> None:
    """The encryption key may come from a file; the environment variable wins."""
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"storage:\n  encryption_key_file: {key_file}\n")
    assert load_settings(config, environ={}).encryption_key == "from-file"
    assert load_settings(config, environ={"LOGPOND_ENCRYPTION_KEY": "env"}).encryption_key == "env"


def test_secrets_are_not_in_the_repr() -> None:
    """Printing settings never shows the encryption key or the root secret."""
    settings = load_settings(
        None, environ={"LOGPOND_ENCRYPTION_KEY": "k3y", "LOGPOND_ROOT_SECRET_ACCESS_KEY": "s3cr3t"}
    )
    assert "k3y" not in repr(settings) and "s3cr3t" not in repr(settings)


def test_example_config_is_valid() -> None:
    """examples/qualisys.yaml loads."""
    settings = load_settings(EXAMPLE, environ={})
    assert [g.retention_days for g in settings.log_groups] == [30, 30, 90, 90]


def _fields(model: type, prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields") and name != "log_groups":
            names.extend(_fields(annotation, f"{prefix}{name}."))
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_setting_is_documented() -> None:
    """docs/configuration.md mentions every setting by its dotted name and env variable."""
    text = DOCS.read_text()
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", text))
    missing = [name for name in _fields(Settings) if "." in name and name not in documented]
    assert missing == []
    for variable in (
        "LOGPOND_DATA_DIR",
        "LOGPOND_HOST",
        "LOGPOND_PORT",
        "LOGPOND_CONFIG",
        "LOGPOND_ENCRYPTION_KEY",
        "LOGPOND_ROOT_ACCESS_KEY_ID",
        "LOGPOND_ROOT_SECRET_ACCESS_KEY",
    ):
        assert variable in text
