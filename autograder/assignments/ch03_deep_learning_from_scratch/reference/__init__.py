"""Reference solutions for Chapter 3: instructor-side only, never shipped with a release.

classes.py holds the graded classes (and the given Dense), built on the kit's framework
(coursekit/framework.py); training.py runs the book's protocol and its corrections.

Convention (the book's, Weidman 2019, ch. 3): the loss is the mean squared error over the batch,
L = sum((P - y)**2) / n with n the batch size, so dL/dP = 2 (P - y) / n. Chapter 2 differentiated the
sum of squared errors instead: the two gradients differ by the factor n.
"""
