"""mm4m plugin for rgb@224, rgb@448: rGB pixels (ImageNet-normalised), fed to the encoder through a linear patch projection."""
