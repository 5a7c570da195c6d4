"""The VAE with inverse autoregressive flow (Kingma et al., 2016) and its training.

* :mod:`~generative.iaf.made` -- MADE with context, the autoregressive network of each IAF step;
* :mod:`~generative.iaf.posterior` -- the diagonal and IAF posteriors, the KL terms with free bits;
* :mod:`~generative.iaf.vae` -- :class:`IAFVAE`: conv encoder and decoder, the ELBO, IWAE log p(x);
* :mod:`~generative.iaf.train` -- the MNIST training command (``curiosity vae train``).
"""
