"""mm4m plugin for tok_clip@224, tok_clip@448: cLIP-B/16 feature maps as tokens of an 8k-codebook ViT VQ-VAE."""
