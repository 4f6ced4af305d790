"""mm4m plugin for t5_caption: t5-XXL caption embeddings (4096-d vectors), input only."""
