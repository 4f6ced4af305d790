"""mm4m plugin for sam_instance: sAM instances around query points: boxes and 16 mask-VQ tokens each, as text."""
