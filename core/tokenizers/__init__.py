"""Tokenizers for every modality family: text, structured serialisers, VQ-VAE, Memcodes, DiVAE."""
