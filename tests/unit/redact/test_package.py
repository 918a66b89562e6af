"""The package surface: its public names, and that it imports with the standard library only."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import logpond.redact


def test_exported_names() -> None:
    """``logpond.redact`` exports exactly its public names, each of them defined."""
    assert len(set(logpond.redact.__all__)) == len(logpond.redact.__all__)
    assert set(logpond.redact.__all__) == {
        "CLOUDWATCH_IDENTIFIERS",
        "DEFAULT_DENY_KEYS",
        "DEFAULT_MASKS",
        "DEFAULT_NAME_KEYS",
        "DEFAULT_POLICY",
        "DEFAULT_RULES",
        "MASK_STYLES",
        "PROTECTED_KEYS",
        "RULE_NAMES",
        "CustomIdentifier",
        "Mode",
        "Policy",
        "Redactor",
        "Veto",
        "key_words",
    }
    for name in logpond.redact.__all__:
        assert hasattr(logpond.redact, name), name


def test_imports_and_redacts_without_pyarrow() -> None:
    """With pyarrow unimportable, the package imports and redacts text and records."""
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pyarrow" or name.startswith("pyarrow."):
                    raise ImportError("blocked for the test")
                return None

        sys.meta_path.insert(0, Block())
        from logpond.redact import Redactor
        r = Redactor()
        assert r.redact_text("a@b.io")[0] == "a***@***.io"
        assert r.redact_record({"password": "x"})[0]["password"] == "[REDACTED:secret]"
        assert not any(m == "pyarrow" or m.startswith("pyarrow.") for m in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_only_standard_library_at_import() -> None:
    """Importing ``logpond.redact`` loads no third-party module."""
    script = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        import logpond.redact
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        third_party = sorted(
            m for m in new if m != "logpond" and m not in sys.stdlib_module_names
        )
        print(",".join(third_party))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
