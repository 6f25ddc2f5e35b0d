"""genobench's first-party generator plugins (import name ``genobench_plugins``).

Each model module is registered through an entry point in the ``genobench`` group of this
project's ``pyproject.toml``, exactly as a third party's plugin is, and uses only genobench's
public API; nothing in the core imports them:

- :mod:`.vae`: the seed paper's variational autoencoder (``vae``);
- :mod:`.gan`: its GAN and phenotype-conditioned WGAN-GP with Gumbel-Softmax outputs
  (``gan``, ``wgan_gp``);
- :mod:`.diffusion`: its PCA + DDPM model (``diffusion``);
- :mod:`.coalescent`: the msprime reference row (``msprime``);
- :mod:`.deep`: the torch pieces the three deep modules share (layers, training loop and
  stopping, throughput, checkpoint scores, the generator base class).
"""
