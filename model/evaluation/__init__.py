"""Scoring drawings and captions (score.py), the evaluations built on it, and their commands."""
