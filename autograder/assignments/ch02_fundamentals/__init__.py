"""Chapter 2, Fundamentals: the hidden tests, reference solutions and mistake catalogue."""
