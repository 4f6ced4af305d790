"""Checkpoints: official 4M safetensors files and the hub layout, loaded strictly, saved atomically."""
