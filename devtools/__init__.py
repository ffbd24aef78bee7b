"""Developer utilities: the product teams' workflow generator, the README's config reference,
and the AWS emulator (moto server on loopback) behind `make up-local` and the emulator tests."""
