"""mm4m plugin for det: object boxes (COCO classes) serialised to text: v0..v3 coordinates then the class name."""
