"""The GAN of "Improved Techniques for Training GANs" (Salimans et al., 2016) as reusable PyTorch parts.

``layers`` (weight norm, Gaussian noise, minibatch discrimination, virtual batch norm), ``losses`` (K+1
semi-supervised loss, one-sided label smoothing, feature matching, historical averaging), ``models``
(MNIST and CIFAR-10 discriminators/generators), ``semisup`` (the semi-supervised trainer) and ``train``
(the MNIST/CIFAR-10 training command, ``curiosity gan train``); data loaders: :mod:`generative.data`.
"""

from generative.gan.batchnorm import VirtualBatchNorm, vbn_reference
from generative.gan.layers import (
    GaussianNoise,
    MinibatchDiscrimination,
    WeightNormConv2d,
    WeightNormConvTranspose2d,
    WeightNormLinear,
    data_dependent_init,
)
from generative.gan.losses import (
    HistoricalAverage,
    binary_discriminator_loss,
    feature_matching_loss,
    generator_minimax_loss,
    generator_nonsaturating_loss,
    supervised_loss,
    unsupervised_loss,
)
from generative.gan.models import (
    CifarDiscriminator,
    CifarGenerator,
    Discriminator,
    Generator,
    MnistDiscriminator,
    MnistGenerator,
)
from generative.gan.semisup import SemiSupervisedGAN, select_labelled

__all__ = [
    "CifarDiscriminator",
    "CifarGenerator",
    "Discriminator",
    "GaussianNoise",
    "Generator",
    "HistoricalAverage",
    "MinibatchDiscrimination",
    "MnistDiscriminator",
    "MnistGenerator",
    "SemiSupervisedGAN",
    "VirtualBatchNorm",
    "WeightNormConv2d",
    "WeightNormConvTranspose2d",
    "WeightNormLinear",
    "binary_discriminator_loss",
    "data_dependent_init",
    "feature_matching_loss",
    "generator_minimax_loss",
    "generator_nonsaturating_loss",
    "select_labelled",
    "supervised_loss",
    "unsupervised_loss",
    "vbn_reference",
]
