"""mm4m plugin for tok_sam_edge@224: sAM instance edges as tokens of the 8k-codebook edge DiVAE."""
