"""Scenario documents: TOML files with overlays and ``--set`` overrides, read into
frozen, validated objects. :mod:`~netsim.scenario.parse` reads a document, with
:mod:`~netsim.scenario.parts` (regions, countries, axes, targets),
:mod:`~netsim.scenario.factors` (timelines, geographies, drivers, events) and
:mod:`~netsim.scenario.funnel` (the patient funnel); they are the only readers of raw
dicts. :mod:`~netsim.scenario.limits` holds the bounds every figure keeps, and
:mod:`~netsim.scenario.limit_checks` checks a parsed scenario against them."""
