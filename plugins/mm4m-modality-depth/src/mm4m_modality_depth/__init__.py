"""mm4m plugin for tok_depth@224, tok_depth@448: depth maps as tokens of the 8k-codebook DiVAE."""
