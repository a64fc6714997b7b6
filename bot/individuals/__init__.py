"""Individual leopards: the catalogue of known animals, coat-pattern matching, and the coordinators' decisions."""
