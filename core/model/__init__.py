"""The 4M encoder–decoder transformer and the per-modality embedding layers it is assembled from."""
