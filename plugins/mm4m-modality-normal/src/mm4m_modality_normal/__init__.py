"""mm4m plugin for tok_normal@224, tok_normal@448: surface normals as tokens of the 8k-codebook DiVAE."""
