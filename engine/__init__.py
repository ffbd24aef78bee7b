"""The engine stand-in: Pulumi SDK mocks that record resources, the program runner, and a client
that runs a policy pack over the analyzer protocol as the Pulumi CLI does."""
