"""Reference solutions: instructor-side only, never shipped with a release.

Gradient convention (both notebooks): the gradient is of the loss L, the batch's sum of
squared errors, L = sum((y - P)**2), so dL/dP = -2 (y - P). The forward pass reports the
mean squared error, MSE = L / n (n the batch size), which compares across batch sizes.
"""
