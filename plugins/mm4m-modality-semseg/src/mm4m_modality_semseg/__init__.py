"""mm4m plugin for tok_semseg@224, tok_semseg@448: cOCO semantic segmentation as tokens of the 4k-codebook ViT VQ-VAE."""
