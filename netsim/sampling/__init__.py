"""Sampling the inputs in two stages: uniforms (keyed streams, Latin hypercube or
scrambled Sobol'), then the copula's rank correlations and each inverse CDF."""
