"""mm4m plugin for metadata: image metadata (sizes, counts, colourfulness, ...) as 'v1=<type> v0=<value>' pairs."""
