"""mm4m plugin for tok_dinov2@224: dINOv2-B/14 feature maps as tokens of an 8k-codebook ViT VQ-VAE."""
