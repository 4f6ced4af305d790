"""mm4m plugin for tok_imagebind@224: imageBind-H/14 feature maps as tokens of an 8k-codebook ViT VQ-VAE."""
