"""Any-to-any generation (spec §5): token/temperature schedules, sampling, MaskGIT, ROAR, autoregressive decoding, plans."""
