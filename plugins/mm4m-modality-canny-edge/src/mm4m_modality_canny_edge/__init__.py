"""mm4m plugin for tok_canny_edge@224: canny edges as tokens of the 8k-codebook edge DiVAE."""
