"""Accuracy evaluation: held-out plates, generator defects, peer baselines side by side."""
