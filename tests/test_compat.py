"""``import skmmm`` changes nothing; ``skmmm.configure`` (``skmmm.config``) sets JAX up.

Each test runs a fresh Python process: the XLA device count can only be set
before JAX starts its backend, and a test process has started it long ago.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

DEVICE_FLAG = "--xla_force_host_platform_device_count"

# Printed as the child's last line: what the process looks like now.
REPORT = """
def report(**extra):
    import json, os
    import jax
    from jax._src import xla_bridge
    print(json.dumps({
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "cache_dir": jax.config.jax_compilation_cache_dir,
        "backend_started": bool(xla_bridge._backends),
        "cpu_count": os.cpu_count() or 1,
        **extra,
    }))
"""


def run_python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh process with only the given skmmm/XLA/JAX
    variables set; return the JSON its last line prints."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SKMMM_", "XLA_", "JAX_"))
    }
    environment.update(JAX_PLATFORMS="cpu", **env)
    result = subprocess.run(
        [sys.executable, "-c", REPORT + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_changes_no_setting_and_starts_no_backend(tmp_path):
    state = run_python(
        """
        import importlib, pkgutil
        import jax
        before = {k: repr(v) for k, v in jax.config.values.items()}
        import skmmm
        for module in pkgutil.iter_modules(skmmm.__path__):
            importlib.import_module("skmmm." + module.name)
        after = {k: repr(v) for k, v in jax.config.values.items()}
        report(changed=sorted(k for k in after if before.get(k) != after[k]))
        """,
        SKMMM_COMPILATION_CACHE=str(tmp_path / "cache"),
    )
    assert state["xla_flags"] is None
    assert state["cache_dir"] is None
    assert state["changed"] == []
    assert not state["backend_started"]
    assert not (tmp_path / "cache").exists()


def test_configure_sets_one_device_per_core_and_the_cache(tmp_path):
    cache = tmp_path / "cache"
    state = run_python(
        """
        import os
        import skmmm
        first = skmmm.configure()
        flags = os.environ.get("XLA_FLAGS")
        again = skmmm.configure()
        import jax, jax.numpy as jnp
        jnp.ones(2).block_until_ready()
        report(first=first, again=again, flags_before_again=flags,
               devices=jax.local_device_count())
        """,
        SKMMM_COMPILATION_CACHE=str(cache),
    )
    count = state["cpu_count"]
    expected = f"{DEVICE_FLAG}={count}" if count > 1 else None
    assert state["xla_flags"] == state["flags_before_again"] == expected
    assert state["devices"] == count
    assert state["cache_dir"] == str(cache) and cache.is_dir()
    assert (
        state["first"]
        == state["again"]
        == {
            "host_devices": count,
            "backend_started": False,
            "compilation_cache_dir": str(cache),
        }
    )


def test_environment_variables_choose_or_opt_out(tmp_path):
    opted_out = run_python(
        """
        import skmmm
        info = skmmm.configure()
        import jax
        report(info=info, devices=jax.local_device_count())
        """,
        SKMMM_HOST_DEVICES="1",
        SKMMM_COMPILATION_CACHE="0",
    )
    assert opted_out["xla_flags"] is None
    assert opted_out["cache_dir"] is None
    assert opted_out["devices"] == 1
    assert opted_out["info"] == {
        "host_devices": 1,
        "backend_started": False,
        "compilation_cache_dir": None,
    }
    chosen = run_python(
        """
        from skmmm.config import ensure_configured
        ensure_configured()
        import jax
        report(devices=jax.local_device_count())
        """,
        SKMMM_HOST_DEVICES="3",
        SKMMM_COMPILATION_CACHE="0",
    )
    assert chosen["xla_flags"] == f"{DEVICE_FLAG}=3"
    assert chosen["devices"] == 3


def test_the_users_own_settings_are_kept(tmp_path):
    flags = f"--xla_cpu_enable_fast_math=false {DEVICE_FLAG}=3"
    state = run_python(
        f"""
        import jax
        jax.config.update("jax_compilation_cache_dir", {str(tmp_path / "mine")!r})
        import skmmm
        from skmmm.config import ensure_configured
        ensure_configured()
        info = skmmm.configure()
        report(info=info, devices=jax.local_device_count())
        """,
        XLA_FLAGS=flags,
        SKMMM_HOST_DEVICES="5",
        SKMMM_COMPILATION_CACHE=str(tmp_path / "skmmm"),
    )
    assert state["xla_flags"] == flags
    assert state["devices"] == 3
    assert state["cache_dir"] == str(tmp_path / "mine")
    assert state["info"]["host_devices"] == 3
    assert not (tmp_path / "skmmm").exists()


def test_explicit_arguments_win_and_fits_keep_them(tmp_path):
    state = run_python(
        f"""
        import os
        import skmmm
        from skmmm.config import ensure_configured
        skmmm.configure(host_devices=3, compilation_cache={str(tmp_path / "a")!r})
        ensure_configured()  # what a fit calls: keeps the user's choice
        import jax
        kept = (os.environ["XLA_FLAGS"], jax.config.jax_compilation_cache_dir)
        info = skmmm.configure(host_devices=2, compilation_cache=False)
        report(kept=kept, info=info, devices=jax.local_device_count())
        """,
        SKMMM_HOST_DEVICES="1",
    )
    assert state["kept"] == [f"{DEVICE_FLAG}=3", str(tmp_path / "a")]
    assert state["xla_flags"] == f"{DEVICE_FLAG}=2"
    assert state["devices"] == 2
    assert state["cache_dir"] is None
    assert state["info"]["compilation_cache_dir"] is None


def test_configure_after_a_jax_computation_says_the_devices_are_fixed(tmp_path):
    state = run_python(
        """
        import warnings
        import jax.numpy as jnp
        jnp.ones(2).block_until_ready()
        import skmmm
        info = skmmm.configure()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            skmmm.configure(host_devices=4)
        report(info=info, warnings=[str(w.message) for w in caught])
        """,
        SKMMM_COMPILATION_CACHE=str(tmp_path / "cache"),
    )
    assert state["xla_flags"] is None
    assert state["info"] == {
        "host_devices": 1,
        "backend_started": True,
        "compilation_cache_dir": str(tmp_path / "cache"),
    }
    assert state["cache_dir"] == str(tmp_path / "cache")
    assert len(state["warnings"]) == 1
    assert "after JAX started its backend" in state["warnings"][0]


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "3"])
def test_configure_rejects_a_bad_device_count(value):
    import skmmm

    with pytest.raises(ValueError, match="host_devices must be a positive integer"):
        skmmm.configure(host_devices=value)


def test_a_bad_environment_device_count_is_named(monkeypatch):
    import skmmm

    monkeypatch.setenv("SKMMM_HOST_DEVICES", "many")
    with pytest.raises(ValueError, match="SKMMM_HOST_DEVICES must be a positive"):
        skmmm.configure()
