"""InfoGAN (Chen et al. 2016): a GAN whose generator is made to keep latent codes recoverable.

Modules, one job each:

* :mod:`~generative.infogan.latent` -- :class:`LatentSpec` (noise, categorical and continuous codes),
  sampling, traversal grids;
* :mod:`~generative.infogan.mutual_info` -- the mutual-information lower bound L_I as a loss;
* :mod:`~generative.infogan.networks` -- the MNIST generator and discriminator with a shared Q head;
* :mod:`~generative.infogan.model` -- :class:`InfoGAN` tying them together, with :meth:`InfoGAN.encode`;
* :mod:`~generative.infogan.figures` -- latent-traversal PNGs.

Training is :func:`generative.infogan.train.train` (command ``python -m generative.infogan.train``).

References:
    Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative
    Adversarial Nets", NeurIPS 2016 (https://arxiv.org/abs/1606.03657); code: openai/InfoGAN.
"""

from generative.infogan.latent import LatentSample, LatentSpec
from generative.infogan.model import Codes, InfoGAN, to_images
from generative.infogan.mutual_info import MIBound, QOutput, mutual_information_bound, split_q_params
from generative.infogan.networks import DiscriminatorQ, Generator

__all__ = [
    "Codes",
    "DiscriminatorQ",
    "Generator",
    "InfoGAN",
    "LatentSample",
    "LatentSpec",
    "MIBound",
    "QOutput",
    "mutual_information_bound",
    "split_q_params",
    "to_images",
]
