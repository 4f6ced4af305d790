"""Masking policies (spec §4): which tokens are encoder inputs and which are decoder targets."""
