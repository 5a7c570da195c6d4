"""Image data sets, read from local files and downloaded when missing: MNIST (:mod:`~generative.data.mnist`)
and CIFAR-10 (:mod:`~generative.data.cifar10`)."""
