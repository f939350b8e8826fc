"""Analyses of runs and scenarios: bands of any run, sensitivity (tornado, rank
correlations, Sobol, attribution), scenario comparison on common random numbers."""
