"""Synthetic plates and pixel errors over real frames.

Everything here takes an explicit ``np.random.Generator``; the same functions feed the demo,
the tests and the benchmarks (and, later, training), so results are reproducible from a seed.
"""
