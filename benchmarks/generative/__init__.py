"""Quality of the generative models: MNIST benchmarks of the Improved GAN (``semisup_mnist``), InfoGAN
(``infogan_mnist``) and the IAF-VAE (``iaf_mnist``), and what the world model imagines (``world_model_demo``).
Each is a resumable ``python -m benchmarks.generative.NAME`` command writing under ``benchmarks/results/``."""
