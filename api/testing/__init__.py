"""mm4m.testing: hypothesis strategies and invariant checkers for modalities and masking policies."""
