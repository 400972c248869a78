"""Chapter 1, Foundations: the hidden tests, reference solutions and mistake catalogue."""
