"""mm4m plugin for human_poses: sMPL human poses: boxes, pose VQ codes, orientation, shape and camera as text."""
