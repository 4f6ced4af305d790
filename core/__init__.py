"""mm4m.core: the modality-agnostic engine (specs, interfaces, model, masking, generation, training).

Importing this package is cheap: submodules that need torch are imported only when used.
"""
