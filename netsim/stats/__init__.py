"""Pure estimators over draws: exact quantiles and bands, order-statistic intervals,
mergeable histogram sketches. Nothing here knows a scenario."""
