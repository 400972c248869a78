"""Chapter 3, Deep Learning from Scratch: the hidden tests, reference classes and mistake catalogue."""
