"""Places: the camera stations and the areas they make up (which area a point is in)."""
