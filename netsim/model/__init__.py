"""The model: a scenario's calibration, the kernel's arrays, the one output layout,
propagation (the base case and any draws) and its vectorised-numpy oracle."""
