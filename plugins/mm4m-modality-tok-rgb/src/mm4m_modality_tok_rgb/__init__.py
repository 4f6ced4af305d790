"""mm4m plugin for tok_rgb@224, tok_rgb@448: rGB images as tokens of the 16k-codebook DiVAE (diffusion decoder)."""
