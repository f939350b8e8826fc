"""Scenario documents: TOML files with overlays and ``--set`` overrides, read into
frozen, validated objects (:mod:`~netsim.scenario.parse` is the only reader of raw dicts)."""
