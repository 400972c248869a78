"""Reference solutions: instructor-side only, never shipped with a release.

Gradient convention (both notebooks): the gradient is of the batch's sum of
squared errors, SSE = sum((y - P)**2), so dSSE/dP = -2 (y - P). The forward
pass reports the mean squared error, SSE / N, which compares across batch sizes.
"""
