"""mm4m plugin for color_palette: colour palettes of 1-7 colours serialised as 'v1=K' then RGB values."""
